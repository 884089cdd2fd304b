import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { ADMIT } from '../../src/audit/scripts.ts';
import { createAuditStore } from '../../src/audit/store.ts';
import { payloadAlerts, type WebhookPayload } from '../../src/http/schemas.ts';
import { sampleJson } from '../support/fixtures.ts';
import { dropPrefix, testRedis, uniquePrefix } from '../support/redis.ts';

const redis = testRedis();
after(() => redis.disconnect());

/** Counts script calls and checks each names a key under the prefix. */
function spy(prefix: string) {
  const calls: Array<{ numKeys: number; key: string }> = [];
  const evalsha = redis.evalsha.bind(redis);
  const proxy = new Proxy(redis, {
    get(target, prop, receiver) {
      if (prop === 'evalsha' || prop === 'eval')
        return (sha: string, numKeys: number, ...rest: string[]) => {
          calls.push({ numKeys, key: String(rest[0]) });
          return prop === 'evalsha' ? evalsha(sha, numKeys, ...rest) : redis.eval(sha, numKeys, ...rest);
        };
      return Reflect.get(target, prop, receiver) as unknown;
    },
  });
  return { calls, store: createAuditStore({ redis: proxy, prefix }) };
}

describe('admission of a whole notification in one script call (issue 9 goal 1)', () => {
  const prefix = uniquePrefix('admit1');
  after(() => dropPrefix(redis, prefix));

  test('three alerts for three targets, then their repeats and a resolution: one call each time, ids only for new ones', async () => {
    // a Redis that has not seen the script yet answers NOSCRIPT once (then EVAL): not what is counted here
    await redis.script('LOAD', ADMIT);
    const { calls, store } = spy(prefix);
    const alerts = payloadAlerts(sampleJson('b-group-3-services.json') as WebhookPayload);
    assert.equal(alerts.length, 3);
    const now = new Date('2026-11-26T00:40:00Z');
    const items = alerts.map((alert, i) => ({ kind: 'firing' as const, target: `t${i}`, alert }));
    const first = await store.admit(items, { targetsFiring: 3, now, dryRun: false });
    assert.equal(calls.length, 1);
    assert.equal(calls[0]?.numKeys, 1);
    assert.ok(calls[0]?.key.startsWith(`${prefix}:`), 'KEYS[1] lies under the prefix');
    const ids = first.map((r) => (r.kind === 'firing' ? r.remediationId : ''));
    assert.equal(new Set(ids).size, 3);
    assert.deepEqual(
      first.map((r) => r.kind === 'firing' && r.outcome),
      ['created', 'created', 'created'],
    );
    // one random base per notification, a counter per new remediation: time-ordered and listing-stable
    assert.deepEqual(
      ids.map((id) => id.slice(0, -2)),
      [ids[0]?.slice(0, -2), ids[0]?.slice(0, -2), ids[0]?.slice(0, -2)],
    );

    const [a0, a1] = alerts;
    assert.ok(a0 && a1);
    const again = await store.admit(
      [
        { kind: 'firing', target: 't0', alert: a0 },
        { kind: 'resolved', target: 't1', alert: a1, resolvedAt: '2026-11-26T00:41:00Z' },
        {
          kind: 'resolved',
          target: 't1',
          alert: { ...a1, startsAt: '2026-11-26T00:00:00Z' },
          resolvedAt: 'x',
        },
      ],
      { targetsFiring: 3, now, dryRun: false },
    );
    assert.equal(calls.length, 2);
    assert.deepEqual(again, [
      { kind: 'firing', outcome: 'seen_again', remediationId: ids[0], state: 'queued', jobQueued: false },
      {
        kind: 'resolved',
        remediationId: ids[1],
        state: 'queued',
        allResolved: true,
        resolvedAt: '2026-11-26T00:41:00Z',
      },
      { kind: 'unknown' },
    ]);
    const keys = await redis.keys(`${prefix}*`);
    assert.ok(keys.length > 0);
  });

  test('a record keeps at most 100 alerts and counts the rest', async () => {
    const { store } = spy(`${prefix}:cap`);
    const [base] = payloadAlerts(sampleJson('a-firing-single.json') as WebhookPayload);
    assert.ok(base);
    const items = Array.from({ length: 130 }, (_, i) => ({
      kind: 'firing' as const,
      target: 'capped',
      alert: { ...base, fingerprint: `ca${i.toString(16).padStart(14, '0')}` },
    }));
    const res = await store.admit(items, { targetsFiring: 1, now: new Date(), dryRun: false });
    const id = res[0]?.kind === 'firing' ? res[0].remediationId : '';
    const rec = await store.get(id);
    assert.equal(rec?.alerts.length, 100);
    assert.equal(rec?.alertsDropped, 30);
    assert.equal(rec?.alerts[0]?.fingerprint, items[0]?.alert.fingerprint);
  });
});
