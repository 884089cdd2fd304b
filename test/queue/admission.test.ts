import { createHash } from 'node:crypto';
import { ADMIT } from '../../src/audit/scripts.ts';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { dropPrefix, testRedis, uniquePrefix } from '../support/redis.ts';
import { sampleJson, sampleTarget } from '../support/fixtures.ts';
import { post, testApp } from '../support/app.ts';
import { createAuditStore } from '../../src/audit/store.ts';
import { payloadAlerts, type WebhookPayload } from '../../src/http/schemas.ts';

const redis = testRedis();
after(() => redis.disconnect());

function firing(overrides: { fingerprint?: string; startsAt?: string; service?: string } = {}) {
  const p = sampleJson('a-firing-single.json');
  const a = p.alerts[0] as Record<string, unknown> & { labels: Record<string, string> };
  if (overrides.fingerprint) a.fingerprint = overrides.fingerprint;
  if (overrides.startsAt) a.startsAt = overrides.startsAt;
  if (overrides.service) a.labels = { ...a.labels, service: overrides.service };
  return p;
}

function resolved(p: ReturnType<typeof firing>) {
  const r = structuredClone(p);
  const a = r.alerts[0] as Record<string, unknown>;
  a.status = 'resolved';
  a.endsAt = '2026-11-26T00:40:00Z';
  r.status = 'resolved';
  return r;
}

describe('admission through Redis', () => {
  const prefix = uniquePrefix('admit');
  let t: Awaited<ReturnType<typeof testApp>>;
  before(async () => {
    t = await testApp({ redis, prefix, targets: [sampleTarget('checkout-test')] });
  });
  after(async () => {
    await t.close();
    await dropPrefix(redis, prefix);
  });

  test('200 concurrent posts of the same firing alert make exactly one remediation and one job', async () => {
    const body = JSON.stringify(firing());
    const replies = await Promise.all(Array.from({ length: 200 }, () => post(t.app, body)));
    assert.deepEqual([...new Set(replies.map((r) => r.statusCode))], [202]);
    const ids = new Set(replies.map((r) => r.json().remediations[0].id as string));
    assert.equal(ids.size, 1);
    const records = await t.store.list({ limit: 10 });
    assert.equal(records.length, 1);
    assert.equal(records[0]?.seenAgain, 199);
    assert.equal(records[0]?.alerts.length, 1);
    const jobs = await t.queue.queue.getJobs(['waiting', 'active', 'delayed', 'completed', 'failed']);
    assert.equal(jobs.length, 1);
    assert.equal(jobs[0]?.data.kind, 'remediate');
  });

  test('another incident for the target while one is in flight attaches to it; a resolution waits for all of them', async () => {
    const [rec] = await t.store.list({ limit: 1 });
    assert.ok(rec);
    const other = firing({ fingerprint: 'aaaaaaaaaaaaaaaa', startsAt: '2026-11-26T00:33:00Z' });
    const res = await post(t.app, other);
    assert.equal(res.json().remediations[0].id, rec.id);
    const after1 = await t.store.get(rec.id);
    assert.equal(after1?.alerts.length, 2);

    await post(t.app, resolved(firing()));
    let jobs = await t.queue.queue.getJobs(['waiting']);
    assert.equal(
      jobs.filter((j) => j.data.kind === 'resolve').length,
      0,
      'one of two incidents still firing',
    );
    await post(t.app, resolved(other));
    await post(t.app, resolved(other)); // Alertmanager repeats resolutions too
    jobs = await t.queue.queue.getJobs(['waiting']);
    const resolves = jobs.filter((j) => j.data.kind === 'resolve');
    assert.equal(resolves.length, 1);
    assert.deepEqual(resolves[0]?.data, {
      kind: 'resolve',
      remediationId: rec.id,
      resolvedAt: '2026-11-26T00:40:00Z',
    });
  });

  test('after the remediation ends, a repeat is "seen again" but a new incident is a new remediation', async () => {
    const [rec] = await t.store.list({ limit: 1 });
    assert.ok(rec);
    await t.store.update(rec.id, { state: 'merged' }, new Date());
    await t.store.releaseActive(rec.target, rec.id);

    const repeat = await post(t.app, firing());
    assert.equal(repeat.json().remediations[0].id, rec.id);
    assert.equal((await t.store.get(rec.id))?.seenAgain, 200);

    const anew = await post(t.app, firing({ startsAt: '2026-11-26T02:00:00Z' }));
    const newId = anew.json().remediations[0].id as string;
    assert.notEqual(newId, rec.id);
    assert.equal((await t.store.list({ target: 'checkout-test', limit: 10 })).length, 2);
    const job = await t.queue.queue.getJob(`remediate-${newId}`);
    assert.equal(job?.data.remediationId, newId);
  });

  test('repeats and attachments to a queued remediation whose job exists enqueue nothing (one round trip each)', async () => {
    const incident = firing({ fingerprint: 'eeeeeeeeeeeeeeee', startsAt: '2026-11-26T02:20:00Z' });
    const first = await post(t.app, incident);
    const active = await t.store.get(first.json().remediations[0].id as string);
    assert.ok(active && active.state === 'queued');
    assert.ok(await t.queue.queue.getJob(`remediate-${active.id}`));
    const enqueueMany = t.queue.enqueueMany;
    const enqueued: unknown[] = [];
    t.queue.enqueueMany = async (jobs) => {
      enqueued.push(...jobs);
      return enqueueMany(jobs);
    };
    try {
      const repeat = await post(t.app, incident);
      const attach = await post(
        t.app,
        firing({ fingerprint: 'dddddddddddddddd', startsAt: '2026-11-26T02:30:00Z' }),
      );
      assert.deepEqual(
        [repeat, attach].map((r) => r.json().remediations[0].id),
        [active.id, active.id],
      );
      assert.deepEqual(enqueued, []);
      // without its job (a delivery that died before enqueuing) the same repeat repairs it
      await (await t.queue.queue.getJob(`remediate-${active.id}`))?.remove();
      await post(t.app, incident);
      assert.deepEqual(
        enqueued.map((j) => (j as { remediationId: string }).remediationId),
        [active.id],
      );
    } finally {
      t.queue.enqueueMany = enqueueMany;
    }
  });

  test('a record stored by a delivery that died before enqueuing is repaired by the retry', async () => {
    const p = firing({
      service: 'checkout',
      fingerprint: 'bbbbbbbbbbbbbbbb',
      startsAt: '2026-11-26T03:00:00Z',
    });
    // the new incident attaches to the active remediation created in the previous test
    const [active] = await t.store.list({ limit: 1 });
    assert.ok(active);
    const job = await t.queue.queue.getJob(`remediate-${active.id}`);
    await job?.remove();
    const res = await post(t.app, p);
    assert.equal(res.json().remediations[0].id, active.id);
    assert.ok(await t.queue.queue.getJob(`remediate-${active.id}`), 'job re-added');
  });
  test('a resolution stored by a delivery that died before enqueuing its job is repaired by the retry', async () => {
    const p = firing({
      service: 'checkout',
      fingerprint: 'cccccccccccccccc',
      startsAt: '2026-11-26T04:00:00Z',
    });
    const created = await post(t.app, p);
    const id = created.json().remediations[0].id as string;
    const rec = await t.store.get(id);
    assert.ok(rec);
    // finish the remediation (and whatever the earlier tests attached to it) so this incident is its only one
    await t.store.update(id, { state: 'pr_opened' }, new Date());
    await t.store.releaseActive(rec.target, id);
    for (const a of rec.alerts) {
      await t.store.admitResolved({ target: rec.target, alert: a, resolvedAt: '2026-11-26T04:10:00Z' });
    }
    // the first delivery stored the resolution, then died before adding the job (simulated: no job)
    await (await t.queue.queue.getJob(`resolve-${id}`))?.remove();
    assert.equal(await t.queue.queue.getJob(`resolve-${id}`), undefined);

    const res = await post(t.app, resolved(p)); // Alertmanager retries the whole notification
    assert.equal(res.statusCode, 202);
    const job = await t.queue.queue.getJob(`resolve-${id}`);
    assert.ok(job, 'resolve job re-added by the redelivery');
    assert.deepEqual(
      job.data,
      { kind: 'resolve', remediationId: id, resolvedAt: '2026-11-26T04:10:00Z' },
      'the first recorded resolution time',
    );
  });
  test('a finished remediation whose in-flight marker was never released takes no new incidents', async () => {
    const first = await post(
      t.app,
      firing({ fingerprint: 'dddddddddddddddd', startsAt: '2026-11-26T05:00:00Z' }),
    );
    const id = first.json().remediations[0].id as string;
    const rec = await t.store.get(id);
    assert.ok(rec);
    await t.store.releaseActive(rec.target, id);
    const fresh = await post(
      t.app,
      firing({ fingerprint: 'eeeeeeeeeeeeeeee', startsAt: '2026-11-26T05:01:00Z' }),
    );
    const freshId = fresh.json().remediations[0].id as string;
    // the worker wrote the terminal state, then lost Redis (or the process) before releasing the marker
    await t.store.update(freshId, { state: 'denied' }, new Date());

    const next = await post(
      t.app,
      firing({ fingerprint: 'ffffffffffffffff', startsAt: '2026-11-26T05:02:00Z' }),
    );
    assert.equal(next.statusCode, 202);
    const nextId = next.json().remediations[0].id as string;
    assert.notEqual(nextId, freshId, 'a new remediation, not an attachment to a denied one');
    assert.equal((await t.store.get(nextId))?.state, 'queued');
    assert.ok(await t.queue.queue.getJob(`remediate-${nextId}`), 'and its job');
  });
});

describe('resolution time', () => {
  const prefix = uniquePrefix('resolved-at');
  let t: Awaited<ReturnType<typeof testApp>>;
  const now = new Date('2026-11-26T06:00:00Z');
  before(async () => {
    t = await testApp({ redis, prefix, targets: [sampleTarget('checkout-test')], clock: { now: () => now } });
  });
  after(async () => {
    await t.close();
    await dropPrefix(redis, prefix);
  });

  test('an endsAt that is not an RFC 3339 time is not recorded (it lands in the PR close comment); the receive time is', async () => {
    const p = firing({ fingerprint: '1111111111111111' });
    const id = (await post(t.app, p)).json().remediations[0].id as string;
    const r = resolved(p);
    (r.alerts[0] as Record<string, unknown>).endsAt = '@acme/everyone [see](http://x.example)';
    assert.equal((await post(t.app, r)).statusCode, 202);
    const job = await t.queue.queue.getJob(`resolve-${id}`);
    assert.deepEqual(job?.data, { kind: 'resolve', remediationId: id, resolvedAt: now.toISOString() });
    assert.equal((await t.store.get(id))?.steps.resolved, now.toISOString());
  });
});

describe('audit index retention', () => {
  const prefix = uniquePrefix('retention');
  after(() => dropPrefix(redis, prefix));

  test('the newest-first indexes drop ids whose records expired, so they do not grow without bound', async () => {
    const store = createAuditStore({ redis, prefix, retentionSeconds: 3600 });
    const t0 = Date.parse('2026-11-26T00:00:00Z');
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const [alert] = payloadAlerts(
        firing({ startsAt: new Date(t0 + i * 7200_000).toISOString() }) as WebhookPayload,
      );
      assert.ok(alert);
      const adm = await store.admitFiring({
        target: 'checkout-test',
        alert,
        targetsFiring: 1,
        now: new Date(t0 + i * 7200_000),
        dryRun: false,
      });
      await store.update(adm.remediationId, { state: 'denied' }, new Date(t0 + i * 7200_000));
      await store.releaseActive('checkout-test', adm.remediationId);
      ids.push(adm.remediationId);
    }
    // records older than the retention are gone (expired); so must their index entries be
    assert.deepEqual(await redis.zrange(`${prefix}:rems`, 0, -1), ids.slice(2));
    assert.deepEqual(await redis.zrange(`${prefix}:rems:t:checkout-test`, 0, -1), ids.slice(2));
  });
});

describe('several rewind replicas', () => {
  const prefix = uniquePrefix('replicas');
  const conns = [testRedis({ failFast: true }), testRedis({ failFast: true }), testRedis({ failFast: true })];
  after(async () => {
    await dropPrefix(redis, prefix);
    for (const c of conns) c.disconnect();
  });

  test('three API replicas with their own Redis connections, 3 × 60 concurrent posts, HA Alertmanager pair: one remediation, one job', async () => {
    const replicas = await Promise.all(
      conns.map((c) => testApp({ redis: c, prefix, targets: [sampleTarget('checkout-test')] })),
    );
    // each Alertmanager peer sends the same notification; a third sends another alert of the same incident group
    const a = JSON.stringify(firing());
    const b = JSON.stringify(firing({ fingerprint: 'cccccccccccccccc', startsAt: '2026-11-26T00:33:00Z' }));
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
    for (const r of replicas) await r.close();
  });
});

describe('admission scripts', () => {
  const prefix = uniquePrefix('scripts');
  after(() => dropPrefix(redis, prefix));

  test('run by sha, and reloaded after Redis forgot them (restart, SCRIPT FLUSH)', async () => {
    const store = createAuditStore({ redis, prefix });
    const [alert] = payloadAlerts(firing() as WebhookPayload);
    assert.ok(alert);
    await redis.script('FLUSH');
    const adm = await store.admitFiring({
      target: 'checkout-test',
      alert,
      targetsFiring: 1,
      now: new Date(),
      dryRun: false,
    });
    assert.equal(adm.outcome, 'created');
    const again = await store.admitFiring({
      target: 'checkout-test',
      alert,
      targetsFiring: 1,
      now: new Date(),
      dryRun: false,
    });
    assert.deepEqual([again.outcome, again.remediationId], ['seen_again', adm.remediationId]);
    const [cached] = (await redis.script(
      'EXISTS',
      createHash('sha1').update(ADMIT).digest('hex'),
    )) as number[];
    assert.equal(cached, 1);
  });
});
