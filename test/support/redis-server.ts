import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';

/** A redis-server of the test's own (to stop and restart), next to the shared one at REDIS_URL. */
export const hasRedisServer = spawnSync('redis-server', ['--version']).error === undefined;

/** A redis-server of our own, persisting to `dir` with the append-only file only. */
export async function startRedis(port: number, dir: string): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--save', ''],
    {
      stdio: 'ignore',
    },
  );
  await untilRedis(port, async (r) => (await r.ping()) === 'PONG', {
    what: `redis-server on port ${port} did not answer PING`,
    attempts: 100,
    gaveUp: () => child.exitCode !== null,
  });
  return child;
}

/**
 * Polls `check` against the Redis (server, cluster node or sentinel) on `port` every 50 ms until it
 * holds: bounded by `attempts`, or sooner when `gaveUp` says the process is gone.
 */
export async function untilRedis(
  port: number,
  check: (r: Redis) => Promise<boolean>,
  opts: { what: string; attempts: number; gaveUp?: () => boolean },
): Promise<void> {
  const r = new Redis({
    port,
    host: '127.0.0.1',
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  r.on('error', () => {});
  try {
    for (let i = 0; ; i++) {
      try {
        if (r.status !== 'ready') await r.connect();
        if (await check(r)) return;
      } catch {
        r.disconnect();
      }
      if (i > opts.attempts || opts.gaveUp?.() === true) throw new Error(opts.what);
      await new Promise((res) => setTimeout(res, 50));
    }
  } finally {
    r.disconnect();
  }
}

/** SIGTERM is redis' clean shutdown: the append-only file is flushed before it exits. */
export async function stopRedis(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  await exited;
}

/** true when a Redis answers PING at `url` within about a second */
export async function pingRedis(url: string): Promise<boolean> {
  const r = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 1000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  r.on('error', () => {});
  try {
    await r.connect();
    return (await r.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    r.disconnect();
  }
}

/** What to do when no Redis answers and none can be started: one line. */
export function noRedisLine(url: string): string {
  return `no Redis answers at ${url} and redis-server is not on PATH: install Redis (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis) or set REDIS_URL to a running one`;
}
