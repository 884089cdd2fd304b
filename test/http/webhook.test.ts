import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { dropPrefix, testRedis, uniquePrefix } from '../support/redis.ts';
import { SAMPLE_PAYLOADS, sampleJson, samplePayload, sampleTarget } from '../support/fixtures.ts';
import { post, testApp, TOKEN } from '../support/app.ts';

const redis = testRedis();
const prefix = uniquePrefix('webhook');
const targets = [
  sampleTarget('checkout-test'),
  sampleTarget('api-test', { match: { service: 'api', env: 'test' } }),
  sampleTarget('frontend-test', { match: { service: '~front.*', env: 'test' } }),
];
let t: Awaited<ReturnType<typeof testApp>>;

before(async () => {
  t = await testApp({ redis, prefix, targets, bodyLimit: 64 * 1024 });
});
after(async () => {
  await t.close();
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

describe('request log', () => {
  test('one line per request, at completion: debug when it went well, info when it did not; never the token', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = {
      level: 'info',
      stream: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
    };
    const p = uniquePrefix('webhook-log');
    const logged = await testApp({ redis, prefix: p, targets, logger });
    try {
      const ok = await post(logged.app, samplePayload('a-firing-single.json'));
      assert.equal(ok.statusCode, 202);
      assert.deepEqual(
        lines.filter((l) => l.msg === 'request completed'),
        [],
        'a storm of accepted notifications writes no request lines at info',
      );
      // a new remediation is news; another incident joining it (every pod of a bad release) is not
      const admitted = () => lines.filter((l) => l.msg === 'firing alert admitted');
      assert.deepEqual(
        admitted().map((l) => l.outcome),
        ['created'],
      );
      const other = sampleJson('a-firing-single.json');
      (other.alerts[0] as Record<string, unknown>).fingerprint = 'abababababababab';
      (other.alerts[0] as Record<string, unknown>).startsAt = '2026-11-26T02:00:00Z';
      assert.equal((await post(logged.app, other)).json().remediations[0].id, ok.json().remediations[0].id);
      assert.equal(admitted().length, 1, 'an attached incident writes no info line');
      const denied = await post(logged.app, samplePayload('a-firing-single.json'), {
        authorization: `Bearer ${TOKEN}x`,
      });
      assert.equal(denied.statusCode, 401);
      const completed = lines.filter((l) => l.msg === 'request completed');
      assert.equal(completed.length, 1);
      assert.equal(completed[0]?.statusCode, 401);
      assert.equal(completed[0]?.route, '/v1/alertmanager');
      assert.equal(typeof completed[0]?.responseTimeMs, 'number');
      assert.ok(!lines.some((l) => l.msg === 'incoming request'));
      assert.ok(!JSON.stringify(lines).includes(TOKEN));
    } finally {
      await logged.close();
      await dropPrefix(redis, p);
    }
  });
});

describe('POST /v1/alertmanager', () => {
  test('401 without a token, with a wrong token, and with another scheme; nothing is stored', async () => {
    const body = samplePayload('a-firing-single.json');
    for (const authorization of [undefined, 'Bearer nope', `Basic ${TOKEN}`, `Bearer ${TOKEN}x`]) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/v1/alertmanager',
        headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
        payload: body,
      });
      assert.equal(res.statusCode, 401, String(authorization));
      assert.equal(res.json().error, 'unauthorized');
      assert.equal(res.headers['www-authenticate'], 'Bearer realm="rewind"');
    }
    assert.equal((await t.store.list({ limit: 10 })).length, 0);
  });

  test('401 for every spelling of a /v1 route: percent-encoded paths and absolute-form targets reach the same handlers', async () => {
    const body = samplePayload('a-firing-single.json');
    for (const url of ['/%761/alertmanager', '/v%31/alertmanager', 'http://rewind.example/v1/alertmanager']) {
      const res = await t.app.inject({
        method: 'POST',
        url,
        headers: { 'content-type': 'application/json' },
        payload: body,
      });
      assert.equal(res.statusCode, 401, url);
    }
    for (const url of ['/%761/remediations', '/v%31/remediations/rem_abc']) {
      assert.equal((await t.app.inject({ url })).statusCode, 401, url);
    }
    assert.equal((await t.store.list({ limit: 10 })).length, 0, 'nothing stored without a token');
  });

  test('415 for a body that is not JSON', async () => {
    const res = await post(t.app, 'alerts=1', { 'content-type': 'application/x-www-form-urlencoded' });
    assert.equal(res.statusCode, 415);
    assert.equal(res.json().error, 'unsupported_media_type');
  });

  test('413 for a body over the limit', async () => {
    const big = sampleJson('a-firing-single.json');
    big.padding = 'x'.repeat(70 * 1024);
    const res = await post(t.app, big);
    assert.equal(res.statusCode, 413);
    assert.equal(res.json().error, 'payload_too_large');
  });

  test('400 for invalid JSON and for payloads that are not Alertmanager v4, saying what is wrong', async () => {
    const bad = await post(t.app, '{"alerts": [');
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().error, 'invalid_json');

    const { alerts: _dropped, ...noAlerts } = sampleJson('a-firing-single.json');
    const res = await post(t.app, noAlerts);
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().error, 'invalid_payload');
    assert.match(res.json().message, /alerts/);

    const badStatus = sampleJson('a-firing-single.json');
    (badStatus.alerts[0] as Record<string, unknown>).status = 'burning';
    const res2 = await post(t.app, badStatus);
    assert.equal(res2.statusCode, 400);
    assert.match(res2.json().message, /alerts\/0\/status/);

    const noFingerprint = sampleJson('a-firing-single.json');
    delete (noFingerprint.alerts[0] as Record<string, unknown>).fingerprint;
    assert.equal((await post(t.app, noFingerprint)).statusCode, 400);
  });

  test('accepts unknown extra fields newer Alertmanagers send', async () => {
    const p = sampleJson('c-resolved-single.json');
    p.notification_reason = 'repeat';
    p.routeLabels = { team: 'x' };
    (p.alerts[0] as Record<string, unknown>).extra = { nested: true };
    const res = await post(t.app, p);
    assert.equal(res.statusCode, 202);
  });

  test('a long Prometheus generatorURL (a big expression, URL-encoded) is accepted, not a 400 Alertmanager drops', async () => {
    const p = sampleJson('b-group-3-services.json');
    const expr = encodeURIComponent(
      'sum by (service) (rate(http_requests_total{code=~"5..",env="test"}[5m])) / sum by (service) (rate(http_requests_total{env="test"}[5m])) > 0.05 or '.repeat(
        40,
      ),
    );
    (p.alerts[0] as Record<string, unknown>).generatorURL =
      `http://prometheus:9090/graph?g0.expr=${expr}&g0.tab=1`;
    const res = await post(t.app, p);
    assert.equal(res.statusCode, 202, res.body);
  });

  test('each real sample payload is accepted with the right counts', async () => {
    const expected: Record<
      (typeof SAMPLE_PAYLOADS)[number],
      { received: number; accepted: number; ignored: number }
    > = {
      'a-firing-single.json': { received: 1, accepted: 1, ignored: 0 },
      // checkout is not in the group; api and frontend match, worker matches no target
      'b-group-3-services.json': { received: 3, accepted: 2, ignored: 1 },
      'b2-group-partial-resolve.json': { received: 3, accepted: 2, ignored: 1 },
      // the resolution of a-firing-single, which was admitted above
      'c-resolved-single.json': { received: 1, accepted: 1, ignored: 0 },
      'f-max-alerts-2-of-5.json': { received: 2, accepted: 0, ignored: 2 },
    };
    for (const name of SAMPLE_PAYLOADS) {
      const res = await post(t.app, samplePayload(name));
      assert.equal(res.statusCode, 202, name);
      const body = res.json();
      assert.deepEqual(
        { received: body.received, accepted: body.accepted, ignored: body.ignored },
        expected[name],
        name,
      );
    }
  });
});
