import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { runRetry } from '../../src/cli/retry.ts';
import { post } from '../support/app.ts';
import { sampleJson } from '../support/fixtures.ts';
import { startGitHubEmulator, type GitHubEmulator } from '../support/github-emulator.ts';
import { SAMPLE_PATH, kustomization, seedSampleRepo } from '../support/gitops-sample.ts';
import { hasRedisSentinel, startRedisSentinel, type RedisSentinel } from '../support/redis-sentinel.ts';
import { startStack } from '../support/stack.ts';

const RELEASED = new Date('2026-11-26T00:10:00Z');
const clock = { now: () => new Date('2026-11-26T00:40:00Z') };

/** The keys under `prefix` on the data node at `port` (read straight from it, not through a sentinel). */
async function keysOn(port: number, prefix: string): Promise<string[]> {
  const node = new Redis(port, '127.0.0.1');
  try {
    return await node.keys(`${prefix}:*`);
  } finally {
    node.disconnect();
  }
}

/** POST until the webhook admits it: right after a failover the fail-fast HTTP client answers 503 (as
 * Alertmanager would, retry) until it has found the new master. Bounded. */
async function admitted(app: Parameters<typeof post>[0], body: string) {
  const until = Date.now() + 30_000;
  for (;;) {
    const res = await post(app, body);
    if (res.statusCode === 202 || Date.now() > until) return res;
    assert.equal(res.statusCode, 503, res.body);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe(
  'Redis Sentinel (a master, a replica, two sentinels): redis+sentinel:// end to end',
  { skip: hasRedisSentinel ? false : 'redis-server is not installed' },
  () => {
    let sentinel: RedisSentinel;
    let gh: GitHubEmulator;
    before(async () => {
      sentinel = await startRedisSentinel();
    });
    after(async () => {
      await sentinel?.stop();
    });
    beforeEach(async () => {
      gh = await startGitHubEmulator();
      seedSampleRepo(gh, RELEASED);
    });
    afterEach(async () => {
      await gh?.close();
    });

    test('a firing alert is admitted and its job rolls back through the master the sentinels name', async () => {
      const s = await startStack({ githubUrl: gh.url, clock, env: { REDIS_URL: sentinel.url } });
      try {
        const master = await sentinel.masterPort();
        const res = await post(s.app, sampleJson('a-firing-single.json'));
        assert.equal(res.statusCode, 202, res.body);
        const id = (res.json().remediations as Array<{ id: string }>)[0]?.id;
        assert.ok(id);
        const rec = await s.settled(id, 30_000);
        assert.equal(rec.state, 'merged', `${rec.reason ?? ''} ${rec.error ?? ''}`);
        assert.equal(gh.pulls('acme', 'gitops').length, 1);
        assert.equal(gh.getFile('acme', 'gitops', 'main', SAMPLE_PATH), kustomization('v1.1.0'));

        // the record and BullMQ's job live on the master (the replica has them too, by replication);
        // the shared test Redis has none of them
        const keys = await keysOn(master, s.config.redis.prefix);
        assert.ok(
          keys.some((k) => k.includes(':rem:')),
          `no audit record on the master: ${keys.join(', ')}`,
        );
        assert.ok(
          keys.some((k) => k.includes(':bull:')),
          `no BullMQ key on the master: ${keys.join(', ')}`,
        );
        assert.equal((await s.runtime.queue.queue.getJob(`remediate-${id}`))?.data.remediationId, id);

        // the one-shot CLI commands build their connection from the same URL form (they used to hand
        // it to ioredis as a plain URL, and asked localhost:6379 instead)
        const retry = await runRetry(s.config, id);
        assert.equal(retry.kind, 'conflict', 'a merged remediation is found, and not retried');
      } finally {
        await s.stop();
      }
    });

    test('after a failover the running service finds the new master: the next alert is admitted and rolled back there', async () => {
      const s = await startStack({ githubUrl: gh.url, clock, env: { REDIS_URL: sentinel.url } });
      try {
        const before = await sentinel.masterPort();
        const promoted = await sentinel.failover();
        assert.notEqual(promoted, before);

        const res = await admitted(s.app, JSON.stringify(sampleJson('a-firing-single.json')));
        assert.equal(res.statusCode, 202, res.body);
        const id = (res.json().remediations as Array<{ id: string }>)[0]?.id;
        assert.ok(id);
        const rec = await s.settled(id, 60_000);
        assert.equal(rec.state, 'merged', `${rec.reason ?? ''} ${rec.error ?? ''}`);
        assert.equal(gh.pulls('acme', 'gitops').length, 1);

        const keys = await keysOn(promoted, s.config.redis.prefix);
        assert.ok(
          keys.some((k) => k.includes(':rem:')),
          `no audit record on the new master: ${keys.join(', ')}`,
        );
        const role = new Redis(promoted, '127.0.0.1');
        assert.match(await role.info('replication'), /role:master/);
        role.disconnect();
      } finally {
        await s.stop();
      }
    });
  },
);
