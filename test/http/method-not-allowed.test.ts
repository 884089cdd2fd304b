import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createAuditStore } from '../../src/audit/store.ts';
import { buildTargetIndex } from '../../src/core/targets.ts';
import { buildApp } from '../../src/http/app.ts';
import { routeMethodsOf } from '../../src/http/method-not-allowed.ts';
import { createMetrics } from '../../src/observability/metrics.ts';
import { createRemediationQueue } from '../../src/queue/queue.ts';
import { dropPrefix, testRedis, uniquePrefix } from '../support/redis.ts';
import { sampleTarget } from '../support/fixtures.ts';
import { TOKEN } from '../support/app.ts';

const STANDARD = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
const redis = testRedis();
const prefix = uniquePrefix('m405');
const queue = createRemediationQueue({ connection: redis, prefix });
let app: Awaited<ReturnType<typeof buildApp>>;

before(async () => {
  app = await buildApp({
    targets: buildTargetIndex([sampleTarget('checkout-test')]),
    store: createAuditStore({ redis, prefix }),
    queue,
    metrics: createMetrics({ defaultMetrics: false, queueCounts: () => queue.counts() }),
    clock: { now: () => new Date() },
    dryRun: false,
    webhookToken: TOKEN,
    bodyLimit: 1024 * 1024,
    checks: { redis: async () => true, policy: () => true },
    // every optional route on: the 405s must cover them all (the handlers are never reached here)
    targetsView: { list: async () => [], release: async () => null },
    fluxEvents: { handle: async () => ({ outcome: 'ignored' }) as never },
  });
});
after(async () => {
  await app.close();
  await queue.close();
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

/** A concrete URL for a route path (params filled in, a wildcard names a file swagger-ui serves). */
const concrete = (path: string) =>
  path
    .replace(/:id\b/, 'rem_abc123')
    .replace(/:[a-z]+/g, 'x')
    .replace(/\*$/, 'swagger-ui.css');
const auth = { authorization: `Bearer ${TOKEN}` };

describe('405 for a method a route does not take', () => {
  test('the collected routes are every route the app serves (documented, hidden and /docs)', async () => {
    const routes = routeMethodsOf(app);
    const docs = (await app.inject('/docs/json')).json() as {
      paths: Record<string, Record<string, unknown>>;
    };
    const documented = Object.keys(docs.paths).map((p) => p.replace(/\{([^}]+)\}/g, ':$1'));
    assert.ok(documented.length >= 6, `documented paths: ${documented.join(' ')}`);
    for (const p of [
      ...documented,
      '/healthz',
      '/readyz',
      '/metrics',
      '/docs/json',
      '/v1/flux/events',
      '/v1/targets',
    ])
      assert.ok(routes.has(p), `${p} is collected`);
    for (const [p, ops] of Object.entries(docs.paths))
      for (const m of Object.keys(ops))
        assert.ok(routes.get(p.replace(/\{([^}]+)\}/g, ':$1'))?.has(m.toUpperCase()), `${m} ${p}`);
  });

  test('every route path answers 405 + Allow + the error body for each standard method it does not take', async () => {
    const routes = routeMethodsOf(app);
    let checked = 0;
    for (const [path, methods] of routes) {
      const url = concrete(path);
      const allow = STANDARD.filter((m) => methods.has(m)).join(', ');
      for (const method of STANDARD) {
        const res = await app.inject({ method, url, headers: auth });
        if (methods.has(method)) {
          assert.notEqual(res.statusCode, 405, `${method} ${url} is taken`);
          // a 404 here is the handler's (no such record or file), never the router's
          assert.doesNotMatch(res.body, /no route/, `${method} ${url} is routed`);
          continue;
        }
        assert.equal(res.statusCode, 405, `${method} ${url}`);
        assert.equal(res.headers.allow, allow, `Allow on ${method} ${url}`);
        if (method !== 'HEAD') {
          const body = res.json();
          assert.equal(body.error, 'method_not_allowed');
          assert.match(body.message, new RegExp(`^${method} is not allowed on `));
        }
        checked++;
      }
    }
    assert.ok(checked > 40, `${checked} method/path pairs checked`);
  });

  test('examples: DELETE /v1/alertmanager, PUT /healthz, POST /metrics', async () => {
    const del = await app.inject({ method: 'DELETE', url: '/v1/alertmanager', headers: auth });
    assert.equal(del.statusCode, 405);
    assert.equal(del.headers.allow, 'POST');
    assert.deepEqual(del.json(), {
      error: 'method_not_allowed',
      message: 'DELETE is not allowed on /v1/alertmanager; use POST',
    });
    const put = await app.inject({ method: 'PUT', url: '/healthz' });
    assert.equal(put.statusCode, 405);
    assert.equal(put.headers.allow, 'GET, HEAD');
    assert.equal((await app.inject({ method: 'POST', url: '/metrics' })).statusCode, 405);
  });

  test('/v1 paths answer 401 without the token before any 405; open paths answer 405 without one', async () => {
    const res = await app.inject({ method: 'DELETE', url: '/v1/alertmanager' });
    assert.equal(res.statusCode, 401);
    assert.equal(res.json().error, 'unauthorized');
    assert.equal((await app.inject({ method: 'DELETE', url: '/readyz' })).statusCode, 405);
  });

  test('unknown paths stay 404 whatever the method', async () => {
    for (const method of STANDARD) {
      const res = await app.inject({ method, url: '/nope', headers: auth });
      assert.equal(res.statusCode, 404, method);
    }
    assert.equal((await app.inject({ method: 'DELETE', url: '/v1/nope', headers: auth })).statusCode, 404);
  });

  test('the OpenAPI documents real operations only, and the 400 of routes that validate params or query', async () => {
    const docs = (await app.inject('/docs/json')).json() as {
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    };
    for (const [p, ops] of Object.entries(docs.paths)) {
      assert.ok(!('delete' in ops) && !('put' in ops) && !('patch' in ops), `no fake operations on ${p}`);
      for (const [m, op] of Object.entries(ops)) {
        assert.ok('401' in op.responses, `${m} ${p} documents 401`);
        assert.ok('503' in op.responses, `${m} ${p} documents 503`);
      }
    }
    assert.ok('400' in docs.paths['/v1/remediations']!.get!.responses);
    assert.ok('400' in docs.paths['/v1/remediations/{id}']!.get!.responses);
    assert.ok('400' in docs.paths['/v1/targets/{name}/release']!.post!.responses);
  });
});
