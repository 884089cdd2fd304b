import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { dropPrefix, testRedis, uniquePrefix } from '../support/redis.ts';
import { sampleJson, sampleTarget } from '../support/fixtures.ts';
import { post, testApp, TOKEN } from '../support/app.ts';

const redis = testRedis();
const prefix = uniquePrefix('ops');
let t: Awaited<ReturnType<typeof testApp>>;

before(async () => {
  t = await testApp({ redis, prefix, targets: [sampleTarget('checkout-test')] });
});
after(async () => {
  await t.close();
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

describe('health, readiness, metrics, docs, audit API', () => {
  test('/healthz and /readyz answer without a token', async () => {
    assert.equal((await t.app.inject('/healthz')).statusCode, 200);
    const ready = await t.app.inject('/readyz');
    assert.equal(ready.statusCode, 200);
    assert.deepEqual(ready.json(), { status: 'ready', checks: { redis: true, policy: true } });
  });

  test('/readyz is 503 when the policy is not loaded or Redis is unreachable', async () => {
    const noPolicy = await testApp({ redis, prefix, targets: [], policyReady: false });
    const res = await noPolicy.app.inject('/readyz');
    assert.equal(res.statusCode, 503);
    assert.deepEqual(res.json().checks, { redis: true, policy: false });
    await noPolicy.close();

    const dead = new Redis('redis://127.0.0.1:1', {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      lazyConnect: true,
      retryStrategy: () => null,
    });
    dead.on('error', () => {});
    const noRedis = await testApp({ redis: dead, prefix, targets: [] });
    const res2 = await noRedis.app.inject('/readyz');
    assert.equal(res2.statusCode, 503);
    assert.equal(res2.json().checks.redis, false);
    const list = await noRedis.app.inject({
      url: '/v1/remediations',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    assert.equal(list.statusCode, 503);
    assert.equal(list.json().error, 'queue_unavailable');
    assert.match(list.json().message, /^list remediations: the audit store \(Redis\) is unavailable/);
    await noRedis.app.close();
    dead.disconnect();
  });

  test('/metrics exposes the rewind_ series in Prometheus text format', async () => {
    await post(t.app, sampleJson('a-firing-single.json'));
    await post(t.app, sampleJson('f-max-alerts-2-of-5.json'));
    await post(t.app, '{', {});
    const res = await t.app.inject('/metrics');
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/plain/);
    assert.match(res.body, /rewind_webhook_requests_total\{code="202"\} 2/);
    assert.match(res.body, /rewind_alerts_total\{status="firing",outcome="truncated"\} 3/);
    assert.match(res.body, /rewind_alerts_total\{status="firing",outcome="ignored"\} 2/);
    assert.match(res.body, /rewind_webhook_requests_total\{code="400"\} 1/);
    assert.match(res.body, /rewind_alerts_total\{status="firing",outcome="accepted"\} 1/);
    assert.match(res.body, /rewind_queue_jobs\{state="waiting"\} 1/);
    assert.doesNotMatch(res.body, new RegExp(TOKEN));
  });

  test('/docs/json is an OpenAPI description of the routes; /docs serves a page', async () => {
    const spec = (await t.app.inject('/docs/json')).json();
    assert.match(spec.openapi, /^3\./);
    assert.ok(spec.paths['/v1/alertmanager'].post);
    assert.ok(spec.paths['/v1/remediations'].get);
    assert.ok(spec.paths['/v1/remediations/{id}'].get);
    assert.deepEqual(Object.keys(spec.paths['/v1/alertmanager'].post.responses).sort(), [
      '202',
      '400',
      '401',
      '413',
      '415',
      '503',
    ]);
    const page = await t.app.inject('/docs');
    assert.ok([200, 302].includes(page.statusCode));
  });

  test('/v1/remediations needs the token and returns audit records', async () => {
    assert.equal((await t.app.inject('/v1/remediations')).statusCode, 401);
    const auth = { authorization: `Bearer ${TOKEN}` };
    const list = await t.app.inject({ url: '/v1/remediations?target=checkout-test&limit=5', headers: auth });
    assert.equal(list.statusCode, 200);
    const [rec] = list.json().remediations;
    assert.equal(rec.target, 'checkout-test');
    assert.equal(rec.state, 'queued');
    assert.equal(rec.alerts[0].labels.alertname, 'HarnessSingle');
    assert.ok(rec.steps.received);
    const one = await t.app.inject({ url: `/v1/remediations/${rec.id}`, headers: auth });
    assert.equal(one.json().id, rec.id);
    const missing = await t.app.inject({ url: '/v1/remediations/rem_doesnotexist', headers: auth });
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json().error, 'not_found');
    const bad = await t.app.inject({ url: '/v1/remediations?limit=0', headers: auth });
    assert.equal(bad.statusCode, 400);
  });
});
