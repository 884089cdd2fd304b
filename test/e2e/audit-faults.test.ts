import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { startGitHubEmulator, type GitHubEmulator } from '../support/github-emulator.ts';
import { SAMPLE_PATH, kustomization, seedSampleRepo } from '../support/gitops-sample.ts';
import { sampleJson } from '../support/fixtures.ts';
import { post } from '../support/app.ts';
import { startStack } from '../support/stack.ts';

/**
 * The audit store (Redis) fails right after a GitHub effect went through: every
 * write the worker makes for one remediation (checkpoints, the compare-and-set
 * transitions, the rollback history, the Slack claim, the target's release, the
 * follow-up jobs it enqueues) is made to fail once, in turn. A write fails
 * either before it reaches Redis or after (applied, its answer lost: a crash
 * between the write and what follows). The job is retried; the end state must
 * be what GitHub holds, with each outcome said exactly once.
 */

const RELEASED = new Date('2026-11-26T00:10:00Z');
const clock = { now: () => new Date('2026-11-26T00:40:00Z') };

type Stack = Awaited<ReturnType<typeof startStack>>;

/** The store's writes (its reads and the webhook's admission are left alone). */
const STORE_WRITES = [
  'update',
  'transition',
  'recordRollback',
  'claimNotification',
  'releaseActive',
  'claimResolution',
  'releaseResolution',
  'recordNotHealed',
  'effectDone',
  'takeDrain',
  'releaseDrain',
] as const;

type Fault = { at: number; applied: boolean } | null;

function alert(severity: 'critical' | 'warning') {
  const p = sampleJson('a-firing-single.json');
  const a = p.alerts[0] as Record<string, unknown> & { labels: Record<string, string> };
  a.labels = { ...a.labels, severity };
  p.commonLabels = { ...(p.commonLabels as Record<string, string>), severity };
  return p;
}

/**
 * Wraps the worker's writes; returns the names of the writes made so far. With
 * a fault, write number `at` throws once like a dropped Redis connection.
 */
function instrument(s: Stack, fault: Fault): string[] {
  const seen: string[] = [];
  const fail = (name: string) => {
    seen.push(name);
    return fault !== null && seen.length === fault.at;
  };
  const store = s.runtime.store as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
  for (const name of STORE_WRITES) {
    const real = store[name];
    if (typeof real !== 'function') continue;
    store[name] = async (...args: unknown[]) => {
      const failing = fail(name);
      if (failing && !fault?.applied) throw new Error('Connection is closed.');
      const out = await real(...args);
      if (failing) throw new Error('Connection is closed.');
      return out;
    };
  }
  const queue = s.runtime.queue;
  const enqueue = queue.enqueue.bind(queue);
  queue.enqueue = async (data, opts) => {
    const failing = fail(`enqueue:${data.kind}`);
    if (failing && !fault?.applied) throw new Error('Connection is closed.');
    await enqueue(data, opts);
    if (failing) throw new Error('Connection is closed.');
  };
  return seen;
}

const rollbackCommits = (gh: GitHubEmulator) =>
  gh.listCommits('acme', 'gitops', 'main').filter((c) => /^fix\(prod\): roll back/.test(c.message));

async function run(mode: 'merge' | 'review', fault: Fault) {
  const gh = await startGitHubEmulator();
  seedSampleRepo(gh, RELEASED);
  const s = await startStack({ githubUrl: gh.url, clock });
  try {
    const writes = instrument(s, fault);
    const res = await post(s.app, alert(mode === 'merge' ? 'critical' : 'warning'));
    assert.equal(res.statusCode, 202, res.body);
    const id = (res.json().remediations as Array<{ id: string }>)[0]?.id;
    assert.ok(id);
    const rec = await s.settled(id, 20_000);
    // What a retry must have made happen, as GitHub, Slack and the queue see it.
    const pulls = gh.pulls('acme', 'gitops');
    const want = mode === 'merge' ? 'merged' : 'pr_opened';
    assert.equal(rec.state, want, `${rec.reason ?? ''} ${rec.error ?? ''}`);
    assert.equal(rec.error, null, 'a failure the retry recovered from is not the outcome');
    assert.deepEqual(rec.change && [rec.change.from, rec.change.to], ['v1.2.0', 'v1.1.0']);
    assert.equal(pulls.length, 1);
    assert.equal(rec.pullRequest?.number, pulls[0]?.number);
    if (mode === 'merge') {
      assert.equal(pulls[0]?.merged, true);
      assert.equal(rec.mergeCommit, pulls[0]?.mergeCommitSha);
      assert.equal(rollbackCommits(gh).length, 1);
      assert.equal(gh.getFile('acme', 'gitops', 'main', SAMPLE_PATH), kustomization('v1.1.0'));
      assert.ok(await s.runtime.queue.queue.getJob(`heal-check-${id}`), 'the heal check is scheduled');
    } else {
      assert.equal(pulls[0]?.state, 'open');
      assert.equal(rollbackCommits(gh).length, 0);
    }
    // Slack may be said by the drain right after the retry's own write: wait for it, then count.
    const until = Date.now() + 10_000;
    while (s.events.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 25));
    assert.deepEqual(
      s.events.map((e) => e.kind),
      [want],
    );
    assert.equal(
      await s.runtime.redis.get(`${s.prefix}:active:checkout-prod`),
      null,
      'the target takes new remediations again',
    );
    return writes;
  } finally {
    await s.stop();
    await gh.close();
    gh.assertNoUnknownRequests();
  }
}

// The writes of a clean run, read from the code as it runs: each one becomes a fault below.
const clean = {
  merge: await run('merge', null),
  review: await run('review', null),
};

describe('an audit write fails after each external step (real Redis, emulator, compiled policy)', () => {
  for (const mode of ['merge', 'review'] as const) {
    test(`${mode}: the clean run's writes include every checkpoint`, () => {
      const w = clean[mode];
      for (const name of ['transition', 'update', 'recordRollback', 'claimNotification', 'releaseActive'])
        assert.ok(w.includes(name), `${name} in ${w.join(', ')}`);
      if (mode === 'merge') assert.ok(w.includes('enqueue:heal_check'), w.join(', '));
    });
    clean[mode].forEach((name, i) => {
      for (const applied of [false, true]) {
        test(`${mode}: write ${i + 1} (${name}) fails ${applied ? 'after Redis applied it' : 'before it reached Redis'}`, async () => {
          const writes = await run(mode, { at: i + 1, applied });
          assert.ok(writes.length > i, 'the fault was injected');
        });
      }
    });
  }
});
