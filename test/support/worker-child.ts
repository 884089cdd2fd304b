import { spawn, type ChildProcess } from 'node:child_process';
import { pino } from 'pino';
import type { Clock } from '../../src/core/ports.ts';
import type { RemediationEvent } from '../../src/notify/slack.ts';
import type { Logger } from '../../src/observability/logger.ts';
import { startRole } from '../../src/server.ts';
import { TOKEN } from './app.ts';
import type { GitHubEmulator } from './github-emulator.ts';
import { REDIS_URL } from './redis.ts';
import { CHECKOUT_TARGET, configYaml, type startStack } from './stack.ts';

type Stack = Awaited<ReturnType<typeof startStack>>;

/**
 * A worker as a real child process (test/support/worker-process.ts) on the stack's Redis prefix, to be
 * killed with SIGKILL; `output()` is what it printed (WORKER READY, EVENT lines). `env` adds switches.
 */
export function spawnWorker(
  stack: Stack,
  gh: GitHubEmulator,
  opts: { now: string; env?: Record<string, string> },
): { child: ChildProcess; output: () => string } {
  let output = '';
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/worker-process.ts'], {
    env: {
      ...process.env,
      REWIND_TEST_CONFIG: configYaml({ prefix: stack.prefix, targets: CHECKOUT_TARGET }),
      REWIND_TEST_CLOCK: opts.now,
      REDIS_URL,
      GITHUB_API_URL: gh.url,
      GITHUB_TOKEN: 'test-token',
      REWIND_WEBHOOK_TOKEN: TOKEN,
      LOG_LEVEL: 'silent',
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (d) => (output += String(d)));
  child.stderr?.on('data', (d) => (output += String(d)));
  return { child, output: () => output };
}

/** An in-process worker that takes over from a killed one: its Slack messages land in `events`. */
export function startSurvivor(
  stack: Stack,
  events: RemediationEvent[],
  opts: { clock: Clock; lockDurationMs: number; stalledIntervalMs: number },
) {
  return startRole('worker', stack.config, {
    clock: opts.clock,
    logger: pino({ level: 'silent' }) as unknown as Logger,
    notifier: { notify: async (e) => void events.push(e) },
    octokit: { spaceWrites: false, retries: 0, retryAfterBaseMs: 1 },
    backoffBaseMs: 20,
    httpLogger: false,
    lockDurationMs: opts.lockDurationMs,
    stalledIntervalMs: opts.stalledIntervalMs,
  });
}
