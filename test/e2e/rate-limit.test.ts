import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { startGitHubEmulator, type GitHubEmulator } from '../support/github-emulator.ts';
import { seedSampleRepo } from '../support/gitops-sample.ts';
import { sampleJson } from '../support/fixtures.ts';
import { post } from '../support/app.ts';
import { startStack } from '../support/stack.ts';

const RELEASED = new Date('2026-11-26T00:10:00Z');
const clock = { now: () => new Date('2026-11-26T00:40:00Z') };

describe('a secondary rate limit that outlasts the in-process retries (emulator, real Redis and queue)', () => {
  let gh: GitHubEmulator;
  let stack: Awaited<ReturnType<typeof startStack>> | undefined;
  beforeEach(async () => {
    gh = await startGitHubEmulator();
  });
  afterEach(async () => {
    await stack?.stop();
    stack = undefined;
    await gh.close();
    gh.assertNoUnknownRequests();
  });

  test('the next queue attempt waits for retry-after (not the 20 ms backoff), the record says so, it is counted', async () => {
    seedSampleRepo(gh, RELEASED);
    const at: number[] = [];
    gh.beforeNext({ method: 'POST', pathPattern: /\/pulls$/, times: 4, run: () => void at.push(Date.now()) });
    // one try and the two in-process retries all refused: the job attempt fails
    gh.secondaryRateLimitNext({ method: 'POST', pathPattern: /\/pulls$/, times: 3, retryAfterSeconds: 2 });
    const s = (stack = await startStack({ githubUrl: gh.url, clock }));
    const res = await post(s.app, sampleJson('a-firing-single.json'));
    assert.equal(res.statusCode, 202, res.body);
    const id = (res.json().remediations as Array<{ id: string }>)[0]!.id;

    const deadline = Date.now() + 10_000;
    let waiting = await s.runtime.store.get(id);
    while (!/rate limit/.test(waiting?.error ?? '') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
      waiting = await s.runtime.store.get(id);
    }
    assert.match(
      waiting?.error ?? '',
      /secondary rate limit.*GitHub asks to wait 2 s; the next attempt waits until then/,
    );

    const rec = await s.settled(id, 20_000);
    assert.equal(rec.state, 'merged', `${rec.reason ?? ''} ${rec.error ?? ''}`);
    assert.equal(at.length, 4);
    const gap = at[3]! - at[2]!;
    assert.ok(gap >= 1_900, `the next attempt came ${gap} ms after the refusal, inside GitHub's window`);
    assert.equal(gh.pulls('acme', 'gitops').length, 1);

    const metrics = await s.runtime.metrics.registry.metrics();
    assert.match(metrics, /rewind_github_rate_limited_total\{kind="secondary"\} 3/);
    assert.match(metrics, /rewind_queue_rate_limit_delays_total 1/);
  });
});
