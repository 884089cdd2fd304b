import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './net.ts';
import { stopRedis, untilRedis } from './redis-server.ts';

/** redis-server and redis-cli, both needed to start a cluster (CI installs them with redis-server). */
export const hasRedisCluster =
  spawnSync('redis-server', ['--version']).error === undefined &&
  spawnSync('redis-cli', ['--version']).error === undefined;

export interface RedisCluster {
  /** rewind's URL form for it: redis+cluster://127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3 */
  url: string;
  ports: number[];
  stop(): Promise<void>;
}

/**
 * A real Redis Cluster of three masters (no replicas) on free loopback ports, like a small production
 * one: `redis-server --cluster-enabled yes` ×3 joined with `redis-cli --cluster create`.
 */
export async function startRedisCluster(): Promise<RedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'rewind-cluster-'));
  const ports = [await freePort(), await freePort(), await freePort()];
  const children: ChildProcess[] = [];
  const stop = async () => {
    await Promise.all(children.map((c) => stopRedis(c)));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const port of ports) {
      children.push(
        spawn(
          'redis-server',
          [
            ...['--port', String(port), '--bind', '127.0.0.1', '--dir', dir],
            ...['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`],
            ...['--save', '', '--appendonly', 'no'],
          ],
          { stdio: 'ignore' },
        ),
      );
    }
    for (const port of ports) await until(port, async (r) => (await r.ping()) === 'PONG');
    const create = spawnSync(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...ports.map((p) => `127.0.0.1:${p}`),
        '--cluster-replicas',
        '0',
        '--cluster-yes',
      ],
      { encoding: 'utf8', timeout: 30_000 },
    );
    if (create.status !== 0)
      throw new Error(`redis-cli --cluster create failed:\n${create.stdout}${create.stderr}`);
    // every node must agree that all 16384 slots are served before a client can rely on it
    for (const port of ports)
      await until(port, async (r) => /cluster_state:ok/.test(String(await r.call('CLUSTER', 'INFO'))));
    return { url: `redis+cluster://${ports.map((p) => `127.0.0.1:${p}`).join(',')}`, ports, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Poll `check` against the node on `port` (bounded: about 10 s). */
const until = (port: number, check: (r: Redis) => Promise<boolean>) =>
  untilRedis(port, check, { what: `redis cluster node on port ${port} not ready`, attempts: 200 });
