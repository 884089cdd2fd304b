import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { startGitHubEmulator, type GitHubEmulator } from '../support/github-emulator.ts';
import { SAMPLE_PATH, kustomization, seedSampleRepo } from '../support/gitops-sample.ts';
import { sampleJson } from '../support/fixtures.ts';
import { post } from '../support/app.ts';
import { startStack } from '../support/stack.ts';

const RELEASED = new Date('2026-11-26T00:10:00Z');
const clock = { now: () => new Date('2026-11-26T00:40:00Z') };

type Stack = Awaited<ReturnType<typeof startStack>>;

function alert(
  name: 'a-firing-single.json' | 'c-resolved-single.json',
  opts: { severity?: string; fingerprint?: string } = {},
) {
  const p = sampleJson(name);
  const a = p.alerts[0] as Record<string, unknown> & { labels: Record<string, string> };
  const severity = opts.severity ?? 'critical';
  a.labels = { ...a.labels, severity };
  p.commonLabels = { ...(p.commonLabels as Record<string, string>), severity };
  if (opts.fingerprint) a.fingerprint = opts.fingerprint;
  return p;
}

async function postOk(stack: Stack, body: object): Promise<string[]> {
  const res = await post(stack.app, body);
  assert.equal(res.statusCode, 202, res.body);
  return (res.json().remediations as Array<{ id: string }>).map((r) => r.id);
}

const rollbackCommits = (gh: GitHubEmulator) =>
  gh.listCommits('acme', 'gitops', 'main').filter((c) => /^fix\(prod\): roll back/.test(c.message));

/** Every external write of a merged rollback, in order. */
const STEPS = [
  { name: 'branch', method: 'POST', pathPattern: /\/git\/refs$/ },
  { name: 'commit', method: 'PUT', pathPattern: /\/contents\// },
  { name: 'pull request', method: 'POST', pathPattern: /\/pulls$/ },
  { name: 'labels', method: 'POST', pathPattern: /\/labels$/ },
  { name: 'reviewers', method: 'POST', pathPattern: /\/requested_reviewers$/ },
  { name: 'merge', method: 'PUT', pathPattern: /\/merge$/ },
] as const;

describe('a failure before or after each external step (emulator, real Redis, compiled policy)', () => {
  let gh: GitHubEmulator;
  let stack: Stack | undefined;

  beforeEach(async () => {
    gh = await startGitHubEmulator();
    seedSampleRepo(gh, RELEASED);
  });
  afterEach(async () => {
    await stack?.stop();
    stack = undefined;
    await gh.close();
    gh.assertNoUnknownRequests();
  });

  for (const step of STEPS) {
    for (const after of [false, true]) {
      test(`502 ${after ? 'after' : 'before'} the ${step.name}: merged once, one PR, one Slack message, record = Git`, async () => {
        gh.failNext({ method: step.method, pathPattern: step.pathPattern, status: 502, after });
        const s = (stack = await startStack({ githubUrl: gh.url, clock }));
        const [id] = await postOk(s, alert('a-firing-single.json'));
        assert.ok(id);
        const rec = await s.settled(id);
        assert.ok(
          gh.requests.some((r) => r.status === 502),
          'the fault was injected',
        );
        assert.equal(rec.state, 'merged', `${rec.reason ?? ''} ${rec.error ?? ''}`);
        assert.deepEqual(rec.change && [rec.change.from, rec.change.to], ['v1.2.0', 'v1.1.0']);
        const pulls = gh.pulls('acme', 'gitops');
        assert.equal(pulls.length, 1);
        assert.equal(pulls[0]?.merged, true);
        assert.equal(rec.pullRequest?.number, pulls[0]?.number);
        assert.equal(rec.mergeCommit, pulls[0]?.mergeCommitSha);
        assert.equal(rollbackCommits(gh).length, 1);
        assert.equal(gh.getFile('acme', 'gitops', 'main', SAMPLE_PATH), kustomization('v1.1.0'));
        assert.deepEqual(
          s.events.map((e) => e.kind),
          ['merged'],
        );
      });
    }
  }

  test('the last attempt merges and its answer is lost: merged, not failed', async () => {
    // attempts 1-4 fail before the branch; the 5th writes it all and GitHub's merge answer is lost
    gh.failNext({ method: 'POST', pathPattern: /\/git\/refs$/, status: 502, times: 4 });
    gh.failNext({ method: 'PUT', pathPattern: /\/merge$/, status: 502, after: true });
    const s = (stack = await startStack({ githubUrl: gh.url, clock }));
    const [id] = await postOk(s, alert('a-firing-single.json'));
    assert.ok(id);
    await s.jobFinished(`remediate-${id}`, 20_000);
    const rec = await s.settled(id);
    const pulls = gh.pulls('acme', 'gitops');
    assert.equal(pulls.length, 1);
    assert.equal(pulls[0]?.merged, true);
    assert.equal(rec.state, 'merged', `${rec.reason ?? ''} ${rec.error ?? ''}`);
    assert.equal(rec.mergeCommit, pulls[0]?.mergeCommitSha);
    assert.deepEqual(
      s.events.map((e) => e.kind),
      ['merged'],
    );
  });

  test('Slack fails: the rollback stands, the failure is recorded, nothing is redone', async () => {
    const s = (stack = await startStack({ githubUrl: gh.url, clock }));
    const notify = s.runtime.notifier.notify;
    let calls = 0;
    s.runtime.notifier.notify = async () => {
      calls += 1;
      throw new Error('Slack notification failed (HTTP 500)');
    };
    try {
      const [id] = await postOk(s, alert('a-firing-single.json'));
      assert.ok(id);
      const rec = await s.settled(id);
      assert.equal(rec.state, 'merged');
      assert.ok(rec.steps.notify_failed);
      assert.equal(calls, 1);
      assert.equal(gh.pulls('acme', 'gitops').length, 1);
    } finally {
      s.runtime.notifier.notify = notify;
    }
  });

  test('re-fire during a retry: the new incident joins the running remediation; one PR', async () => {
    const s = (stack = await startStack({ githubUrl: gh.url, clock }));
    let refire: Promise<unknown> | undefined;
    gh.beforeNext({
      method: 'POST',
      pathPattern: /\/pulls$/,
      run: () => {
        refire = post(s.app, alert('a-firing-single.json', { fingerprint: 'beefbeefbeefbeef' }));
      },
    });
    gh.failNext({ method: 'POST', pathPattern: /\/pulls$/, status: 502 });
    const [id] = await postOk(s, alert('a-firing-single.json'));
    assert.ok(id);
    const rec = await s.settled(id);
    assert.ok(refire);
    assert.deepEqual(((await refire) as { json(): { remediations: unknown } }).json().remediations, [
      { id, target: 'checkout-prod' },
    ]);
    assert.equal(rec.state, 'merged', `${rec.reason ?? ''} ${rec.error ?? ''}`);
    assert.deepEqual(rec.alerts.map((a) => a.fingerprint).sort(), ['45b5a9c303a85250', 'beefbeefbeefbeef']);
    assert.equal(gh.pulls('acme', 'gitops').length, 1);
    assert.deepEqual(
      s.events.map((e) => e.kind),
      ['merged'],
    );
  });

  test('resolution during a retry, after the PR was written: the PR is closed once it is recorded', async () => {
    const s = (stack = await startStack({ githubUrl: gh.url, clock }));
    let resolution: Promise<unknown> | undefined;
    // the PR is created, its answer lost; the alert resolves before the retry
    gh.beforeNext({
      method: 'POST',
      pathPattern: /\/pulls$/,
      run: () => {
        resolution = post(s.app, alert('c-resolved-single.json', { severity: 'warning' }));
      },
    });
    gh.failNext({ method: 'POST', pathPattern: /\/pulls$/, status: 502, after: true });
    const [id] = await postOk(s, alert('a-firing-single.json', { severity: 'warning' }));
    assert.ok(id);
    const rec = await s.waitFor(id, 'closed');
    assert.ok(resolution);
    const pulls = gh.pulls('acme', 'gitops');
    assert.equal(pulls.length, 1);
    assert.equal(pulls[0]?.state, 'closed');
    assert.equal(pulls[0]?.merged, false);
    assert.equal(rec.pullRequest?.number, pulls[0]?.number);
    assert.equal(gh.getFile('acme', 'gitops', 'main', SAMPLE_PATH), kustomization('v1.2.0'));
    await s.jobFinished(`resolve-${id}-after-remediation`);
    assert.deepEqual(
      s.events.map((e) => e.kind),
      ['pr_opened', 'closed'],
    );
  });

  test('resolution during a retry, before anything was written: noop, no PR', async () => {
    const s = (stack = await startStack({ githubUrl: gh.url, clock }));
    let resolution: Promise<unknown> | undefined;
    gh.beforeNext({
      method: 'POST',
      pathPattern: /\/git\/refs$/,
      run: () => {
        resolution = post(s.app, alert('c-resolved-single.json'));
      },
    });
    gh.failNext({ method: 'POST', pathPattern: /\/git\/refs$/, status: 502 });
    const [id] = await postOk(s, alert('a-firing-single.json'));
    assert.ok(id);
    const rec = await s.settled(id);
    assert.ok(resolution);
    assert.equal(rec.state, 'noop');
    assert.match(rec.reason ?? '', /every alert resolved/);
    assert.deepEqual(gh.pulls('acme', 'gitops'), []);
    assert.deepEqual(gh.branches('acme', 'gitops'), ['main']);
    assert.deepEqual(s.events, []);
  });

  test('resolution after the branch and commit, before the PR: noop, and the branch written is deleted', async () => {
    const s = (stack = await startStack({ githubUrl: gh.url, clock }));
    let resolution: Promise<unknown> | undefined;
    // branch and commit are written; the PR request fails and the alert resolves before the retry
    gh.beforeNext({
      method: 'POST',
      pathPattern: /\/pulls$/,
      run: () => {
        resolution = post(s.app, alert('c-resolved-single.json'));
      },
    });
    gh.failNext({ method: 'POST', pathPattern: /\/pulls$/, status: 502 });
    const [id] = await postOk(s, alert('a-firing-single.json'));
    assert.ok(id);
    const rec = await s.settled(id);
    assert.ok(resolution);
    assert.equal(rec.state, 'noop', `${rec.reason ?? ''} ${rec.error ?? ''}`);
    assert.match(rec.reason ?? '', /every alert resolved/);
    assert.ok(
      gh.requests.some((r) => r.method === 'DELETE' && /\/git\/refs\/heads\/rewind/.test(r.path)),
      'the rewind branch was deleted',
    );
    assert.deepEqual(gh.pulls('acme', 'gitops'), []);
    assert.deepEqual(gh.branches('acme', 'gitops'), ['main']);
    assert.equal(gh.getFile('acme', 'gitops', 'main', SAMPLE_PATH), kustomization('v1.2.0'));
    assert.deepEqual(s.events, []);
  });

  test('a second incident while a PR awaits review: never a second PR; its record agrees with GitHub', async () => {
    const s = (stack = await startStack({ githubUrl: gh.url, clock }));
    const [first] = await postOk(s, alert('a-firing-single.json', { severity: 'warning' }));
    assert.ok(first);
    assert.equal((await s.settled(first)).state, 'pr_opened');
    const [second] = await postOk(
      s,
      alert('a-firing-single.json', { severity: 'warning', fingerprint: 'cafecafecafecafe' }),
    );
    assert.ok(second);
    assert.notEqual(second, first);
    const rec = await s.settled(second);
    const pulls = gh.pulls('acme', 'gitops');
    assert.equal(pulls.length, 1);
    assert.equal(pulls[0]?.state, 'open');
    if (rec.state === 'pr_opened') assert.equal(rec.pullRequest?.number, pulls[0]?.number);
    else assert.equal(rec.state, 'denied', `${rec.reason ?? ''} ${rec.error ?? ''}`);
    assert.equal(gh.getFile('acme', 'gitops', 'main', SAMPLE_PATH), kustomization('v1.2.0'));
  });
});
