import { pino } from 'pino';
import { buildConfig, type Env } from '../../src/config/config.ts';
import type { Clock } from '../../src/core/ports.ts';
import type { Notifier, RemediationEvent } from '../../src/notify/slack.ts';
import type { Logger } from '../../src/observability/logger.ts';
import { startRole, type Role } from '../../src/server.ts';
import type { RemediationRecord } from '../../src/audit/types.ts';
import { TERMINAL_STATES } from '../../src/audit/types.ts';
import { REDIS_URL, dropPrefix, testRedis, uniquePrefix } from './redis.ts';
import { TOKEN } from './app.ts';

export function configYaml(opts: { prefix: string; targets: string }): string {
  return `github:
  author: { name: rewind-bot, email: rewind-bot@users.noreply.github.com }
redis:
  prefix: "${opts.prefix}"
policy:
  wasm: policies/build/policy.wasm
  data: policies/data.json
targets:
${opts.targets}`;
}

export const CHECKOUT_TARGET = `  - name: checkout-prod
    match: { service: checkout, env: test }
    repo: acme/gitops
    branch: main
    path: apps/checkout/overlays/prod/kustomization.yaml
    image: registry.example.com/acme/checkout
    environment: prod
    reviewers: [octocat]
`;

/**
 * The real service (same composition as `rewind serve`) against the GitHub
 * emulator and a real Redis under a unique prefix.
 */
export async function startStack(opts: {
  githubUrl: string;
  targets?: string;
  clock?: Clock;
  env?: Env;
  role?: Role;
  policyData?: string;
  /** read the targets' history into the cache at worker start (off: tests count and fault GitHub requests) */
  warmHistory?: boolean;
  /** YAML appended at the top level of the config (e.g. a `slack:` block) */
  extraConfig?: string;
  /** where the service logs (default: silent unless TEST_LOG_LEVEL) */
  logger?: Logger;
  /** use the notifier the config selects (Slack bot or webhook) instead of capturing events */
  configNotifier?: boolean;
  /** how often a PR in auto_merge is looked at */
  watchIntervalMs?: number;
  /** between two reads of an Argo CD Application (default 50 ms) */
  verifyPollMs?: number;
  /** BullMQ's job lock and stalled check (tests that kill a worker shorten them) */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
}) {
  const prefix = uniquePrefix('stack');
  const env: Env = {
    GITHUB_API_URL: opts.githubUrl,
    GITHUB_TOKEN: 'test-token',
    REDIS_URL,
    REWIND_WEBHOOK_TOKEN: TOKEN,
    LOG_LEVEL: 'silent',
    ...opts.env,
  };
  let yaml = configYaml({ prefix, targets: opts.targets ?? CHECKOUT_TARGET });
  if (opts.extraConfig) yaml = `${opts.extraConfig}\n${yaml}`;
  if (opts.policyData) yaml = yaml.replace('data: policies/data.json', `data: ${opts.policyData}`);
  const config = buildConfig(yaml, 'test-config.yaml', env);
  const events: RemediationEvent[] = [];
  const notifier: Notifier = { notify: async (e) => void events.push(e) };
  const logger =
    opts.logger ?? (pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }) as unknown as Logger);
  const started = await startRole(opts.role ?? 'serve', config, {
    ...(opts.clock ? { clock: opts.clock } : {}),
    logger,
    ...(opts.configNotifier ? {} : { notifier }),
    octokit: { spaceWrites: false, retries: 0, retryAfterBaseMs: 1 },
    backoffBaseMs: 20,
    httpLogger: false,
    ...(opts.watchIntervalMs !== undefined ? { watchIntervalMs: opts.watchIntervalMs } : {}),
    verifyPollMs: opts.verifyPollMs ?? 50,
    ...(opts.lockDurationMs !== undefined ? { lockDurationMs: opts.lockDurationMs } : {}),
    ...(opts.stalledIntervalMs !== undefined ? { stalledIntervalMs: opts.stalledIntervalMs } : {}),
  });
  if (opts.warmHistory === true) started.warmHistory();
  const admin = testRedis();
  return {
    ...started,
    config,
    events,
    prefix,
    /** poll the audit record until it reaches a terminal state (or `state`) */
    async waitFor(id: string, state?: string, timeoutMs = 10_000): Promise<RemediationRecord> {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const rec = await started.runtime.store.get(id);
        if (rec && (state ? rec.state === state : TERMINAL_STATES.has(rec.state))) return rec;
        if (Date.now() > until)
          throw new Error(`remediation ${id} still ${rec?.state ?? 'missing'} after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    /**
     * Waits until BullMQ has finished a job. The audit record turns terminal a moment before the
     * Slack notification is sent and before BullMQ books the attempt, so assertions on those wait for this.
     */
    async jobFinished(jobId: string, timeoutMs = 10_000): Promise<'completed' | 'failed'> {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const job = await started.runtime.queue.queue.getJob(jobId);
        const state = job ? await job.getState() : 'missing';
        if (state === 'completed' || state === 'failed') return state;
        if (Date.now() > until) throw new Error(`job ${jobId} still ${state} after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    /** The remediation's final record, once its job has finished. */
    async settled(id: string, timeoutMs = 10_000): Promise<RemediationRecord> {
      await this.waitFor(id, undefined, timeoutMs);
      await this.jobFinished(`remediate-${id}`, timeoutMs);
      const rec = await started.runtime.store.get(id);
      if (!rec) throw new Error(`remediation ${id} vanished`);
      return rec;
    },
    async stop() {
      await started.close();
      await dropPrefix(admin, prefix);
      admin.disconnect();
    },
  };
}
