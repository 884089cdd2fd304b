import { RewindError } from '../core/errors.ts';

/**
 * The Redis a deployment names in `redis.url` / REDIS_URL: one server (`redis://`, `rediss://`, as
 * ioredis reads them) or a Redis Cluster, `redis+cluster://[user:password@]host:port,host:port,...`
 * (`rediss+cluster://` for TLS) listing seed nodes; the client discovers the rest.
 */
export type RedisTarget =
  | { kind: 'single'; url: string }
  | {
      kind: 'cluster';
      nodes: Array<{ host: string; port: number }>;
      username?: string;
      password?: string;
      tls: boolean;
    };

const CLUSTER = /^(rediss?)\+cluster:\/\/(?:([^@/]*)@)?([^/?#]+)\/?$/;

/** Parse REDIS_URL. Errors name the variable, never the value (it may carry a password). */
export function parseRedisUrl(url: string): RedisTarget {
  if (/^rediss?:\/\//.test(url)) return { kind: 'single', url };
  const m = CLUSTER.exec(url);
  if (!m) throw invalid('must start with redis://, rediss://, redis+cluster:// or rediss+cluster://');
  const [, scheme, userinfo, hosts = ''] = m;
  const nodes = hosts.split(',').map((h) => {
    const hp = /^([^:,\s]+|\[[0-9a-fA-F:]+\]):(\d{1,5})$/.exec(h);
    if (!hp || Number(hp[2]) > 65535) throw invalid('each cluster node must be host:port');
    return { host: hp[1]!.replace(/^\[|\]$/g, ''), port: Number(hp[2]) };
  });
  const target: RedisTarget = { kind: 'cluster', nodes, tls: scheme === 'rediss' };
  if (userinfo) {
    const i = userinfo.indexOf(':');
    const user = decodeURIComponent(i < 0 ? userinfo : userinfo.slice(0, i));
    if (user) target.username = user;
    if (i >= 0) target.password = decodeURIComponent(userinfo.slice(i + 1));
  }
  return target;
}

/**
 * A Redis Cluster runs a script or transaction only when all its keys live in one hash slot. Every
 * rewind key (BullMQ's included) starts with the prefix, so a prefix carrying a hash tag puts them all
 * in one slot: `rewind` becomes `{rewind}` on a cluster; a prefix that already has a tag is kept.
 */
export function clusterPrefix(prefix: string, target: RedisTarget): string {
  if (target.kind === 'single' || /\{[^}]+\}/.test(prefix)) return prefix;
  return `{${prefix}}`;
}

function invalid(what: string): RewindError {
  return new RewindError('config_invalid', `environment: REDIS_URL (or redis.url): ${what}`);
}
