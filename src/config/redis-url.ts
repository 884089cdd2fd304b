import { RewindError } from '../core/errors.ts';

/**
 * The Redis a deployment names in `redis.url` / REDIS_URL:
 * - one server, `redis://` or `rediss://`, as ioredis reads them;
 * - a Redis Cluster, `redis+cluster://[user:password@]host:port,host:port,...` listing seed nodes (the
 *   client discovers the rest);
 * - a master watched by Redis Sentinel,
 *   `redis+sentinel://[user:password@]host:port,host:port,.../<master name>[/<db>][?sentinelPassword=...]`
 *   listing sentinels: the client asks them where the master is, and asks again after a failover.
 *   The userinfo is the data nodes' credentials; `sentinelUsername` / `sentinelPassword` (query) are
 *   the sentinels' own, when they require any.
 * `rediss+...` is the same over TLS (for sentinels: to the sentinels and to the data nodes alike).
 */
export type RedisTarget =
  | { kind: 'single'; url: string }
  | ({ kind: 'cluster'; nodes: HostPort[] } & Credentials)
  | ({
      kind: 'sentinel';
      sentinels: HostPort[];
      /** the master group name the sentinels monitor (`sentinel monitor <name> ...`) */
      name: string;
      db: number;
      sentinelUsername?: string;
      sentinelPassword?: string;
    } & Credentials);

export interface HostPort {
  host: string;
  port: number;
}

interface Credentials {
  username?: string;
  password?: string;
  tls: boolean;
}

const CLUSTER = /^(rediss?)\+cluster:\/\/(?:([^@/]*)@)?([^/?#]+)\/?$/;
const SENTINEL =
  /^(rediss?)\+sentinel:\/\/(?:([^@/]*)@)?([^/?#]+)(?:\/([^/?#]*))?(?:\/([^/?#]*))?\/?(?:\?([^#]*))?$/;
const SENTINEL_PARAMS = new Set(['sentinelUsername', 'sentinelPassword']);

/** Parse REDIS_URL. Errors name the variable, never the value (it may carry a password). */
export function parseRedisUrl(url: string): RedisTarget {
  if (/^rediss?:\/\//.test(url)) return { kind: 'single', url };
  const c = CLUSTER.exec(url);
  if (c) {
    const [, scheme, userinfo, hosts = ''] = c;
    return { kind: 'cluster', nodes: hostList(hosts, 'cluster node'), ...credentials(scheme, userinfo) };
  }
  const s = SENTINEL.exec(url);
  if (s) {
    const [, scheme, userinfo, hosts = '', name = '', db = '0', query = ''] = s;
    const sentinels = hostList(hosts, 'sentinel');
    if (!name)
      throw invalid('redis+sentinel:// needs the master name after the hosts: .../<master name>[/db]');
    if (!/^\d{1,2}$/.test(db)) throw invalid('the database after the master name must be a number');
    const target: RedisTarget = {
      kind: 'sentinel',
      sentinels,
      name: decode(name),
      db: Number(db),
      ...credentials(scheme, userinfo),
    };
    for (const [key, value] of new URLSearchParams(query)) {
      if (!SENTINEL_PARAMS.has(key))
        throw invalid(
          `redis+sentinel:// takes only ${[...SENTINEL_PARAMS].join(' and ')} as query parameters`,
        );
      if (key === 'sentinelUsername') target.sentinelUsername = value;
      else target.sentinelPassword = value;
    }
    return target;
  }
  throw invalid(
    'must start with redis://, rediss://, redis+cluster://, rediss+cluster://, redis+sentinel:// or rediss+sentinel://',
  );
}

function hostList(hosts: string, what: string): HostPort[] {
  return hosts.split(',').map((h) => {
    const hp = /^([^:,\s]+|\[[0-9a-fA-F:]+\]):(\d{1,5})$/.exec(h);
    if (!hp || Number(hp[2]) > 65535) throw invalid(`each ${what} must be host:port`);
    return { host: hp[1]!.replace(/^\[|\]$/g, ''), port: Number(hp[2]) };
  });
}

function credentials(scheme: string | undefined, userinfo: string | undefined): Credentials {
  const c: Credentials = { tls: scheme === 'rediss' };
  if (userinfo) {
    const i = userinfo.indexOf(':');
    const user = decode(i < 0 ? userinfo : userinfo.slice(0, i));
    if (user) c.username = user;
    if (i >= 0) c.password = decode(userinfo.slice(i + 1));
  }
  return c;
}

/**
 * A Redis Cluster runs a script or transaction only when all its keys live in one hash slot. Every
 * rewind key (BullMQ's included) starts with the prefix, so a prefix carrying a hash tag puts them all
 * in one slot: `rewind` becomes `{rewind}` on a cluster; a prefix that already has a tag is kept.
 * A sentinel-watched master is one server: its keys stay as they are.
 */
export function clusterPrefix(prefix: string, target: RedisTarget): string {
  if (target.kind !== 'cluster' || /\{[^}]+\}/.test(prefix)) return prefix;
  return `{${prefix}}`;
}

function decode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw invalid('a percent-escape in the URL is malformed');
  }
}

function invalid(what: string): RewindError {
  return new RewindError('config_invalid', `environment: REDIS_URL (or redis.url): ${what}`);
}
