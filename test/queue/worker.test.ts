import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { pino } from 'pino';
import { createAuditStore } from '../../src/audit/store.ts';
import { RewindError } from '../../src/core/errors.ts';
import { buildTargetIndex } from '../../src/core/targets.ts';
import type { RemediationEvent } from '../../src/notify/slack.ts';
import type { Logger } from '../../src/observability/logger.ts';
import { createMetrics } from '../../src/observability/metrics.ts';
import { createProcessor } from '../../src/queue/processor.ts';
import { createRemediationQueue, type JobData } from '../../src/queue/queue.ts';
import { createQueueWorker } from '../../src/queue/worker.ts';
import type { GitOpsRepository } from '../../src/core/ports.ts';
import type { PolicyEngine } from '../../src/policy/types.ts';
import { sampleJson, sampleTarget } from '../support/fixtures.ts';
import { dropPrefix, testRedis, uniquePrefix } from '../support/redis.ts';

const redis = testRedis();
after(() => redis.disconnect());

async function until(cond: () => boolean | Promise<boolean>, ms = 5000) {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('queue worker: retries, give-up and the final-failure hook', () => {
  for (const [name, error, attempts] of [
    ['a retryable error is retried to 5 attempts', new Error('GitHub 502'), 5],
    ['a non-retryable error fails at once', new RewindError('github_auth', 'GitHub 401'), 1],
  ] as const) {
    test(name, async () => {
      const prefix = uniquePrefix('worker');
      const queue = createRemediationQueue({ connection: redis, prefix });
      const seen: number[] = [];
      const final: Array<[JobData, string]> = [];
      const connection = testRedis();
      const worker = createQueueWorker({
        connection,
        prefix,
        concurrency: 1,
        backoffBaseMs: 5,
        process: async (_data, attempt) => {
          seen.push(attempt.number);
          throw error;
        },
        onFinalFailure: async (data, err) => void final.push([data, err.message]),
      });
      await queue.enqueue({ kind: 'remediate', remediationId: 'rem_x' });
      await until(() => final.length === 1);
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(
        seen,
        Array.from({ length: attempts }, (_, i) => i + 1),
      );
      assert.deepEqual(final, [[{ kind: 'remediate', remediationId: 'rem_x' }, error.message]]);
      const job = await queue.queue.getJob('remediate-rem_x');
      assert.equal(await job?.getState(), 'failed');
      await worker.close();
      connection.disconnect();
      await queue.close();
      await dropPrefix(redis, prefix);
    });
  }

  test('a job the queue abandons (e.g. stalled too often) is recorded as failed and frees its target', async () => {
    const prefix = uniquePrefix('abandon');
    const store = createAuditStore({ redis, prefix });
    const alert = sampleJson('a-firing-single.json').alerts[0] as never;
    const adm = await store.admitFiring({
      target: 'checkout',
      alert,
      targetsFiring: 1,
      now: new Date(),
      dryRun: false,
    });
    await store.update(adm.remediationId, { state: 'deciding' }, new Date());
    const events: RemediationEvent[] = [];
    const { abandoned } = createProcessor({
      store,
      repo: {} as GitOpsRepository,
      policy: {} as PolicyEngine,
      notifier: { notify: async (e) => void events.push(e) },
      metrics: createMetrics({ defaultMetrics: false }),
      targets: buildTargetIndex([sampleTarget('checkout')]),
      author: { name: 'a', email: 'a@b.c' },
      dryRun: false,
      settings: () => ({ closeOnResolve: true, verifyAfterSeconds: 900 }),
      logger: pino({ level: 'silent' }) as unknown as Logger,
      clock: { now: () => new Date() },
      enqueue: async () => {},
    });
    await abandoned(
      { kind: 'remediate', remediationId: adm.remediationId },
      new Error('job stalled more than allowable limit'),
    );
    const rec = await store.get(adm.remediationId);
    assert.equal(rec?.state, 'failed');
    assert.equal(rec?.error, 'the queue gave up on this remediation: job stalled more than allowable limit');
    assert.equal(await redis.get(`${prefix}:active:checkout`), null, 'in-flight marker released');
    assert.deepEqual(
      events.map((e) => e.kind),
      ['failed'],
    );

    // already terminal: nothing changes, nothing is sent twice
    await abandoned({ kind: 'remediate', remediationId: adm.remediationId }, new Error('again'));
    assert.equal((await store.get(adm.remediationId))?.error, rec?.error);
    assert.equal(events.length, 1);
    await dropPrefix(redis, prefix);
  });
});
