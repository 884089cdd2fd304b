import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { dropPrefix, testRedis, uniquePrefix } from '../support/redis.ts';
import { sampleJson, samplePayload, sampleTarget } from '../support/fixtures.ts';
import { post, testApp } from '../support/app.ts';
import { MAX_ALERT_TEXT } from '../../src/http/schemas.ts';

const redis = testRedis();
const prefix = uniquePrefix('webhook-hostile');
let t: Awaited<ReturnType<typeof testApp>>;

before(async () => {
  t = await testApp({ redis, prefix, targets: [sampleTarget('checkout-test')], bodyLimit: 256 * 1024 });
});
after(async () => {
  await t.close();
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

type Alert = Record<string, unknown> & {
  labels: Record<string, string>;
  annotations: Record<string, string>;
};
const alertOf = (p: { alerts: unknown[] }, i = 0) => p.alerts[i] as Alert;

/** a payload with one alert for checkout-test (fresh incident) and one unrelated alert */
function twoAlerts(fingerprint: string) {
  const p = sampleJson('a-firing-single.json');
  const ours = alertOf(p);
  ours.fingerprint = fingerprint;
  const other = structuredClone(ours);
  other.labels = { ...other.labels, service: 'unrelated' };
  other.fingerprint = `${fingerprint}ff`;
  p.alerts.push(other);
  return p;
}

describe('POST /v1/alertmanager with hostile or unusual input', () => {
  test('an oversized annotation or label on any alert is truncated and marked, not a 400 that drops the notification', async () => {
    const p = twoAlerts('a1');
    alertOf(p, 1).annotations.description = 'd'.repeat(9_000);
    alertOf(p, 0).annotations.description = 'x'.repeat(20_000);
    alertOf(p, 0).labels.pod = 'p'.repeat(10_000);
    const res = await post(t.app, p);
    assert.equal(res.statusCode, 202, res.body);
    assert.equal(res.json().accepted, 1);
    const rec = await t.store.get(res.json().remediations[0].id);
    const stored = rec!.alerts.find((a) => a.fingerprint === 'a1')!;
    for (const v of [stored.annotations.description!, stored.labels.pod!]) {
      assert.ok(v.length <= MAX_ALERT_TEXT, `kept ${v.length} chars`);
      assert.match(v, /… \[truncated\]$/);
    }
    assert.equal(stored.labels.service, 'checkout', 'short values are untouched');
  });

  test('__proto__ and constructor label names are accepted and stored as labels, never polluting', async () => {
    const body = samplePayload('a-firing-single.json')
      .replace('"fingerprint": "45b5a9c303a85250"', '"fingerprint": "b2"')
      .replace(
        '"alertname": "HarnessSingle",',
        '"alertname": "HarnessSingle", "__proto__": "p", "constructor": "c", "toString": "t",',
      )
      .replace(
        '"receiver": "webhook",',
        '"receiver": "webhook", "__proto__": {"polluted": "yes"}, "constructor": {"prototype": {"polluted": "yes"}},',
      );
    const res = await post(t.app, body);
    assert.equal(res.statusCode, 202, res.body);
    assert.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype untouched');
    const rec = await t.store.get(res.json().remediations[0].id);
    const labels = rec!.alerts.find((a) => a.fingerprint === 'b2')!.labels;
    assert.equal(Object.getOwnPropertyDescriptor(labels, '__proto__')?.value, 'p');
    assert.equal(Object.getOwnPropertyDescriptor(labels, 'constructor')?.value, 'c');
    assert.equal(Object.getOwnPropertyDescriptor(labels, 'toString')?.value, 't');
  });

  test('a label or annotation that is not a string is a 400 naming the field (no type coercion)', async () => {
    for (const [field, value] of [
      ['labels', ['checkout']],
      ['labels', 1],
      ['labels', true],
      ['labels', null],
      ['annotations', 5],
    ] as const) {
      const p = sampleJson('a-firing-single.json');
      alertOf(p).fingerprint = 'c3';
      (alertOf(p)[field] as Record<string, unknown>).service = value;
      const res = await post(t.app, p);
      assert.equal(res.statusCode, 400, `${field}.service = ${JSON.stringify(value)}`);
      assert.equal(res.json().error, 'invalid_payload');
      assert.match(res.json().message, new RegExp(`alerts/0/${field}/service`));
    }
    const p = sampleJson('a-firing-single.json');
    (p as Record<string, unknown>).truncatedAlerts = '3';
    assert.equal((await post(t.app, p)).statusCode, 400, 'truncatedAlerts as a string');
  });

  test('truncatedAlerts is bounded: 1e300 is not an Alertmanager payload', async () => {
    for (const n of [1e300, 1.5, -1, 1e12]) {
      const p = sampleJson('f-max-alerts-2-of-5.json');
      p.truncatedAlerts = n;
      const res = await post(t.app, p);
      assert.equal(res.statusCode, 400, String(n));
      assert.match(res.json().message, /truncatedAlerts/);
    }
    const metrics = await t.metrics.registry.metrics();
    assert.doesNotMatch(metrics, /e\+/, 'no counter reads 1e+300');
  });

  test('text/plain is a 415, like every body that is not JSON', async () => {
    const res = await post(t.app, samplePayload('a-firing-single.json'), { 'content-type': 'text/plain' });
    assert.equal(res.statusCode, 415);
    assert.equal(res.json().error, 'unsupported_media_type');
  });
});
