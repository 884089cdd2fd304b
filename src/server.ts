import type { Config } from './config/config.ts';
import { checkConfigFiles } from './config/config.ts';
import { RewindError, errorMessage } from './core/errors.ts';
import { createRedisHistoryCache } from './history/redis-cache.ts';
import { readHistory } from './remediation/decide.ts';
import { buildApp } from './http/app.ts';
import { loggerOptions } from './observability/logger.ts';
import { createProcessor } from './queue/processor.ts';
import { createArgoCdClient } from './argocd/client.ts';
import { createVerdictIndex } from './audit/verdicts.ts';
import { createFluxReceiverCaller } from './flux/receiver.ts';
import { createVerifier, type Verifier } from './remediation/verify.ts';
import { createReleaser } from './remediation/release.ts';
import { createFluxEventHandler } from './remediation/flux-events.ts';
import { createQueueWorker } from './queue/worker.ts';
import { createRuntime, redisClient, type Runtime, type RuntimeOverrides } from './runtime.ts';

export type Role = 'serve' | 'api' | 'worker';

export interface StartOverrides extends RuntimeOverrides {
  /** shorter queue backoff (tests, demo) */
  backoffBaseMs?: number;
  /** how often a PR in auto_merge is looked at (default 30 s; tests shorten it) */
  watchIntervalMs?: number;
  /** BullMQ lock and stalled check (tests recovering a killed worker shorten them) */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  /** Fastify logger; default pino with rewind's redaction */
  httpLogger?: boolean;
  /** runs last on close (the tracing provider's flush) */
  onClose?: () => Promise<void>;
  /** between two reads of an Argo CD Application while verifying (default 5 s) */
  verifyPollMs?: number;
}

/** Build every part of a role; nothing listens yet. The same path for `rewind serve`, the demo and e2e tests. */
export async function startRole(role: Role, config: Config, overrides: StartOverrides = {}) {
  checkConfigFiles(config);
  const withApi = role !== 'worker';
  if (withApi && !config.server.webhookToken) {
    throw new RewindError(
      'config_invalid',
      'environment: REWIND_WEBHOOK_TOKEN is not set; the webhook refuses unauthenticated alerts',
    );
  }
  if (role !== 'api' && config.github.auth.kind === 'none' && !config.dryRun) {
    throw new RewindError(
      'config_invalid',
      'environment: set GITHUB_TOKEN or the GITHUB_APP_* variables (or REWIND_DRY_RUN=true)',
    );
  }
  const rt = await createRuntime(config, overrides);
  const verdicts = createVerdictIndex({ redis: rt.redis, prefix: config.redis.prefix });
  const verifier = createVerifier({
    store: rt.store,
    verdicts,
    targets: rt.targets,
    argocd:
      config.argocd.url && config.argocd.token
        ? createArgoCdClient({ url: config.argocd.url, token: config.argocd.token })
        : null,
    flux: createFluxReceiverCaller({ secret: config.fluxReceiverSecret }),
    notifier: rt.notifier,
    metrics: rt.metrics,
    clock: rt.clock,
    logger: rt.logger.child({ component: 'verify' }),
    enqueue: (data) => rt.queue.enqueue(data),
    argocdUrl: config.argocd.url,
    ...(overrides.verifyPollMs !== undefined ? { pollMs: overrides.verifyPollMs } : {}),
  });
  const worker = role === 'api' ? null : startWorker(rt, verifier, overrides);
  const app = await buildApp({
    targets: rt.targets,
    store: rt.store,
    queue: rt.queue,
    metrics: rt.metrics,
    clock: rt.clock,
    dryRun: config.dryRun,
    webhookToken: config.server.webhookToken ?? '',
    routes: withApi ? 'all' : 'ops',
    bodyLimit: config.server.bodyLimit,
    timeouts: {
      connectionTimeout: config.server.connectionTimeout,
      requestTimeout: config.server.requestTimeout,
      keepAliveTimeout: config.server.keepAliveTimeout,
    },
    checks: {
      redis: async () => (await rt.redis.ping()) === 'PONG',
      policy: () => rt.policy.isReady(),
    },
    logger: overrides.httpLogger === false ? false : loggerOptions(config.logLevel),
    targetsView: createReleaser({
      repo: rt.repo,
      targets: rt.targets,
      store: rt.store,
      author: config.github.author,
    }),
    fluxEvents: createFluxEventHandler({
      store: rt.store,
      verdicts,
      verifier,
      metrics: rt.metrics,
      clock: rt.clock,
    }),
  });
  return {
    app,
    runtime: rt,
    worker,
    /** Warm the history cache (worker roles); call once serving, so a failed start never waits on GitHub. */
    warmHistory: (): void => void worker?.warmHistory(),
    async close() {
      await app.close();
      await worker?.close();
      await rt.close();
      await overrides.onClose?.().catch(() => {});
    },
  };
}

function startWorker(rt: Runtime, verifier: Verifier, overrides: StartOverrides) {
  const { backoffBaseMs, watchIntervalMs, lockDurationMs, stalledIntervalMs } = overrides;
  const { config } = rt;
  const log = rt.logger.child({ component: 'worker' });
  const connection = redisClient(config.redis.url, { failFast: false });
  const historyCache = createRedisHistoryCache({ redis: rt.redis, prefix: config.redis.prefix });
  let closing = false;
  /** Reads every target's history into the cache, so a target's first rollback reads only the commits since. */
  const warmHistory = async (): Promise<void> => {
    for (const target of rt.targets.all()) {
      if (closing) return;
      await readHistory({ repo: rt.repo, historyCache }, target).then(
        ({ analysis }) =>
          log.debug({ target: target.name, commitsRead: analysis.commitsRead }, 'history warmed'),
        (err: unknown) => log.warn({ target: target.name, err: errorMessage(err) }, 'history warm-up failed'),
      );
    }
  };
  const processor = createProcessor({
    store: rt.store,
    repo: rt.repo,
    historyCache,
    policy: rt.policy,
    notifier: rt.notifier,
    metrics: rt.metrics,
    targets: rt.targets,
    author: config.github.author,
    dryRun: config.dryRun,
    settings: () => ({ closeOnResolve: rt.closeOnResolve(), verifyAfterSeconds: rt.verifyAfterSeconds() }),
    logger: log,
    clock: rt.clock,
    enqueue: (data, opts) => rt.queue.enqueue(data, opts),
    argocdUrl: config.argocd.url,
    ...(watchIntervalMs !== undefined ? { watchIntervalMs } : {}),
    verifier,
  });
  const worker = createQueueWorker({
    connection,
    prefix: config.redis.prefix,
    concurrency: config.worker.concurrency,
    ...(backoffBaseMs !== undefined ? { backoffBaseMs } : {}),
    process: processor.process,
    onFinalFailure: (data, err) =>
      data.kind === 'verify' ? verifier.abandoned(data, err) : processor.abandoned(data, err),
    ...(lockDurationMs !== undefined ? { lockDurationMs } : {}),
    ...(stalledIntervalMs !== undefined ? { stalledIntervalMs } : {}),
    onError: (err) => log.warn({ err: err.message }, 'worker error'),
    onRateLimitDelay: (delayMs) => {
      rt.metrics.queueRateLimitDelays.inc();
      log.warn({ delayMs }, 'next attempt postponed until GitHub lifts its rate limit');
    },
  });
  // Effects a crashed worker left pending after its state write (src/queue/effects.ts).
  void processor
    .sweep()
    .then((n) => n && log.info({ remediations: n }, 'pending effects drained'))
    .catch((err: unknown) => log.warn({ err: errorMessage(err) }, 'pending-effects sweep failed'));
  return {
    worker,
    warmHistory,
    async close() {
      closing = true;
      await worker.close();
      connection.disconnect();
    },
  };
}
