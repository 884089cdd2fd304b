/**
 * A rewind worker as a real child process for crash tests: the config comes
 * as YAML in REWIND_TEST_CONFIG, Slack events are printed as `EVENT <json>`
 * lines, and BullMQ's lock is short so a survivor takes a killed worker's job
 * over quickly.
 */
import { pino } from 'pino';
import { buildConfig } from '../../src/config/config.ts';
import type { Logger } from '../../src/observability/logger.ts';
import { startRole } from '../../src/server.ts';

const config = buildConfig(process.env.REWIND_TEST_CONFIG ?? '', 'child-config.yaml', process.env);
const started = await startRole('worker', config, {
  logger: pino({ level: 'silent' }) as unknown as Logger,
  notifier: {
    notify: async (e) => {
      // REWIND_TEST_HANG_NOTIFY: Slack never answers, so a test can kill the worker inside a transition's effects
      if (process.env.REWIND_TEST_HANG_NOTIFY) {
        process.stdout.write(`NOTIFYING ${e.kind}\n`);
        return new Promise<void>(() => {});
      }
      process.stdout.write(`EVENT ${JSON.stringify(e)}\n`);
    },
  },
  octokit: { spaceWrites: false, retries: 0, retryAfterBaseMs: 1 },
  backoffBaseMs: 20,
  httpLogger: false,
  lockDurationMs: 1_000,
  stalledIntervalMs: 500,
  ...(process.env.REWIND_TEST_CLOCK
    ? { clock: { now: () => new Date(process.env.REWIND_TEST_CLOCK ?? '') } }
    : {}),
});
process.stdout.write('WORKER READY\n');
process.on('SIGTERM', () => {
  void started.close().then(() => process.exit(0));
});
