import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { RemediationEvent } from '../../src/notify/slack.ts';
import { startRole } from '../../src/server.ts';
import { startGitHubEmulator, type GitHubEmulator } from '../support/github-emulator.ts';
import { SAMPLE_PATH, kustomization, seedSampleRepo } from '../support/gitops-sample.ts';
import { sampleJson } from '../support/fixtures.ts';
import { post } from '../support/app.ts';
import { startStack } from '../support/stack.ts';
import { spawnWorker, startSurvivor } from '../support/worker-child.ts';

/**
 * A transition's effects (Slack, the target's release, the follow-up jobs) run
 * after its state write. A worker that dies between the two must not lose them:
 * they are written with the state (the record's outbox) and drained by whoever
 * comes next, the job taken over or the sweep at worker start.
 */

const RELEASED = new Date('2026-11-26T00:10:00Z');
const NOW = '2026-11-26T00:40:00.000Z';
const clock = { now: () => new Date(NOW) };

type Stack = Awaited<ReturnType<typeof startStack>>;

async function until(what: string, ok: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('effects lost between a state write and its effects (real Redis, emulator, compiled policy)', () => {
  let gh: GitHubEmulator;
  let stack: Stack | undefined;
  let child: ChildProcess | undefined;
  let survivor: Awaited<ReturnType<typeof startRole>> | undefined;

  beforeEach(async () => {
    gh = await startGitHubEmulator();
    seedSampleRepo(gh, RELEASED);
  });
  afterEach(async () => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    child = undefined;
    await survivor?.close();
    survivor = undefined;
    await stack?.stop();
    stack = undefined;
    await gh.close();
    gh.assertNoUnknownRequests();
  });

  test('SIGKILL after the merged state is written, inside its effects: the survivor says it once, releases the target, schedules the heal check', async () => {
    const s = (stack = await startStack({ githubUrl: gh.url, clock, role: 'api' }));
    const w = spawnWorker(s, gh, { now: NOW, env: { REWIND_TEST_HANG_NOTIFY: '1' } });
    child = w.child;
    const output = w.output;
    const exited = new Promise((r) => w.child.once('exit', r));
    await until('the child worker', () => output().includes('WORKER READY'), 90_000);
    const res = await post(s.app, sampleJson('a-firing-single.json'));
    assert.equal(res.statusCode, 202);
    const id = (res.json().remediations as Array<{ id: string }>)[0]?.id;
    assert.ok(id);
    // The merged state is written; its first effect (Slack) hangs: the process dies there.
    await until('the merged transition', () => output().includes('NOTIFYING merged'), 30_000);
    w.child.kill('SIGKILL');
    await exited;
    const dead = await s.runtime.store.get(id);
    assert.equal(dead?.state, 'merged');
    assert.equal(
      await s.runtime.redis.get(`${s.prefix}:active:checkout-prod`),
      id,
      'killed before the release',
    );

    const events: RemediationEvent[] = [];
    survivor = await startSurvivor(s, events, { clock, lockDurationMs: 1_000, stalledIntervalMs: 500 });
    // the killed worker's drain lease (30 s) must lapse first: allow it, and a loaded machine, plenty
    await until('the Slack message', () => events.length > 0, 90_000);
    await until(
      'the release of the target',
      async () => (await s.runtime.redis.get(`${s.prefix}:active:checkout-prod`)) === null,
    );
    await until('the heal check', async () =>
      Boolean(await s.runtime.queue.queue.getJob(`heal-check-${id}`)),
    );
    await s.jobFinished(`remediate-${id}`, 30_000);
    assert.deepEqual(
      [...events.map((e) => e.kind), ...(output().match(/^EVENT /gm) ?? [])],
      ['merged'],
      'one Slack message in all',
    );
    const rec = await s.runtime.store.get(id);
    const pulls = gh.pulls('acme', 'gitops');
    assert.equal(rec?.state, 'merged');
    assert.equal(rec?.error, null);
    assert.equal(pulls.length, 1);
    assert.equal(rec?.mergeCommit, pulls[0]?.mergeCommitSha);
    assert.equal(gh.getFile('acme', 'gitops', 'main', SAMPLE_PATH), kustomization('v1.1.0'));
    assert.deepEqual(await s.runtime.store.withPendingEffects(), []);
  });

  test('effects left pending by a worker whose job will not run again: the sweep at worker start drains them, once when two workers start together', async () => {
    const s = (stack = await startStack({ githubUrl: gh.url, clock, role: 'api' }));
    const res = await post(s.app, sampleJson('a-firing-single.json'));
    assert.equal(res.statusCode, 202);
    const id = (res.json().remediations as Array<{ id: string }>)[0]?.id;
    assert.ok(id);
    // A worker wrote these transitions and died before any effect: only the record knows.
    const { store } = s.runtime;
    const at = clock.now();
    assert.equal((await store.transition(id, 'start', {}, at)).applied, true);
    await store.update(
      id,
      { pullRequest: { number: 7, url: 'https://github.com/acme/gitops/pull/7', branch: 'rewind/x' } },
      at,
    );
    assert.equal((await store.transition(id, 'merged', { mergeCommit: 'a'.repeat(40) }, at)).applied, true);
    await s.runtime.queue.queue.remove(`remediate-${id}`); // its job is gone: nothing would run it again
    assert.deepEqual(await store.withPendingEffects(), [id]);

    const events: RemediationEvent[] = [];
    // Two workers start at once and both sweep (a long lock: nothing but the sweeps act in this test).
    const lock = { clock, lockDurationMs: 60_000, stalledIntervalMs: 60_000 };
    const [one, two] = await Promise.all([startSurvivor(s, events, lock), startSurvivor(s, events, lock)]);
    survivor = one;
    try {
      await until('the sweep', async () => (await store.withPendingEffects()).length === 0);
      await new Promise((r) => setTimeout(r, 200)); // a second sweep that got as far would have said it by now
    } finally {
      await two.close();
    }
    assert.deepEqual(
      events.map((e) => e.kind),
      ['merged'],
    );
    assert.equal(await s.runtime.redis.get(`${s.prefix}:active:checkout-prod`), null);
    assert.ok(await s.runtime.queue.queue.getJob(`heal-check-${id}`));
    assert.deepEqual(await store.pendingEffects(id), []);
  });
});
