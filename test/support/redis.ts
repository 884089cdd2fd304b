import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A unique key prefix per test, so tests share one Redis without seeing each other. */
export function uniquePrefix(name = 't'): string {
  return `rewind-test:${name}:${randomBytes(4).toString('hex')}`;
}

export function testRedis(opts: { failFast?: boolean } = {}): Redis {
  return new Redis(REDIS_URL, {
    maxRetriesPerRequest: opts.failFast ? 1 : null,
    enableOfflineQueue: !opts.failFast,
    lazyConnect: false,
  });
}

/** Delete every key under the prefix (BullMQ's included). */
export async function dropPrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) await redis.del(...keys);
  } while (cursor !== '0');
}
