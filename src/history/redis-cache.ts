/**
 * The history cache on Redis: one string per file and walk head (JSON of the
 * revisions, expiring after `ttlSeconds`), and per file a sorted set of the
 * heads, newest first, trimmed to `keepHeads`. Keys derive from the
 * configured prefix, so a hash-tagged prefix (`{rewind}`) keeps them in one
 * Redis Cluster slot with everything else.
 */
import type { Redis } from 'ioredis';
import type { HistoryCache, KnownHistory } from '../core/ports.ts';

export interface RedisHistoryCacheOptions {
  redis: Redis;
  prefix: string;
  /** default 30 days: a file untouched that long is read cold once */
  ttlSeconds?: number;
  /** walk heads kept per file (default 5) */
  keepHeads?: number;
  now?: () => number;
}

export function createRedisHistoryCache(opts: RedisHistoryCacheOptions): HistoryCache {
  const { redis, prefix } = opts;
  const ttl = opts.ttlSeconds ?? 30 * 24 * 3600;
  const keep = opts.keepHeads ?? 5;
  const now = opts.now ?? Date.now;
  const headsKey = (file: string) => `${prefix}:history:${file}:heads`;
  const walkKey = (file: string, head: string) => `${prefix}:history:${file}:${head}`;
  return {
    async heads(file) {
      return redis.zrevrange(headsKey(file), 0, keep - 1);
    },
    async get(file, head) {
      const text = await redis.get(walkKey(file, head));
      if (text === null) return null;
      try {
        const known = JSON.parse(text) as KnownHistory;
        return Array.isArray(known.revisions) ? known : null;
      } catch {
        return null; // a damaged entry is a cache miss, never a wrong answer
      }
    },
    async put(file, head, known) {
      await redis.set(walkKey(file, head), JSON.stringify(known), 'EX', ttl);
      await redis.zadd(headsKey(file), now(), head);
      await redis.zremrangebyrank(headsKey(file), 0, -(keep + 1));
      await redis.expire(headsKey(file), ttl);
    },
  };
}
