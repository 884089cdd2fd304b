import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { dropPrefix, testRedis, uniquePrefix } from '../support/redis.ts';
import { sampleJson, sampleTarget } from '../support/fixtures.ts';
import { testApp, TOKEN } from '../support/app.ts';
import type { Alert } from '../../src/core/types.ts';

const redis = testRedis();
const prefix = uniquePrefix('paging');
const auth = { authorization: `Bearer ${TOKEN}` };
let t: Awaited<ReturnType<typeof testApp>>;
const ids: string[] = [];

function alert(fingerprint: string, description = 'x'): Alert {
  const a = sampleJson('a-firing-single.json').alerts[0] as unknown as Alert;
  return { ...a, fingerprint, annotations: { ...a.annotations, description } };
}

before(async () => {
  t = await testApp({ redis, prefix, targets: [sampleTarget('checkout-test')], listMaxBytes: 64 * 1024 });
  // 7 records on distinct targets; three share one millisecond (the index orders them by id then)
  const times = [1000, 2000, 3000, 3000, 3000, 4000, 5000];
  for (const [i, ms] of times.entries()) {
    const adm = await t.store.admitFiring({
      target: `t${i}`,
      alert: alert(`f${i}`),
      targetsFiring: 1,
      now: new Date(Date.UTC(2026, 10, 26) + ms),
      dryRun: false,
    });
    ids.push(adm.remediationId);
  }
});
after(async () => {
  await t.close();
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

async function page(query: string) {
  const res = await t.app.inject({ url: `/v1/remediations?${query}`, headers: auth });
  assert.equal(res.statusCode, 200, res.body);
  return res.json() as { remediations: Array<{ id: string; target: string }>; nextCursor?: string | null };
}

describe('GET /v1/remediations: cursor paging with a bounded response', () => {
  test('limit + cursor walk every record once, newest first, and the last page has no nextCursor', async () => {
    const seen: string[] = [];
    let cursor: string | null | undefined;
    let pages = 0;
    do {
      const p = await page(`limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      assert.ok(p.remediations.length <= 3);
      seen.push(...p.remediations.map((r) => r.target));
      cursor = p.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    assert.equal(pages, 3);
    assert.equal(seen.length, 7);
    assert.equal(new Set(seen).size, 7, 'no record twice');
    assert.deepEqual(seen.slice(0, 2), ['t6', 't5'], 'newest first');
    assert.deepEqual(seen.slice(-1), ['t0']);
  });

  test('the response stays under the byte budget however high the limit: the rest is on the next page', async () => {
    const big = 'B'.repeat(4000);
    const fat = await t.store.admitFiring({
      target: 'fat',
      alert: alert('fat0', big),
      targetsFiring: 1,
      now: new Date(Date.UTC(2026, 10, 27)),
      dryRun: false,
    });
    // a record that is many times the budget on its own: 40 alerts of 4 KB (160 KB)
    for (let i = 1; i < 40; i++)
      await t.store.admitFiring({
        target: 'fat',
        alert: alert(`fat${i}`, big),
        targetsFiring: 1,
        now: new Date(Date.UTC(2026, 10, 27)),
        dryRun: false,
      });
    const res = await t.app.inject({ url: '/v1/remediations?limit=500', headers: auth });
    assert.equal(res.statusCode, 200);
    const body = res.json() as { remediations: Array<{ id: string }>; nextCursor: string | null };
    // one record is always served, even when it alone is over the budget
    assert.deepEqual(
      body.remediations.map((r) => r.id),
      [fat.remediationId],
    );
    assert.ok(body.nextCursor);
    const rest = await page(`limit=500&cursor=${encodeURIComponent(body.nextCursor)}`);
    assert.equal(rest.remediations.length, 7);
    assert.ok(Buffer.byteLength(JSON.stringify(rest)) <= 64 * 1024);
  });

  test('a cursor that is not one rewind made is a 400', async () => {
    const res = await t.app.inject({ url: '/v1/remediations?cursor=not-a-cursor', headers: auth });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().error, 'invalid_payload');
  });

  test('the OpenAPI description documents cursor, nextCursor and the 400', async () => {
    const doc = (await t.app.inject('/docs/json')).json();
    const get = doc.paths['/v1/remediations'].get;
    assert.ok(
      get.parameters.some((p: { name: string; in: string }) => p.name === 'cursor' && p.in === 'query'),
    );
    assert.ok(get.responses['400']);
    const schema = get.responses['200'].content['application/json'].schema;
    assert.ok(schema.properties.nextCursor, 'nextCursor in the 200 schema');
  });
});

describe('GET /v1/remediations: state (the dead letter) with target and cursor', () => {
  const base = Date.UTC(2026, 10, 28);
  const dl: string[] = []; // target dl, created 1..6 s after base
  let dm = '';

  async function create(target: string, fingerprint: string, ms: number): Promise<string> {
    const adm = await t.store.admitFiring({
      target,
      alert: alert(fingerprint),
      targetsFiring: 1,
      now: new Date(base + ms),
      dryRun: false,
    });
    // a queued remediation takes the target's next incidents: free the target so each alert gets its own
    await t.store.releaseActive(target, adm.remediationId);
    return adm.remediationId;
  }
  const fail = async (id: string, ms: number) => {
    const res = await t.store.transition(id, 'gave_up', { error: 'boom' }, new Date(base + ms));
    assert.ok(res.applied, `${id} failed`);
  };

  before(async () => {
    for (let i = 1; i <= 6; i++) dl.push(await create('dl', `dl${i}`, i * 1000));
    dm = await create('dm', 'dm1', 7000);
    // failed in another order than created: dl5 first, then dl1, dl3, and dm last
    await fail(dl[4]!, 60_000);
    await fail(dl[0]!, 61_000);
    await fail(dl[2]!, 62_000);
    await fail(dm, 63_000);
  });

  async function walk(query: string, max = 10) {
    const pages: string[][] = [];
    let cursor: string | null | undefined;
    do {
      const p = await page(`${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      pages.push(p.remediations.map((r) => r.id));
      cursor = p.nextCursor;
    } while (cursor && pages.length < max);
    assert.equal(cursor ?? null, null, 'the last page has no nextCursor');
    return pages;
  }

  test('state=failed pages the dead letter newest failure first, every failed record once, nothing else', async () => {
    assert.deepEqual(await walk('state=failed&limit=2'), [
      [dm, dl[2]],
      [dl[0], dl[4]],
    ]);
  });

  test('state=failed&target= pages only that target’s failed records', async () => {
    assert.deepEqual(await walk('state=failed&target=dl&limit=1'), [[dl[2]], [dl[0]], [dl[4]]]);
    assert.deepEqual(await walk('state=failed&target=dm&limit=5'), [[dm]]);
  });

  test('another state with a target filters the target’s index and keeps paging past the records it skips', async () => {
    assert.deepEqual(await walk('state=queued&target=dl&limit=2'), [[dl[5], dl[3]], [dl[1]]]);
    assert.deepEqual(await walk('state=merged&target=dl&limit=2'), [[]]);
  });

  test('a record retried out of the dead letter leaves the failed pages', async () => {
    const res = await t.store.transition(dl[0]!, 'retry', {}, new Date(base + 70_000));
    assert.ok(res.applied);
    try {
      assert.deepEqual(await walk('state=failed&target=dl&limit=1'), [[dl[2]], [dl[4]]]);
    } finally {
      await fail(dl[0]!, 61_000);
    }
  });

  test('the OpenAPI description documents state next to cursor', async () => {
    const doc = (await t.app.inject('/docs/json')).json();
    const params = doc.paths['/v1/remediations'].get.parameters as Array<{
      name: string;
      in: string;
      schema: { anyOf?: Array<{ const?: string; enum?: string[] }>; enum?: string[] };
    }>;
    const state = params.find((p) => p.name === 'state' && p.in === 'query');
    assert.ok(state, 'state is a query parameter');
    assert.match(JSON.stringify(state), /"failed"/);
    assert.ok(params.some((p) => p.name === 'cursor'));
  });
});
