import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { redisClient } from '../../src/runtime.ts';
import { incidentKey } from '../../src/core/alerts.ts';
import { post, testApp } from '../support/app.ts';
import { sampleJson, sampleTarget } from '../support/fixtures.ts';
import { uniquePrefix } from '../support/redis.ts';
import { hasRedisServer, startRedis, stopRedis } from '../support/redis-server.ts';
import { freePort } from '../support/net.ts';
import type { ChildProcess } from 'node:child_process';

function alert(service: string, fingerprint: string) {
  const p = sampleJson('a-firing-single.json');
  const a = p.alerts[0] as Record<string, unknown> & { labels: Record<string, string> };
  a.labels = { ...a.labels, service };
  a.fingerprint = fingerprint;
  return { payload: p, incident: incidentKey({ fingerprint, startsAt: a.startsAt as string }) };
}

describe(
  'Redis goes down under the webhook (own redis-server, append-only file)',
  { skip: hasRedisServer ? false : 'redis-server is not on PATH' },
  () => {
    const prefix = uniquePrefix('redis-down');
    let dir = '';
    let port = 0;
    let server: ChildProcess | undefined;
    let client: Redis;
    let t: Awaited<ReturnType<typeof testApp>>;

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'rewind-redis-down-'));
      port = await freePort();
      server = await startRedis(port, dir);
      // The API's own client: fail fast, so a dead Redis is a quick 503 and not a hung request.
      client = redisClient(`redis://127.0.0.1:${port}`, { failFast: true });
      client.on('error', () => {});
      // Commands fail at once until the first connection is up (no offline queue): wait for it, as createRuntime does.
      if (client.status !== 'ready') await new Promise((resolve) => client.once('ready', resolve));
      t = await testApp({
        redis: client,
        prefix,
        targets: [
          sampleTarget('checkout-test'),
          sampleTarget('payments-test', { match: { service: 'payments', env: 'test' } }),
          sampleTarget('search-test', { match: { service: 'search', env: 'test' } }),
        ],
      });
    });
    after(async () => {
      await t.close().catch(() => {});
      client.disconnect();
      if (server) await stopRedis(server);
      rmSync(dir, { recursive: true, force: true });
    });

    test('503 while Redis is down; after a restart the data holds A whole and nothing of B; B again is accepted', async () => {
      const a = alert('checkout', 'aaaaaaaaaaaaaaaa');
      const b = alert('payments', 'bbbbbbbbbbbbbbbb');

      const ra = await post(t.app, a.payload);
      assert.equal(ra.statusCode, 202, ra.body);
      const idA = ra.json().remediations[0].id as string;

      assert.ok(server);
      await stopRedis(server);
      const started = Date.now();
      const rb = await post(t.app, b.payload);
      const took = Date.now() - started;
      assert.equal(rb.statusCode, 503, rb.body);
      assert.equal(rb.json().error, 'queue_unavailable');
      assert.equal(typeof rb.json().message, 'string');
      assert.ok(took < 5_000, `503 took ${took} ms`);
      const ready = await t.app.inject({ method: 'GET', url: '/readyz' });
      assert.equal(ready.statusCode, 503);
      assert.equal(ready.json().checks.redis, false);

      server = await startRedis(port, dir);
      for (let i = 0; (await t.app.inject({ method: 'GET', url: '/readyz' })).statusCode !== 200; i++) {
        if (i > 100) assert.fail('the API did not become ready after Redis came back');
        await new Promise((r) => setTimeout(r, 50));
      }

      const admin = new Redis({ port, host: '127.0.0.1' });
      try {
        const keys = (await admin.keys(`${prefix}:*`)).sort();
        assert.deepEqual(
          keys.filter((k) => k.includes(':incident:')),
          [`${prefix}:incident:checkout-test:${a.incident}`],
        );
        assert.equal(await admin.get(`${prefix}:incident:checkout-test:${a.incident}`), idA);
        assert.deepEqual(
          keys.filter((k) => /payments|search|bbbbbbbbbbbbbbbb/.test(k)),
          [],
          'no trace of B',
        );
        assert.deepEqual(
          (await t.store.list({ limit: 10 })).map((r) => [r.id, r.target, r.state, r.alerts.length]),
          [[idA, 'checkout-test', 'queued', 1]],
        );
        const jobs = await t.queue.queue.getJobs([
          'waiting',
          'active',
          'delayed',
          'completed',
          'failed',
          'prioritized',
          'waiting-children',
        ]);
        assert.deepEqual(
          jobs.map((j) => j.data),
          [{ kind: 'remediate', remediationId: idA }],
        );

        const again = await post(t.app, b.payload);
        assert.equal(again.statusCode, 202, again.body);
        const idB = again.json().remediations[0].id as string;
        assert.notEqual(idB, idA);
        assert.deepEqual(again.json().remediations, [{ id: idB, target: 'payments-test' }]);
        const job = await t.queue.queue.getJob(`remediate-${idB}`);
        assert.deepEqual(job?.data, { kind: 'remediate', remediationId: idB });
        assert.equal((await t.store.get(idB))?.state, 'queued');
      } finally {
        admin.disconnect();
      }
    });

    test('Redis dies between storing the alert and enqueuing its job: 503, and the redelivery repairs the job without a second record', async () => {
      const c = alert('search', 'cccccccccccccccc');
      const enqueue = t.queue.enqueueMany;
      t.queue.enqueueMany = async (data) => {
        assert.ok(server);
        await stopRedis(server);
        return enqueue(data);
      };
      let res;
      try {
        res = await post(t.app, c.payload);
      } finally {
        t.queue.enqueueMany = enqueue;
      }
      assert.equal(res.statusCode, 503, res.body);
      assert.equal(res.json().error, 'queue_unavailable');

      server = await startRedis(port, dir);
      for (let i = 0; (await t.app.inject({ method: 'GET', url: '/readyz' })).statusCode !== 200; i++) {
        if (i > 100) assert.fail('the API did not become ready after Redis came back');
        await new Promise((r) => setTimeout(r, 50));
      }
      const [stored] = await t.store.list({ target: 'search-test', limit: 10 });
      assert.ok(stored, 'the admission was written before Redis died');
      assert.equal(stored.state, 'queued');
      assert.equal(await t.queue.queue.getJob(`remediate-${stored.id}`), undefined);

      // Alertmanager retries the 5xx: the same incident finds its queued record and (re-)enqueues the job.
      const retry = await post(t.app, c.payload);
      assert.equal(retry.statusCode, 202, retry.body);
      assert.deepEqual(retry.json().remediations, [{ id: stored.id, target: 'search-test' }]);
      assert.deepEqual((await t.queue.queue.getJob(`remediate-${stored.id}`))?.data, {
        kind: 'remediate',
        remediationId: stored.id,
      });
      assert.equal((await t.store.list({ target: 'search-test', limit: 10 })).length, 1);
    });
  },
);
