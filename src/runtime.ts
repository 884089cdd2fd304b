import type { Redis } from 'ioredis';
import { pino } from 'pino';
import type { Config } from './config/config.ts';
import { redisFromUrl } from './config/redis-client.ts';
import { systemClock, type Clock, type GitOpsRepository } from './core/ports.ts';
import { buildTargetIndex, type TargetIndex } from './core/targets.ts';
import { createAuditStore, type AuditStore } from './audit/store.ts';
import { createGitHubRepository, createOctokit, type CreateOctokitOptions } from './github/index.ts';
import { createSlackNotifier, noopNotifier, type Notifier } from './notify/slack.ts';
import { createSlackBotNotifier } from './notify/slack-bot.ts';
import { loggerOptions, type Logger } from './observability/logger.ts';
import { createMetrics, type Metrics } from './observability/metrics.ts';
import { createPolicyEngine, type ReloadablePolicyEngine } from './policy/engine.ts';
import { createRemediationQueue, remediateJobKeyPrefix, type RemediationQueue } from './queue/queue.ts';

/** Everything a process role needs, built once from the config (the composition root's parts). */
export interface Runtime {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  targets: TargetIndex;
  clock: Clock;
  /** fail-fast client for the HTTP path: commands error at once when Redis is down (→ 503) */
  redis: Redis;
  store: AuditStore;
  queue: RemediationQueue;
  policy: ReloadablePolicyEngine;
  repo: GitOpsRepository;
  notifier: Notifier;
  closeOnResolve(): boolean;
  verifyAfterSeconds(): number;
  close(): Promise<void>;
}

export interface RuntimeOverrides {
  clock?: Clock;
  logger?: Logger;
  notifier?: Notifier;
  /** Octokit tuning (the demo and tests turn off write spacing and retries against the emulator) */
  octokit?: Pick<CreateOctokitOptions, 'retries' | 'retryAfterBaseMs' | 'spaceWrites' | 'timeoutMs'>;
}

export function redisClient(url: string, opts: { failFast: boolean }): Redis {
  return redisFromUrl(url, {
    // BullMQ workers need null here; the HTTP side wants one quick failure instead of a hang
    maxRetriesPerRequest: opts.failFast ? 1 : null,
    enableOfflineQueue: !opts.failFast,
    connectTimeout: 2_000,
    ...(opts.failFast ? { commandTimeout: 3_000 } : {}),
    retryStrategy: (n) => Math.min(n * 200, 2_000),
  });
}

export async function createRuntime(config: Config, overrides: RuntimeOverrides = {}): Promise<Runtime> {
  const logger: Logger = overrides.logger ?? (pino(loggerOptions(config.logLevel)) as unknown as Logger);
  const redis = redisClient(config.redis.url, { failFast: true });
  redis.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
  if (!(await waitReady(redis, 5_000)))
    logger.warn({}, 'redis not reachable yet; the webhook answers 503 until it is');
  const queue = createRemediationQueue({ connection: redis, prefix: config.redis.prefix });
  const metrics = createMetrics({
    queueCounts: () => queue.counts(),
    targets: config.targets.map((t) => t.name),
  });
  const policy = await createPolicyEngine({
    wasmPath: config.policy.wasm,
    dataPath: config.policy.data,
    logger: logger.child({ component: 'policy' }),
    metrics,
    watch: true,
  }).catch(async (err: unknown) => {
    // An open Redis connection would keep a process that cannot serve alive forever.
    await queue.close().catch(() => {});
    redis.disconnect();
    throw err;
  });
  const store = createAuditStore({
    redis,
    prefix: config.redis.prefix,
    remediateJobKeyPrefix: remediateJobKeyPrefix(config.redis.prefix),
  });
  const octokit = createOctokit({
    baseUrl: config.github.apiUrl,
    auth: config.github.auth,
    logger: logger.child({ component: 'github' }),
    metrics,
    ...overrides.octokit,
  });
  return {
    config,
    logger,
    metrics,
    targets: buildTargetIndex(config.targets),
    clock: overrides.clock ?? systemClock,
    redis,
    store,
    queue,
    policy,
    repo: createGitHubRepository({ octokit, logger: logger.child({ component: 'github' }) }),
    notifier: overrides.notifier ?? notifierFor(config, store, overrides.clock ?? systemClock),
    closeOnResolve: () => closeOnResolveOf(policy.data()),
    verifyAfterSeconds: () => verifyAfterOf(policy.data()),
    async close() {
      await queue.close().catch(() => {});
      await policy.close();
      redis.disconnect();
    },
  };
}

/** Bot token + channel: one message per remediation, its place kept on the audit record; else the webhook. */
function notifierFor(config: Config, store: AuditStore, clock: Clock): Notifier {
  const { botToken, channel, apiUrl } = config.slack;
  if (botToken && channel) {
    return createSlackBotNotifier({
      token: botToken,
      channel,
      apiUrl,
      threads: {
        get: async (id) => (await store.get(id))?.slack ?? null,
        save: (id, thread) => store.update(id, { slack: thread }, clock.now()),
      },
    });
  }
  return config.slackWebhookUrl ? createSlackNotifier(config.slackWebhookUrl) : noopNotifier;
}

/**
 * closeOnResolve lives in the policy data so one file holds every rollback switch. Read from the data
 * the engine has in force (edits apply on reload), never from the file: a broken edit must not flip it.
 */
export function closeOnResolveOf(data: unknown): boolean {
  return (data as { rewind?: { closeOnResolve?: unknown } } | null)?.rewind?.closeOnResolve !== false;
}

/**
 * verifyAfter (policy data, default 15m): how long after a merge a still-firing alert means the
 * rollback did not heal. "90s", "15m", "1h" or a number of seconds; anything else is the default.
 */
export function verifyAfterOf(data: unknown): number {
  const v = (data as { rewind?: { verifyAfter?: unknown } } | null)?.rewind?.verifyAfter;
  if (typeof v === 'number' && Number.isFinite(v) && v > 0) return v;
  const m = typeof v === 'string' ? /^(\d+(?:\.\d+)?)(s|m|h)$/.exec(v) : null;
  if (!m) return 15 * 60;
  return Number(m[1]) * { s: 1, m: 60, h: 3600 }[m[2] as 's' | 'm' | 'h'];
}

/** Give the first connection a moment, so the first webhook after start is not a needless 503. */
async function waitReady(redis: Redis, ms: number): Promise<boolean> {
  if (redis.status === 'ready') return true;
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      clearTimeout(timer);
      redis.off('ready', onReady);
      resolve(ok);
    };
    const onReady = () => done(true);
    const timer = setTimeout(() => done(false), ms);
    redis.on('ready', onReady);
  });
}
