import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import {
  startGitHubEmulator,
  type GitHubEmulator,
  type RecordedRequest,
} from '../support/github-emulator.ts';
import { SAMPLE_PATH, kustomization, seedSampleRepo } from '../support/gitops-sample.ts';
import { sampleJson } from '../support/fixtures.ts';
import { post } from '../support/app.ts';
import { startStack } from '../support/stack.ts';

const RELEASED = new Date('2026-11-26T00:10:00Z');
const clock = { now: () => new Date('2026-11-26T00:40:00Z') };
const BRANCH = 'rewind/checkout-prod/v1.1.0';
const CONTENTS = `/repos/acme/gitops/contents/${SAMPLE_PATH}`;

type Stack = Awaited<ReturnType<typeof startStack>>;

function firing(opts: { severity?: string; fingerprint?: string; startsAt?: string } = {}) {
  const p = sampleJson('a-firing-single.json');
  const a = p.alerts[0] as Record<string, unknown> & { labels: Record<string, string> };
  if (opts.severity) a.labels = { ...a.labels, severity: opts.severity };
  if (opts.fingerprint) a.fingerprint = opts.fingerprint;
  if (opts.startsAt) a.startsAt = opts.startsAt;
  return p;
}

async function remediate(stack: Stack, body: object = firing()) {
  const res = await post(stack.app, body);
  assert.equal(res.statusCode, 202, res.body);
  const id = (res.json().remediations as Array<{ id: string }>)[0]?.id;
  assert.ok(id, res.body);
  return { id, rec: await stack.settled(id) };
}

function changedLines(a: string, b: string): Array<[string, string]> {
  const x = a.split('\n');
  const y = b.split('\n');
  assert.equal(x.length, y.length);
  return x.flatMap((line, i) => (line === y[i] ? [] : [[line, y[i] ?? ''] as [string, string]]));
}

const isWrite = (r: RecordedRequest) => r.method !== 'GET' && !(r.method === 'POST' && r.path === '/graphql');
const count = (gh: GitHubEmulator, method: string, pattern: RegExp) =>
  gh.requests.filter((r) => r.method === method && pattern.test(r.path)).length;

/** The sidecar image line of the sample overlay, bumped by someone else. */
function withSidecar(content: string, tag: string): string {
  const out = content.replace('newTag: "2.4.1"', `newTag: "${tag}"`);
  assert.notEqual(out, content);
  return out;
}

async function jobOf(stack: Stack, id: string) {
  const job = await stack.runtime.queue.queue.getJob(`remediate-${id}`);
  assert.ok(job);
  return job;
}

describe('GitHub failure paths, end to end (emulator, real Redis, compiled policy)', () => {
  let gh: GitHubEmulator;
  let stack: Stack | undefined;

  // A fresh emulator per test: injected faults and recorded requests never leak into the next one.
  beforeEach(async () => {
    gh = await startGitHubEmulator();
  });
  afterEach(async () => {
    await stack?.stop();
    stack = undefined;
    await gh.close();
    gh.assertNoUnknownRequests();
  });

  for (const moment of [
    { name: 'before the commit on the branch', method: 'PUT', pathPattern: CONTENTS, severity: 'critical' },
    {
      name: 'before the branch is created',
      method: 'POST',
      pathPattern: '/repos/acme/gitops/git/refs',
      severity: 'critical',
    },
    {
      name: 'before the merge',
      method: 'PUT',
      pathPattern: '/repos/acme/gitops/pulls/1/merge',
      severity: 'critical',
    },
    {
      name: 'before the commit of a PR left for review',
      method: 'PUT',
      pathPattern: CONTENTS,
      severity: 'warning',
    },
  ]) {
    test(`main changes under our feet ${moment.name} (${moment.severity}): re-read and retried; one changed line against the new main`, async () => {
      seedSampleRepo(gh, RELEASED);
      let moved = '';
      gh.beforeNext({
        method: moment.method,
        pathPattern: moment.pathPattern,
        run: () => {
          const current = gh.getFile('acme', 'gitops', 'main', SAMPLE_PATH) ?? '';
          moved = gh.commit({
            owner: 'acme',
            repo: 'gitops',
            branch: 'main',
            message: 'chore(checkout): bump the sidecar',
            files: { [SAMPLE_PATH]: withSidecar(current, '2.4.2') },
          });
        },
      });
      const s = (stack = await startStack({ githubUrl: gh.url, clock }));
      const { rec } = await remediate(s, firing({ severity: moment.severity }));
      const merge = moment.severity === 'critical';
      assert.equal(rec.state, merge ? 'merged' : 'pr_opened', `${rec.reason ?? ''} ${rec.error ?? ''}`);
      assert.ok(moved, 'the concurrent commit happened');
      assert.ok(
        gh.requests.filter((r) => r.method === 'GET' && r.path.startsWith(CONTENTS)).length >= 2,
        're-read',
      );

      const newMain = withSidecar(kustomization('v1.2.0'), '2.4.2');
      const rollback = withSidecar(kustomization('v1.1.0'), '2.4.2');
      const pulls = gh.pulls('acme', 'gitops');
      assert.equal(pulls.length, 1);
      const [pr] = pulls;
      assert.ok(pr);
      assert.equal(rec.pullRequest?.number, pr.number);
      // The PR holds exactly the one-line change against the new main, on top of it.
      assert.equal(gh.getFile('acme', 'gitops', pr.headRef, SAMPLE_PATH), rollback);
      assert.deepEqual(gh.diff('acme', 'gitops', pr.number).match(/^[-+] .*$/gm), [
        '-    newTag: v1.2.0 # bumped by CI on release',
        '+    newTag: v1.1.0 # bumped by CI on release',
      ]);
      if (merge) {
        const [top, concurrent] = gh.listCommits('acme', 'gitops', 'main');
        assert.equal(concurrent?.sha, moved, 'the rollback lands on top of the concurrent commit');
        assert.match(top?.message ?? '', /^fix\(prod\): roll back checkout-prod to v1\.1\.0/);
        const final = gh.getFile('acme', 'gitops', 'main', SAMPLE_PATH) ?? '';
        assert.equal(final, rollback);
        assert.deepEqual(changedLines(newMain, final), [
          ['    newTag: v1.2.0 # bumped by CI on release', '    newTag: v1.1.0 # bumped by CI on release'],
        ]);
      } else {
        assert.equal(
          gh.listCommits('acme', 'gitops', pr.headRef)[1]?.sha,
          moved,
          'the PR branch starts at the new main',
        );
        assert.equal(gh.getFile('acme', 'gitops', 'main', SAMPLE_PATH), newMain);
      }
      assert.deepEqual(
        s.events.map((e) => e.kind),
        [merge ? 'merged' : 'pr_opened'],
      );
    });
  }

  test('GitHub answers 401: failed at once, no retry, the error names the call and never the token', async () => {
    seedSampleRepo(gh, RELEASED);
    const token = 'ghp_wrongTOKEN0123456789abcdefghijklmnop';
    const s = (stack = await startStack({ githubUrl: gh.url, clock, env: { GITHUB_TOKEN: token } }));
    const { id, rec } = await remediate(s);
    assert.equal(rec.state, 'failed');
    assert.match(
      rec.error ?? '',
      /GitHub read acme\/gitops@main:apps\/checkout\/overlays\/prod\/kustomization\.yaml failed \(GET \/repos\/acme\/gitops\/git\/ref\/heads\/main\): 401 Bad credentials/,
    );
    await new Promise((r) => setTimeout(r, 150)); // a retry would come after 20 ms
    // the head and the open PRs are read side by side; each once, neither retried
    const sent = gh.requests.map((r) => `${r.method} ${r.path}`);
    assert.deepEqual(
      [...sent].sort(),
      ['GET /repos/acme/gitops/git/ref/heads/main', 'GET /repos/acme/gitops/pulls'],
      sent.join('\n'),
    );
    const job = await jobOf(s, id);
    assert.equal(await job.getState(), 'failed');
    assert.equal(job.attemptsMade, 1);
    assert.deepEqual(
      s.events.map((e) => e.kind),
      ['failed'],
    );
    const api = await s.app.inject({
      method: 'GET',
      url: `/v1/remediations/${id}`,
      headers: { authorization: `Bearer ${s.config.server.webhookToken ?? ''}` },
    });
    const metrics = (await s.app.inject({ method: 'GET', url: '/metrics' })).body;
    for (const text of [rec.error ?? '', api.body, JSON.stringify(s.events), job.failedReason, metrics]) {
      assert.ok(!text.includes(token), 'the token leaked');
    }
  });

  test('a 401 on reading the file (token revoked mid-way): failed at once with the call named', async () => {
    seedSampleRepo(gh, RELEASED);
    gh.failNext({ method: 'GET', pathPattern: CONTENTS, status: 401, body: { message: 'Bad credentials' } });
    const s = (stack = await startStack({ githubUrl: gh.url, clock }));
    const { rec } = await remediate(s);
    assert.equal(rec.state, 'failed');
    assert.match(
      rec.error ?? '',
      /failed \(GET \/repos\/acme\/gitops\/contents\/apps\/checkout\/overlays\/prod\/kustomization\.yaml\): 401 Bad credentials/,
    );
    assert.ok(!(rec.error ?? '').includes('test-token'));
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(count(gh, 'GET', /\/contents\//), 1);
    assert.equal(count(gh, 'GET', /\/git\/ref\/heads\/main$/), 1);
    assert.deepEqual(gh.requests.filter(isWrite), []);
    assert.deepEqual(
      s.events.map((e) => [e.kind, e.error]),
      [['failed', rec.error]],
    );
  });

  test('a 500 on creating the PR once: the job is retried and succeeds with exactly one PR', async () => {
    seedSampleRepo(gh, RELEASED);
    gh.failNext({ method: 'POST', pathPattern: /\/pulls$/, status: 500 });
    const s = (stack = await startStack({ githubUrl: gh.url, clock }));
    const { id, rec } = await remediate(s);
    assert.equal(rec.state, 'merged', `${rec.reason ?? ''} ${rec.error ?? ''}`);
    assert.deepEqual(
      gh.requests.filter((r) => r.method === 'POST' && /\/pulls$/.test(r.path)).map((r) => r.status),
      [500, 201],
    );
    assert.equal((await jobOf(s, id)).attemptsMade, 2);
    assert.equal(gh.pulls('acme', 'gitops').length, 1);
    const rollbacks = gh
      .listCommits('acme', 'gitops', 'main')
      .filter((c) => c.message.startsWith('fix(prod)'));
    assert.equal(rollbacks.length, 1);
    assert.equal(gh.getFile('acme', 'gitops', 'main', SAMPLE_PATH), kustomization('v1.1.0'));
    assert.deepEqual(
      s.events.map((e) => e.kind),
      ['merged'],
    );
  });

  test('a merge refused by branch protection leaves the PR open for review, not failed', async () => {
    seedSampleRepo(gh, RELEASED);
    gh.failNext({
      method: 'PUT',
      pathPattern: /\/pulls\/\d+\/merge$/,
      status: 405,
      body: { message: 'At least 1 approving review is required by reviewers with write access.' },
    });
    const s = (stack = await startStack({ githubUrl: gh.url, clock }));
    const { rec } = await remediate(s);
    assert.equal(rec.state, 'pr_opened', `${rec.reason ?? ''} ${rec.error ?? ''}`);
    assert.match(
      rec.reason ?? '',
      /^merge refused by GitHub \(.*approving review is required.*\); auto-merge unavailable \(.*Auto merge is not allowed for this repository\): left open for review$/,
    );
    assert.equal(rec.error, null);
    const [pr] = gh.pulls('acme', 'gitops');
    assert.equal(pr?.state, 'open');
    assert.equal(pr?.merged, false);
    assert.equal(gh.getFile('acme', 'gitops', 'main', SAMPLE_PATH), kustomization('v1.2.0'));
    assert.deepEqual(
      s.events.map((e) => e.kind),
      ['pr_opened'],
    );
  });

  test('a persistent 500: failed after 5 attempts with the reason recorded', async () => {
    seedSampleRepo(gh, RELEASED);
    gh.failNext({ method: 'POST', pathPattern: /\/pulls$/, status: 500, times: 100 });
    const s = (stack = await startStack({ githubUrl: gh.url, clock }));
    const { id, rec } = await remediate(s);
    assert.equal(rec.state, 'failed');
    assert.match(
      rec.error ?? '',
      /GitHub open a pull request for rewind\/checkout-prod\/v1\.1\.0 failed \(POST \/repos\/acme\/gitops\/pulls\): 500/,
    );
    assert.equal(count(gh, 'POST', /\/pulls$/), 5);
    const job = await jobOf(s, id);
    assert.equal(await job.getState(), 'failed');
    assert.equal(job.attemptsMade, 5);
    assert.deepEqual(gh.pulls('acme', 'gitops'), []);
    assert.equal(gh.getFile('acme', 'gitops', 'main', SAMPLE_PATH), kustomization('v1.2.0'));
    assert.deepEqual(
      s.events.map((e) => e.kind),
      ['failed'],
    );
  });

  test('the policy denies (the alert began before the release): denied with reasons, no branch, no PR', async () => {
    seedSampleRepo(gh, new Date('2026-11-26T00:35:00Z')); // after the alert's startsAt 00:32:08
    const s = (stack = await startStack({ githubUrl: gh.url, clock }));
    const { rec } = await remediate(s);
    assert.equal(rec.state, 'denied');
    assert.equal(rec.decision?.allow, false);
    assert.ok(
      rec.decision?.reasons.includes(
        'alert began before the current release was committed: the release cannot be its cause',
      ),
      rec.decision?.reasons.join('\n'),
    );
    assert.match(rec.reason ?? '', /alert began before the current release/);
    assert.deepEqual(gh.branches('acme', 'gitops'), ['main']);
    assert.deepEqual(gh.pulls('acme', 'gitops'), []);
    assert.deepEqual(gh.requests.filter(isWrite), []);
    assert.deepEqual(
      s.events.map((e) => e.kind),
      ['denied'],
    );
    assert.deepEqual(s.events[0]?.reasons, rec.decision?.reasons);
  });

  test('no rollback candidate (the file has a single version): noop with the reason', async () => {
    gh.seedRepo({
      owner: 'acme',
      repo: 'gitops',
      commits: [
        {
          message: 'feat(checkout): first deploy',
          files: { [SAMPLE_PATH]: kustomization('v1.2.0') },
          date: RELEASED,
        },
      ],
    });
    const s = (stack = await startStack({ githubUrl: gh.url, clock }));
    const { rec } = await remediate(s);
    assert.equal(rec.state, 'noop');
    assert.equal(
      rec.reason,
      "no earlier version of registry.example.com/acme/checkout in the file's history",
    );
    assert.equal(rec.change?.to, null);
    assert.deepEqual(gh.requests.filter(isWrite), []);
    assert.deepEqual(gh.branches('acme', 'gitops'), ['main']);
  });

  test('an open rewind PR for the target already exists: it is reused, no second PR', async () => {
    seedSampleRepo(gh, RELEASED);
    const existing = gh.openPullRequest({
      owner: 'acme',
      repo: 'gitops',
      head: BRANCH,
      title: 'fix(prod): roll back checkout-prod to v1.1.0',
      labels: ['rewind'],
      files: { [SAMPLE_PATH]: kustomization('v1.1.0') },
    });
    const s = (stack = await startStack({ githubUrl: gh.url, clock }));
    const { rec } = await remediate(s, firing({ severity: 'warning' }));
    assert.equal(rec.state, 'pr_opened', `${rec.reason ?? ''} ${rec.error ?? ''}`);
    assert.equal(rec.pullRequest?.number, existing);
    assert.equal(gh.pulls('acme', 'gitops').length, 1);
    assert.equal(count(gh, 'POST', /\/pulls$/), 0);
    assert.equal(count(gh, 'PUT', /\/contents\//), 0, 'the branch already holds the change');
    assert.ok(
      rec.decision?.reasons.includes('a rewind pull request for this target is already open: it is reused'),
    );
    assert.deepEqual(gh.pulls('acme', 'gitops')[0]?.requestedReviewers, ['octocat']);
  });

  test('a second incident after a PR was opened for review: the policy sees the history and denies (flapping)', async () => {
    seedSampleRepo(gh, RELEASED);
    const s = (stack = await startStack({ githubUrl: gh.url, clock }));
    const first = await remediate(s, firing({ severity: 'warning' }));
    assert.equal(first.rec.state, 'pr_opened');

    const second = await remediate(
      s,
      firing({ severity: 'warning', fingerprint: 'bbbbbbbbbbbbbbbb', startsAt: '2026-11-26T00:36:00Z' }),
    );
    assert.notEqual(second.id, first.id);
    assert.equal(second.rec.state, 'denied');
    assert.ok(
      second.rec.decision?.reasons.includes(
        'flapping: 1 rollback(s) of this target in the last hour, limit 1 per hour',
      ),
      second.rec.decision?.reasons.join('\n'),
    );
    assert.equal(gh.pulls('acme', 'gitops').length, 1);
    assert.deepEqual(
      s.events.map((e) => [e.kind, e.remediationId]),
      [
        ['pr_opened', first.id],
        ['denied', second.id],
      ],
    );
  });

  test('REWIND_DRY_RUN=true: planned with the decision recorded, zero writes to GitHub', async () => {
    seedSampleRepo(gh, RELEASED);
    const s = (stack = await startStack({ githubUrl: gh.url, clock, env: { REWIND_DRY_RUN: 'true' } }));
    const { rec } = await remediate(s);
    assert.equal(rec.state, 'planned');
    assert.equal(rec.dryRun, true);
    assert.equal(rec.decision?.allow, true);
    assert.equal(rec.decision?.mode, 'merge');
    assert.deepEqual(rec.change && { from: rec.change.from, to: rec.change.to }, {
      from: 'v1.2.0',
      to: 'v1.1.0',
    });
    assert.ok(gh.requests.length > 0);
    assert.deepEqual(
      gh.requests.filter(isWrite).map((r) => `${r.method} ${r.path}`),
      [],
    );
    assert.deepEqual(gh.branches('acme', 'gitops'), ['main']);
    assert.deepEqual(gh.pulls('acme', 'gitops'), []);
  });
});
