import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { startGitHubEmulator, type GitHubEmulator } from '../support/github-emulator.ts';
import { seedSampleRepo } from '../support/gitops-sample.ts';
import { sampleJson } from '../support/fixtures.ts';
import { post, TOKEN } from '../support/app.ts';
import { CHECKOUT_TARGET, startStack } from '../support/stack.ts';

const FLUX = join(import.meta.dirname, '..', 'fixtures', 'flux');
const DOC_SHA = '731f7eaddfb6af01cb2173e18f0f75b0ba780ef1';
const RELEASED = new Date('2026-11-26T00:10:00Z');
const BASE = Date.parse('2026-11-26T00:40:00Z');
const STARTED = Date.now();
const clock = { now: () => new Date(BASE + (Date.now() - STARTED)) };
const SECRET = 'receiver-hmac-key';

/** A recorded event with the merge commit in place of the documentation's sha. */
function event(file: string, sha: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(FLUX, file), 'utf8').replaceAll(DOC_SHA, sha)) as Record<
    string,
    unknown
  >;
}

describe('after the merge: Flux Receiver called, notification-controller events verify', () => {
  let gh: GitHubEmulator;
  let receiver: Server;
  let receiverUrl: string;
  const received: { body: string; signature: string | undefined; at: number }[] = [];
  let stack: Awaited<ReturnType<typeof startStack>>;

  before(async () => {
    gh = await startGitHubEmulator();
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({
          body: Buffer.concat(chunks).toString('utf8'),
          signature: req.headers['x-signature'] as string | undefined,
          at: Date.now(),
        });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook/0a1b2c3d`;
  });
  afterEach(async () => {
    await stack?.stop();
    received.length = 0;
    gh.assertNoUnknownRequests();
  });
  after(async () => {
    await gh.close();
    await new Promise((r) => receiver.close(r));
  });

  async function merged(extra = '') {
    seedSampleRepo(gh, RELEASED);
    stack = await startStack({
      githubUrl: gh.url,
      clock,
      targets: `${CHECKOUT_TARGET}    flux: { receiver: "${receiverUrl}", kustomization: apps/webapp }\n${extra}`,
      env: { REWIND_FLUX_RECEIVER_SECRET: SECRET },
    });
    const res = await post(stack.app, sampleJson('a-firing-single.json'));
    const id = res.json().remediations[0].id as string;
    const rec = await stack.waitFor(id, 'merged');
    const sha = gh.listCommits('acme', 'gitops', 'main')[0]?.sha ?? '';
    const end = Date.now() + 10_000;
    while (!received.length && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    return { id, rec, sha };
  }

  const send = (body: unknown) =>
    stack.app.inject({
      method: 'POST',
      url: '/v1/flux/events',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      payload: JSON.stringify(body),
    });

  test('the Receiver is called right after the merge, HMAC-signed; ReconciliationSucceeded at the merge commit verifies', async () => {
    const { id, sha } = await merged();
    assert.equal(received.length, 1);
    const call = received[0];
    assert.ok(call);
    assert.equal(call.signature, `sha256=${createHmac('sha256', SECRET).update(call.body).digest('hex')}`);
    assert.equal(JSON.parse(call.body).revision, `main@sha1:${sha}`);

    // an event for another commit and a GitRepository event change nothing
    const other = await send(event('reconciliation-succeeded.json', DOC_SHA));
    assert.equal(other.statusCode, 202);
    assert.equal(other.json().outcome, 'ignored');
    const foreign = await send(event('gitrepository-artifact.json', sha));
    assert.deepEqual([foreign.statusCode, foreign.json().outcome], [202, 'ignored']);
    assert.equal((await stack.runtime.store.get(id))?.state, 'merged');

    const ok = await send(event('reconciliation-succeeded.json', sha));
    assert.equal(ok.statusCode, 202);
    assert.deepEqual(ok.json(), { outcome: 'verified', remediationId: id });
    const rec = await stack.runtime.store.get(id);
    assert.equal(rec?.state, 'verified');
    assert.match(rec?.verification?.reason ?? '', /ReconciliationSucceeded/);
    // a repeat of the event is noted, not a second verdict
    assert.equal((await send(event('reconciliation-succeeded.json', sha))).json().outcome, 'noted');
    const metrics = await stack.runtime.metrics.registry.metrics();
    assert.match(metrics, /rewind_flux_events_total\{outcome="ignored"\} 2/);
    assert.match(metrics, /rewind_verifications_total\{result="verified"\} 1/);
  });

  test("an error event at the merge commit (the documentation's own payload) fails verification", async () => {
    const { id, sha } = await merged();
    const res = await send(event('validation-failed-docs.json', sha));
    assert.deepEqual(res.json(), { outcome: 'unverified', remediationId: id });
    const rec = await stack.runtime.store.get(id);
    assert.equal(rec?.state, 'unverified');
    assert.match(rec?.verification?.reason ?? '', /ValidationFailed: service\/apps\/webapp validation error/);
    assert.ok(stack.events.some((e) => e.kind === 'unverified'));
  });

  test('no event before verify.timeout: unverified, saying so', async () => {
    const { id } = await merged('    verify: { timeout: 1s }\n');
    const end = Date.now() + 10_000;
    let rec = await stack.runtime.store.get(id);
    while (rec?.state === 'merged' && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 50));
      rec = await stack.runtime.store.get(id);
    }
    assert.equal(rec?.state, 'unverified');
    assert.match(rec?.verification?.reason ?? '', /no verdict before verify\.timeout/);
  });

  test('events endpoint: 401 without the token, 400 for a non-event, 405 for GET', async () => {
    await merged();
    const noAuth = await stack.app.inject({ method: 'POST', url: '/v1/flux/events', payload: {} });
    assert.equal(noAuth.statusCode, 401);
    assert.equal((await send({ hello: 'world' })).statusCode, 400);
    const get = await stack.app.inject({
      method: 'GET',
      url: '/v1/flux/events',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    assert.equal(get.statusCode, 405);
  });
});
