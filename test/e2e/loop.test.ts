import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { startGitHubEmulator, type GitHubEmulator } from '../support/github-emulator.ts';
import { SAMPLE_PATH, kustomization, seedSampleRepo } from '../support/gitops-sample.ts';
import { sampleJson } from '../support/fixtures.ts';
import { post } from '../support/app.ts';
import { startStack } from '../support/stack.ts';

const RELEASED = new Date('2026-11-26T00:10:00Z');
const clock = { now: () => new Date('2026-11-26T00:40:00Z') };

function changedLines(a: string, b: string): Array<[string, string]> {
  const x = a.split('\n');
  const y = b.split('\n');
  assert.equal(x.length, y.length);
  return x.flatMap((line, i) => (line === y[i] ? [] : [[line, y[i] ?? ''] as [string, string]]));
}

describe('alert → pull request, end to end (emulator, real Redis, compiled policy)', () => {
  let gh: GitHubEmulator;
  let stack: Awaited<ReturnType<typeof startStack>>;

  before(async () => {
    gh = await startGitHubEmulator();
  });
  afterEach(async () => {
    await stack?.stop();
    gh.assertNoUnknownRequests();
  });
  after(async () => gh.close());

  test('a critical alert on a fresh release: PR merged on main with exactly one changed line', async () => {
    seedSampleRepo(gh, RELEASED);
    stack = await startStack({ githubUrl: gh.url, clock });
    const before = gh.getFile('acme', 'gitops', 'main', SAMPLE_PATH) ?? '';

    const res = await post(stack.app, sampleJson('a-firing-single.json'));
    assert.equal(res.statusCode, 202);
    const id = res.json().remediations[0].id as string;
    const rec = await stack.settled(id);
    assert.equal(rec.state, 'merged', `${rec.reason ?? ''} ${rec.error ?? ''}`);
    assert.equal(rec.decision?.mode, 'merge');
    assert.deepEqual(rec.change && { from: rec.change.from, to: rec.change.to }, {
      from: 'v1.2.0',
      to: 'v1.1.0',
    });

    const afterFile = gh.getFile('acme', 'gitops', 'main', SAMPLE_PATH) ?? '';
    assert.equal(afterFile, kustomization('v1.1.0'));
    assert.deepEqual(changedLines(before, afterFile), [
      ['    newTag: v1.2.0 # bumped by CI on release', '    newTag: v1.1.0 # bumped by CI on release'],
    ]);

    const [head] = gh.listCommits('acme', 'gitops', 'main');
    assert.ok(head);
    assert.deepEqual(head.changedPaths, [SAMPLE_PATH]);
    assert.match(head.message, /^fix\(prod\): roll back checkout-prod to v1\.1\.0/);
    assert.match(head.message, /- Alert: HarnessSingle \(critical\) firing since 2026-11-26T00:32:08\.699Z/);
    assert.match(head.message, /- From: registry\.example\.com\/acme\/checkout:v1\.2\.0/);
    assert.match(
      head.message,
      /- To: registry\.example\.com\/acme\/checkout:v1\.1\.0 \(deployed in [0-9a-f]{7}\)/,
    );
    assert.match(head.message, new RegExp(`Rewind-Remediation: ${id}\\nRewind-Rolled-Back-From: v1\\.2\\.0`));

    const [pr] = gh.pulls('acme', 'gitops');
    assert.ok(pr);
    assert.equal(pr.merged, true);
    assert.equal(pr.headRef, 'rewind/checkout-prod/v1.1.0');
    assert.ok(pr.labels.includes('rewind'));
    assert.deepEqual(pr.requestedReviewers, ['octocat']);
    assert.equal(rec.pullRequest?.number, pr.number);
    // the body links the bad release's commit and the compare view between the two versions' commits
    const fromCommit = rec.change?.fromCommit ?? '';
    assert.ok(pr.body?.includes(`](${gh.url}/acme/gitops/commit/${fromCommit})`), pr.body ?? '');
    assert.ok(pr.body?.includes(`${gh.url}/acme/gitops/compare/${rec.change?.toCommit}...${fromCommit})`));
    assert.match(pr.body ?? '', /by Seed Author\n/);
    assert.match(
      pr.body ?? '',
      new RegExp(`Rewind-Remediation: ${id}\\nRewind-Rolled-Back-From: v1\\.2\\.0\\n$`),
    );
    assert.deepEqual(
      stack.events.map((e) => e.kind),
      ['merged'],
    );
  });

  test('a warning alert: PR opened for review, not merged; the same incident again is only "seen again"', async () => {
    seedSampleRepo(gh, RELEASED, 'acme', 'gitops');
    stack = await startStack({ githubUrl: gh.url, clock });
    const payload = sampleJson('a-firing-single.json');
    const alert = payload.alerts[0] as { labels: Record<string, string> };
    alert.labels = { ...alert.labels, severity: 'warning' };

    const res = await post(stack.app, payload);
    const id = res.json().remediations[0].id as string;
    const rec = await stack.settled(id);
    assert.equal(rec.state, 'pr_opened', `${rec.reason ?? ''} ${rec.error ?? ''}`);
    assert.equal(rec.decision?.mode, 'pull_request');
    assert.equal(gh.getFile('acme', 'gitops', 'main', SAMPLE_PATH), kustomization('v1.2.0'));
    const open = gh.pulls('acme', 'gitops').filter((p) => p.state === 'open');
    assert.equal(open.length, 1);
    assert.equal(open[0]?.merged, false);
    assert.equal(
      gh.getFile('acme', 'gitops', 'rewind/checkout-prod/v1.1.0', SAMPLE_PATH),
      kustomization('v1.1.0'),
    );

    const again = await post(stack.app, payload);
    assert.equal(again.json().remediations[0].id, id);
    const rec2 = await stack.runtime.store.get(id);
    assert.equal(rec2?.seenAgain, 1);
    assert.equal(gh.pulls('acme', 'gitops').length, 1);
    assert.deepEqual(
      stack.events.map((e) => e.kind),
      ['pr_opened'],
    );
  });

  test("a broken commit in the file's history does not block the rollback", async () => {
    const released = new Date('2026-11-26T00:10:00Z');
    gh.seedRepo({
      owner: 'acme',
      repo: 'gitops',
      commits: [
        {
          message: 'v1.1.0',
          files: { [SAMPLE_PATH]: kustomization('v1.1.0') },
          date: new Date(released.getTime() - 3_600_000),
        },
        {
          message: 'oops',
          files: { [SAMPLE_PATH]: 'images: [\n  - name: x\n' },
          date: new Date(released.getTime() - 1_800_000),
        },
        { message: 'v1.2.0', files: { [SAMPLE_PATH]: kustomization('v1.2.0') }, date: released },
      ],
    });
    stack = await startStack({ githubUrl: gh.url, clock });
    const res = await post(stack.app, sampleJson('a-firing-single.json'));
    const rec = await stack.settled(res.json().remediations[0].id as string);
    assert.equal(rec.state, 'merged', `${rec.reason ?? ''} ${rec.error ?? ''}`);
    assert.equal(rec.change?.to, 'v1.1.0');
    assert.equal(gh.getFile('acme', 'gitops', 'main', SAMPLE_PATH), kustomization('v1.1.0'));
  });
});
