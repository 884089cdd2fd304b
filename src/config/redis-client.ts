import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { parseRedisUrl } from './redis-url.ts';

/** A client for any form of `redis.url` (one server, a cluster, a sentinel-watched master) with these options. */
export function redisFromUrl(url: string, options: RedisOptions): Redis {
  const target = parseRedisUrl(url);
  if (target.kind === 'single') return new Redis(url, options);
  const auth = {
    ...(target.username ? { username: target.username } : {}),
    ...(target.password ? { password: target.password } : {}),
  };
  if (target.kind === 'sentinel')
    // ioredis asks the sentinels for the master's address, and again whenever the connection drops:
    // the rest of rewind sees one Redis client, as with one server. The failover detector listens for
    // the sentinels' +switch-master and drops the connection at once, so writes stop going to a demoted
    // master before the sentinels get round to reconfiguring it (writes its resync would throw away).
    return new Redis({
      ...options,
      ...auth,
      sentinels: target.sentinels,
      name: target.name,
      db: target.db,
      failoverDetector: true,
      // the caller's patience for finding the master too: a one-shot command that gives up on Redis
      // must not wait forever on sentinels that do not answer
      ...(options.retryStrategy ? { sentinelRetryStrategy: options.retryStrategy } : {}),
      ...(target.sentinelUsername ? { sentinelUsername: target.sentinelUsername } : {}),
      ...(target.sentinelPassword ? { sentinelPassword: target.sentinelPassword } : {}),
      ...(target.tls ? { tls: {}, sentinelTLS: {}, enableTLSForSentinelMode: true } : {}),
    });
  const { retryStrategy, enableOfflineQueue, ...perNode } = options;
  // A Cluster client speaks the same commands as a Redis client (every key rewind uses shares the
  // prefix's hash tag, so scripts and transactions stay in one slot); the rest of rewind takes it as one.
  return new Cluster(target.nodes, {
    ...(retryStrategy ? { clusterRetryStrategy: retryStrategy } : {}),
    ...(enableOfflineQueue !== undefined ? { enableOfflineQueue } : {}),
    ...(perNode.lazyConnect ? { lazyConnect: true } : {}),
    redisOptions: { ...perNode, ...auth, ...(target.tls ? { tls: {} } : {}) },
  }) as unknown as Redis;
}
