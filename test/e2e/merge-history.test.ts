import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startGitHubEmulator, type GitHubEmulator } from '../support/github-emulator.ts';
import { SAMPLE_PATH, kustomization } from '../support/gitops-sample.ts';
import { sampleJson } from '../support/fixtures.ts';
import { post } from '../support/app.ts';
import { startStack } from '../support/stack.ts';

const MERGED = new Date('2026-11-26T00:10:00Z');
const clock = { now: () => new Date('2026-11-26T00:40:00Z') };
const daysBefore = (d: number) => new Date(MERGED.getTime() - d * 24 * 3600_000);

describe('a repo that merges release branches with merge commits (emulator, real Redis, compiled policy)', () => {
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

  test('v2.0.0 merged from a release branch rolls back to v1.9.0, which main ran, and is dated by its merge', async () => {
    gh.seedRepo({
      owner: 'acme',
      repo: 'gitops',
      commits: [
        { message: 'deploy v1.8.0', files: { [SAMPLE_PATH]: kustomization('v1.8.0') }, date: daysBefore(6) },
      ],
    });
    gh.createBranch('acme', 'gitops', 'release/2.0');
    const commit = (branch: string, tag: string, days: number) =>
      gh.commit({
        owner: 'acme',
        repo: 'gitops',
        branch,
        message: `release ${tag}`,
        files: { [SAMPLE_PATH]: kustomization(tag) },
        date: daysBefore(days),
      });
    commit('main', 'v1.9.0', 5);
    commit('release/2.0', 'v2.0.0-rc1', 4);
    commit('release/2.0', 'v2.0.0', 3);
    const merge = gh.mergeBranch({
      owner: 'acme',
      repo: 'gitops',
      base: 'main',
      head: 'release/2.0',
      date: MERGED,
      resolutions: { [SAMPLE_PATH]: kustomization('v2.0.0') },
    });
    stack = await startStack({ githubUrl: gh.url, clock });
    const res = await post(stack.app, sampleJson('a-firing-single.json'));
    const id = res.json().remediations[0].id as string;
    const rec = await stack.settled(id);
    assert.deepEqual(rec.change, {
      from: 'v2.0.0',
      to: 'v1.9.0',
      fromCommit: merge,
      toCommit: rec.change?.toCommit,
    });
    // dated by the merge (30 min before the alert), not by the branch commit three days earlier:
    // a critical alert on a fresh release is merged at once
    assert.equal(rec.decision?.mode, 'merge', rec.decision?.reasons.join('; '));
    assert.equal(rec.state, 'merged', `${rec.reason ?? ''} ${rec.error ?? ''}`);
    assert.equal(gh.getFile('acme', 'gitops', 'main', SAMPLE_PATH), kustomization('v1.9.0'));
  });
});
