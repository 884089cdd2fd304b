import { createAuditStore } from '../audit/store.ts';
import type { Config } from '../config/config.ts';
import { systemClock } from '../core/ports.ts';
import { createRemediationQueue } from '../queue/queue.ts';
import { retryRemediation, type RetryOutcome } from '../queue/retry.ts';
import { redisFromUrl } from '../config/redis-client.ts';

/** `rewind retry <id>`: the same as POST /v1/remediations/:id/retry, straight against Redis. */
export async function runRetry(config: Config, id: string): Promise<RetryOutcome> {
  // a one-shot command: wait for the connection (a few tries), then give up with the error
  const redis = redisFromUrl(config.redis.url, {
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    retryStrategy: (n) => (n > 3 ? null : 200),
  });
  redis.on('error', () => {});
  const queue = createRemediationQueue({ connection: redis, prefix: config.redis.prefix });
  try {
    const store = createAuditStore({ redis, prefix: config.redis.prefix });
    return await retryRemediation({ store, enqueue: (d) => queue.enqueue(d), clock: systemClock }, id);
  } finally {
    await queue.close().catch(() => {});
    redis.disconnect();
  }
}
