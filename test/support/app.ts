import type { Redis } from 'ioredis';
import { createAuditStore } from '../../src/audit/store.ts';
import type { Clock } from '../../src/core/ports.ts';
import { buildTargetIndex } from '../../src/core/targets.ts';
import type { Target } from '../../src/core/types.ts';
import { buildApp } from '../../src/http/app.ts';
import type { AppDeps } from '../../src/http/deps.ts';
import type { ServerTimeouts } from '../../src/http/timeouts.ts';
import { createMetrics } from '../../src/observability/metrics.ts';
import { createRemediationQueue, remediateJobKeyPrefix } from '../../src/queue/queue.ts';

export const TOKEN = 'test-webhook-token-0123456789';

export async function testApp(opts: {
  redis: Redis;
  prefix: string;
  targets: Target[];
  clock?: Clock;
  bodyLimit?: number;
  policyReady?: boolean;
  timeouts?: ServerTimeouts;
  listMaxBytes?: number;
  logger?: AppDeps['logger'];
}) {
  const queue = createRemediationQueue({ connection: opts.redis, prefix: opts.prefix });
  const metrics = createMetrics({ defaultMetrics: false, queueCounts: () => queue.counts() });
  const store = createAuditStore({
    redis: opts.redis,
    prefix: opts.prefix,
    remediateJobKeyPrefix: remediateJobKeyPrefix(opts.prefix),
  });
  const app = await buildApp({
    targets: buildTargetIndex(opts.targets),
    store,
    queue,
    metrics,
    clock: opts.clock ?? { now: () => new Date() },
    dryRun: false,
    webhookToken: TOKEN,
    bodyLimit: opts.bodyLimit ?? 1024 * 1024,
    ...(opts.timeouts ? { timeouts: opts.timeouts } : {}),
    ...(opts.listMaxBytes ? { listMaxBytes: opts.listMaxBytes } : {}),
    ...(opts.logger ? { logger: opts.logger } : {}),
    checks: {
      redis: async () => (await opts.redis.ping()) === 'PONG',
      policy: () => opts.policyReady ?? true,
    },
  });
  return {
    app,
    queue,
    store,
    metrics,
    async close() {
      await app.close();
      await queue.close();
    },
  };
}

export function post(
  app: Awaited<ReturnType<typeof testApp>>['app'],
  payload: string | object,
  headers: Record<string, string> = {},
) {
  return app.inject({
    method: 'POST',
    url: '/v1/alertmanager',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}`, ...headers },
    payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
  });
}
