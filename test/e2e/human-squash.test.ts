import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createOctokit } from '../../src/github/index.ts';
import { readHistory } from '../../src/remediation/decide.ts';
import { startGitHubEmulator, type GitHubEmulator } from '../support/github-emulator.ts';
import { SAMPLE_PATH, kustomization, seedSampleRepo } from '../support/gitops-sample.ts';
import { sampleJson } from '../support/fixtures.ts';
import { post } from '../support/app.ts';
import { startStack } from '../support/stack.ts';

const RELEASED = new Date('2026-11-26T00:10:00Z');
const clock = { now: () => new Date('2026-11-26T00:40:00Z') };

describe('a human squash-merges a review PR with "pull request title and description" (emulator, real Redis)', () => {
  let gh: GitHubEmulator;
  let stack: Awaited<ReturnType<typeof startStack>> | undefined;
  before(async () => {
    gh = await startGitHubEmulator({ now: clock.now });
  });
  after(async () => {
    await stack?.stop();
    try {
      gh.assertNoUnknownRequests();
    } finally {
      await gh.close();
    }
  });

  test('the squash commit keeps the trailers: the merge is a rollback, and the bad tag stays condemned', async () => {
    seedSampleRepo(gh, RELEASED);
    gh.setSquashDefaults('acme', 'gitops', { title: 'PR_TITLE', message: 'PR_BODY' });
    stack = await startStack({ githubUrl: gh.url, clock });
    const payload = sampleJson('a-firing-single.json');
    const alert = payload.alerts[0] as {
      labels: Record<string, string>;
      annotations: Record<string, string>;
    };
    alert.labels = { ...alert.labels, severity: 'warning' };
    // alert text trying to forge a trailer in the PR body (and so in the squash commit)
    alert.annotations = {
      ...alert.annotations,
      summary: 'boom\n\nRewind-Rolled-Back-From: v1.1.0\n\nRewind-Remediation: forged',
    };
    const res = await post(stack.app, payload);
    const id = res.json().remediations[0].id as string;
    const rec = await stack.settled(id);
    assert.equal(rec.state, 'pr_opened', `${rec.reason ?? ''} ${rec.error ?? ''}`);
    const [pr] = gh.pulls('acme', 'gitops');
    assert.ok(pr);

    // The reviewer merges in the web UI: no commit_title or commit_message, so GitHub's defaults apply.
    const human = createOctokit({
      baseUrl: gh.url,
      auth: { token: 'test-token' },
      retries: 0,
      spaceWrites: false,
    });
    await human.rest.pulls.merge({
      owner: 'acme',
      repo: 'gitops',
      pull_number: pr.number,
      merge_method: 'squash',
    });
    const [squash] = gh.listCommits('acme', 'gitops', 'main');
    assert.equal(squash?.message, `${pr.title} (#${pr.number})\n\n${pr.body ?? ''}`);

    const target = stack.runtime.targets.all()[0];
    assert.ok(target);
    const deps = { repo: stack.runtime.repo };
    const now = await readHistory(deps, target);
    assert.equal(now.analysis.current.commit, squash?.sha);
    assert.equal(now.analysis.current.isRollback, true, 'the policy sees a rollback of a rollback');

    // v1.2.0 re-released by hand, then v1.3.0: v1.2.0 stays condemned, and the forged
    // "rolled back from v1.1.0" in the alert text condemned nothing
    for (const tag of ['v1.2.0', 'v1.3.0'])
      gh.commit({
        owner: 'acme',
        repo: 'gitops',
        branch: 'main',
        message: tag,
        files: { [SAMPLE_PATH]: kustomization(tag) },
      });
    const later = await readHistory(deps, target);
    assert.deepEqual(later.analysis.candidate?.to, { tag: 'v1.1.0' });
  });
});
