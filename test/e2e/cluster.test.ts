import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { clusterPrefix, parseRedisUrl } from '../../src/config/redis-url.ts';
import { redisClient } from '../../src/runtime.ts';
import { post, testApp } from '../support/app.ts';
import { sampleJson, sampleTarget } from '../support/fixtures.ts';
import { startGitHubEmulator, type GitHubEmulator } from '../support/github-emulator.ts';
import { SAMPLE_PATH, kustomization, seedSampleRepo } from '../support/gitops-sample.ts';
import { hasRedisCluster, startRedisCluster, type RedisCluster } from '../support/redis-cluster.ts';
import { uniquePrefix } from '../support/redis.ts';
import { startStack } from '../support/stack.ts';

const RELEASED = new Date('2026-11-26T00:10:00Z');
const clock = { now: () => new Date('2026-11-26T00:40:00Z') };

/** Every key under `prefix` on every master, with its hash slot. */
async function keysBySlot(cluster: RedisCluster, client: Redis, prefix: string) {
  const slots = new Map<number, string[]>();
  for (const port of cluster.ports) {
    const node = new Redis(port, '127.0.0.1');
    const keys = await node.keys(`${prefix}*`);
    node.disconnect();
    for (const k of keys) {
      const slot = Number(await client.call('CLUSTER', 'KEYSLOT', k));
      slots.set(slot, [...(slots.get(slot) ?? []), k]);
    }
  }
  return slots;
}

describe(
  'Redis Cluster (three masters): the storm and HA-duplicate cases',
  { skip: hasRedisCluster ? false : 'redis-server and redis-cli are not installed' },
  () => {
    let cluster: RedisCluster;
    let gh: GitHubEmulator;
    before(async () => {
      cluster = await startRedisCluster();
      gh = await startGitHubEmulator();
    });
    after(async () => {
      await gh?.close();
      await cluster?.stop();
    });

    test('200 concurrent posts of the same firing alert while the worker runs: one remediation, one job, one PR; every key in one slot', async () => {
      seedSampleRepo(gh, RELEASED);
      const s = await startStack({ githubUrl: gh.url, clock, env: { REDIS_URL: cluster.url } });
      try {
        assert.match(s.config.redis.prefix, /^\{rewind-test:stack:[0-9a-f]+\}$/, 'the prefix is a hash tag');
        const body = JSON.stringify(sampleJson('a-firing-single.json'));
        const replies = await Promise.all(Array.from({ length: 200 }, () => post(s.app, body)));
        assert.deepEqual([...new Set(replies.map((r) => r.statusCode))], [202]);
        const ids = new Set(replies.map((r) => (r.json().remediations as Array<{ id: string }>)[0]?.id));
        assert.equal(ids.size, 1, `remediation ids: ${[...ids].join(', ')}`);
        const [id] = [...ids];
        assert.ok(id);

        const rec = await s.settled(id, 30_000);
        assert.equal(rec.state, 'merged', `${rec.reason ?? ''} ${rec.error ?? ''}`);
        assert.equal(rec.seenAgain, 199);
        assert.deepEqual(
          (await s.runtime.store.list({ limit: 50 })).map((r) => r.id),
          [id],
        );
        const jobs = await s.runtime.queue.queue.getJobs([
          'waiting',
          'active',
          'delayed',
          'completed',
          'failed',
        ]);
        // the remediation's job, and the heal check the merge scheduled (delayed)
        assert.deepEqual(jobs.map((j) => [j.data.kind, j.data.remediationId]).sort(), [
          ['heal_check', id],
          ['remediate', id],
        ]);
        assert.equal(gh.pulls('acme', 'gitops').length, 1);
        assert.equal(gh.getFile('acme', 'gitops', 'main', SAMPLE_PATH), kustomization('v1.1.0'));

        // audit records and BullMQ's keys alike: one slot, so scripts and transactions stay legal
        const slots = await keysBySlot(cluster, s.runtime.redis, s.config.redis.prefix);
        assert.equal(slots.size, 1, `keys spread over slots ${[...slots.keys()].join(', ')}`);
        const keys = [...slots.values()].flat();
        assert.ok(keys.some((k) => k.includes(':bull:')) && keys.some((k) => k.includes(':rem:')));
      } finally {
        await s.stop();
      }
    });

    test('three API replicas with their own cluster connections, 3 × 60 concurrent posts, HA Alertmanager pair: one remediation, one job', async () => {
      const prefix = clusterPrefix(uniquePrefix('replicas'), parseRedisUrl(cluster.url));
      // not the fail-fast client of the HTTP path: its 3 s command timeout answers 503 on a loaded CI
      // machine, and this test is about deduplication, not about Redis outages (redis-down.test.ts)
      const conns = [0, 1, 2].map(() => redisClient(cluster.url, { failFast: false }));
      for (const c of conns) c.on('error', () => {});
      // as createRuntime does: the first request after start should not meet a client still connecting
      await Promise.all(conns.map((c) => new Promise((resolve) => c.once('ready', resolve))));
      const replicas = await Promise.all(
        conns.map((c) => testApp({ redis: c, prefix, targets: [sampleTarget('checkout-test')] })),
      );
      try {
        const firing = (fingerprint?: string, startsAt?: string) => {
          const p = sampleJson('a-firing-single.json');
          const a = p.alerts[0] as Record<string, unknown>;
          if (fingerprint) a.fingerprint = fingerprint;
          if (startsAt) a.startsAt = startsAt;
          return JSON.stringify(p);
        };
        const a = firing();
        const b = firing('cccccccccccccccc', '2026-11-26T00:33:00Z');
        const replies = await Promise.all(
          Array.from({ length: 180 }, (_, i) => post(replicas[i % 3]!.app, i % 2 ? a : b)),
        );
        assert.deepEqual([...new Set(replies.map((r) => r.statusCode))], [202]);
        assert.equal(new Set(replies.map((r) => r.json().remediations[0].id as string)).size, 1);
        const [rec, ...rest] = await replicas[0]!.store.list({ limit: 10 });
        assert.equal(rest.length, 0);
        assert.equal(rec?.alerts.length, 2, 'both incidents attached once each');
        assert.equal(rec?.seenAgain, 178);
        const jobs = await replicas[0]!.queue.queue.getJobs([
          'waiting',
          'active',
          'delayed',
          'completed',
          'failed',
        ]);
        assert.equal(jobs.length, 1);
      } finally {
        for (const r of replicas) await r.close();
        for (const c of conns) c.disconnect();
      }
    });
  },
);
