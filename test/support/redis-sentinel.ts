import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './net.ts';
import { hasRedisServer, stopRedis, untilRedis } from './redis-server.ts';

/** A sentinel is redis-server started with --sentinel: the same Debian package as the server. */
export const hasRedisSentinel = hasRedisServer;

export const MASTER_NAME = 'rewind-master';

export interface RedisSentinel {
  /** rewind's URL form for it: redis+sentinel://127.0.0.1:S1,127.0.0.1:S2/rewind-master */
  url: string;
  /** the data nodes: a master and its replica, in the order started (the first is the master at start) */
  dataPorts: number[];
  sentinelPorts: number[];
  /** the port of the master the sentinels name now */
  masterPort(): Promise<number>;
  /** SENTINEL FAILOVER, then wait until every sentinel names the replica, it answers as a master and
   * the old master replicates from it */
  failover(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * A real Sentinel deployment on free loopback ports, like a small production one: a master, a replica
 * of it, and two sentinels watching the master (quorum 1). Each sentinel rewrites its config file
 * (the epoch, the replicas and sentinels it found), so each gets a writable one in a temp dir.
 */
export async function startRedisSentinel(): Promise<RedisSentinel> {
  const dir = mkdtempSync(join(tmpdir(), 'rewind-sentinel-'));
  const children: ChildProcess[] = [];
  const stop = async () => {
    await Promise.all(children.map((c) => stopRedis(c)));
    rmSync(dir, { recursive: true, force: true });
  };
  const server = (args: string[]) => {
    const child = spawn('redis-server', args, { stdio: 'ignore' });
    children.push(child);
  };
  try {
    const [master, replica] = [await freePort(), await freePort()] as [number, number];
    const common = ['--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'];
    server(['--port', String(master), ...common]);
    await until(master, async (r) => (await r.ping()) === 'PONG');
    server(['--port', String(replica), ...common, '--replicaof', '127.0.0.1', String(master)]);
    await until(replica, async (r) => /master_link_status:up/.test(await r.info('replication')));

    const sentinelPorts = [await freePort(), await freePort()];
    for (const port of sentinelPorts) {
      const conf = join(dir, `sentinel-${port}.conf`);
      writeFileSync(
        conf,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          `dir ${dir}`,
          `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${master} 1`,
          `sentinel down-after-milliseconds ${MASTER_NAME} 2000`,
          `sentinel failover-timeout ${MASTER_NAME} 3000`,
          '',
        ].join('\n'),
      );
      server([conf, '--sentinel']);
    }
    const masterPort = async (): Promise<number> => {
      const ports = new Set<number>();
      for (const port of sentinelPorts)
        await until(port, async (r) => {
          const addr = (await r.call('SENTINEL', 'get-master-addr-by-name', MASTER_NAME)) as string[] | null;
          if (addr) ports.add(Number(addr[1]));
          return addr !== null;
        });
      if (ports.size !== 1) throw new Error(`sentinels disagree on the master: ${[...ports].join(', ')}`);
      return [...ports][0]!;
    };
    // both sentinels name the master and are connected to its replica, which is in sync: a failover
    // has somewhere to go (SENTINEL FAILOVER answers NOGOODSLAVE before that)
    for (const port of sentinelPorts)
      await until(port, async (r) => {
        const replicas = (await r.call('SENTINEL', 'replicas', MASTER_NAME)) as string[][];
        if (replicas.length !== 1) return false;
        const fields = replicas[0]!;
        const field = (name: string) => fields[fields.indexOf(name) + 1];
        return field('flags') === 'slave' && field('master-link-status') === 'ok';
      });
    if ((await masterPort()) !== master) throw new Error('the sentinels do not name the master started');

    return {
      url: `redis+sentinel://${sentinelPorts.map((p) => `127.0.0.1:${p}`).join(',')}/${MASTER_NAME}`,
      dataPorts: [master, replica],
      sentinelPorts,
      masterPort,
      async failover() {
        const before = await masterPort();
        const next = before === master ? replica : master;
        await until(sentinelPorts[0]!, async (r) => {
          await r.call('SENTINEL', 'failover', MASTER_NAME);
          return true;
        });
        for (const port of sentinelPorts)
          await until(port, async (r) => {
            const addr = (await r.call('SENTINEL', 'get-master-addr-by-name', MASTER_NAME)) as string[];
            return Number(addr[1]) === next;
          });
        await until(next, async (r) => /role:master/.test(await r.info('replication')));
        // done when the old master is a replica of the new one: until then it still takes writes that
        // its resync with the new master then throws away (the window every Sentinel client has)
        await until(before, async (r) => {
          const info = await r.info('replication');
          return (
            /role:slave/.test(info) &&
            info.includes(`master_port:${next}`) &&
            /master_link_status:up/.test(info)
          );
        });
        return next;
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Poll `check` against the node on `port` (bounded: about 20 s). */
const until = (port: number, check: (r: Redis) => Promise<boolean>) =>
  untilRedis(port, check, { what: `redis or sentinel on port ${port} not ready`, attempts: 400 });
