/**
 * The rollback target on real-world histories: squash, merge-commit and
 * rebase-merge repos. The candidate is what the branch itself ran (its
 * first-parent chain), dated by when it reached the branch.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { analyzeHistory } from '../../src/core/rollback.ts';
import type { ImageVersion } from '../../src/core/types.ts';
import { createGitHubRepository, createOctokit } from '../../src/github/index.ts';
import { FILE_HISTORY_QUERY } from '../support/github-emulator/graphql.ts';
import { startGitHubEmulator, type GitHubEmulator } from '../support/github-emulator.ts';
import { PATH, kustomization } from './fixture.ts';

const versionOf = (text: string): ImageVersion | null => {
  const m = /newTag: (\S+)/.exec(text);
  return m?.[1] === undefined ? null : { tag: m[1] };
};

const DAY = 24 * 3600_000;
const T0 = Date.parse('2026-11-20T10:00:00Z');
const at = (days: number) => new Date(T0 + days * DAY);

describe('rollback target on merge-commit, squash and rebase-merge histories', () => {
  let gh: GitHubEmulator;
  before(async () => {
    gh = await startGitHubEmulator({ now: () => at(10) });
  });
  after(async () => {
    try {
      gh.assertNoUnknownRequests();
    } finally {
      await gh.close();
    }
  });

  const octokit = () =>
    createOctokit({ baseUrl: gh.url, auth: { token: 'test-token' }, retries: 0, spaceWrites: false });
  const repo = () => createGitHubRepository({ octokit: octokit() });

  /**
   * main runs v1.8.0, a release branch forks, main moves to v1.9.0 while the
   * branch goes v2.0.0-rc1 → v2.0.0; the branch is merged into main with a
   * merge commit (the conflict on the tag resolved to v2.0.0).
   */
  function seedReleaseBranch(name: string): { merge: string; v190: string } {
    gh.seedRepo({
      owner: 'acme',
      repo: name,
      commits: [{ message: 'v1.8.0', files: { [PATH]: kustomization('v1.8.0') }, date: at(0) }],
    });
    gh.createBranch('acme', name, 'release/2.0');
    const v190 = gh.commit({
      owner: 'acme',
      repo: name,
      branch: 'main',
      message: 'release v1.9.0',
      files: { [PATH]: kustomization('v1.9.0') },
      date: at(1),
    });
    gh.commit({
      owner: 'acme',
      repo: name,
      branch: 'main',
      message: 'docs',
      files: { 'README.md': 'x\n' },
      date: at(1.5),
    });
    gh.commit({
      owner: 'acme',
      repo: name,
      branch: 'release/2.0',
      message: 'release v2.0.0-rc1',
      files: { [PATH]: kustomization('v2.0.0-rc1') },
      date: at(2),
    });
    gh.commit({
      owner: 'acme',
      repo: name,
      branch: 'release/2.0',
      message: 'release v2.0.0',
      files: { [PATH]: kustomization('v2.0.0') },
      date: at(3),
    });
    const merge = gh.mergeBranch({
      owner: 'acme',
      repo: name,
      base: 'main',
      head: 'release/2.0',
      message: "Merge branch 'release/2.0'",
      date: at(5),
      resolutions: { [PATH]: kustomization('v2.0.0') },
    });
    return { merge, v190 };
  }

  it('the emulator serves history(path:) with git log simplification: the merged branch, not what main ran', async () => {
    seedReleaseBranch('simplified');
    const res = await octokit().graphql<{
      repository: { object: { history: { nodes: { message: string }[] } } };
    }>(FILE_HISTORY_QUERY, {
      owner: 'acme',
      name: 'simplified',
      expression: 'refs/heads/main',
      path: PATH,
      first: 100,
      after: null,
    });
    // The merge is TREESAME to its second parent: hidden, and v1.9.0 (main's own) is never listed.
    assert.deepEqual(
      res.repository.object.history.nodes.map((n) => n.message),
      ['release v2.0.0', 'release v2.0.0-rc1', 'v1.8.0'],
    );
  });

  it('merge commits: from v2.0.0 back to v1.9.0 (what main ran), the release dated by its merge', async () => {
    const { merge, v190 } = seedReleaseBranch('merges');
    const ref = { owner: 'acme', repo: 'merges', branch: 'main', path: PATH };
    gh.clearRequests();
    const analysis = await analyzeHistory(repo().fileHistory(ref), versionOf, { tag: 'v2.0.0' });
    assert.deepEqual(analysis.candidate, { to: { tag: 'v1.9.0' }, toCommit: v190 });
    assert.equal(analysis.current.commit, merge);
    assert.equal(analysis.current.committedAt, at(5).toISOString().replace('.000Z', 'Z'));
    assert.equal(gh.requests.length, 2, 'one page of the chain, then the changed texts');
  });

  it('merge commits without a conflict: main never ran the rc, so it is never a candidate', async () => {
    gh.seedRepo({
      owner: 'acme',
      repo: 'merges-clean',
      commits: [{ message: 'v1.9.0', files: { [PATH]: kustomization('v1.9.0') }, date: at(0) }],
    });
    gh.createBranch('acme', 'merges-clean', 'release/2.0');
    for (const [i, tag] of ['v2.0.0-rc1', 'v2.0.0-rc2', 'v2.0.0'].entries()) {
      gh.commit({
        owner: 'acme',
        repo: 'merges-clean',
        branch: 'release/2.0',
        message: `release ${tag}`,
        files: { [PATH]: kustomization(tag) },
        date: at(1 + i),
      });
    }
    const merge = gh.mergeBranch({
      owner: 'acme',
      repo: 'merges-clean',
      base: 'main',
      head: 'release/2.0',
      date: at(6),
    });
    const commits = [];
    for await (const c of repo().fileHistory({
      owner: 'acme',
      repo: 'merges-clean',
      branch: 'main',
      path: PATH,
    }))
      commits.push(c);
    assert.deepEqual(
      commits.map((c) => [c.sha === merge ? 'merge' : c.message, versionOf(c.content ?? '')?.tag]),
      [
        ['merge', 'v2.0.0'],
        ['v1.9.0', 'v1.9.0'],
      ],
    );
    assert.equal(commits[0]?.mergedMessage, 'release v2.0.0');
  });

  it('squash merges: every release is a commit of main', async () => {
    gh.seedRepo({
      owner: 'acme',
      repo: 'squash',
      commits: ['v1.0.0', 'v1.1.0', 'v1.2.0'].map((tag, i) => ({
        message: `release ${tag} (#${i + 1})`,
        files: { [PATH]: kustomization(tag) },
        date: at(i),
      })),
    });
    const analysis = await analyzeHistory(
      repo().fileHistory({ owner: 'acme', repo: 'squash', branch: 'main', path: PATH }),
      versionOf,
      { tag: 'v1.2.0' },
    );
    assert.equal(analysis.candidate?.to.tag, 'v1.1.0');
    assert.equal(analysis.current.committedAt, at(2).toISOString().replace('.000Z', 'Z'));
  });

  it('rebase merges: the replayed commits are on main, the newest before the release is the target', async () => {
    gh.seedRepo({
      owner: 'acme',
      repo: 'rebase',
      commits: [{ message: 'v1.9.0', files: { [PATH]: kustomization('v1.9.0') }, date: at(0) }],
    });
    // GitHub's rebase merge replays the PR's commits on main with new committer dates
    gh.commit({
      owner: 'acme',
      repo: 'rebase',
      branch: 'main',
      message: 'bump replicas',
      files: { [PATH]: kustomization('v1.9.0', 5) },
      date: at(4),
    });
    gh.commit({
      owner: 'acme',
      repo: 'rebase',
      branch: 'main',
      message: 'release v2.0.0',
      files: { [PATH]: kustomization('v2.0.0', 5) },
      date: at(4),
    });
    const analysis = await analyzeHistory(
      repo().fileHistory({ owner: 'acme', repo: 'rebase', branch: 'main', path: PATH }),
      versionOf,
      { tag: 'v2.0.0' },
    );
    assert.equal(analysis.candidate?.to.tag, 'v1.9.0');
    assert.equal(gh.listCommits('acme', 'rebase', 'main')[1]?.sha, analysis.candidate?.toCommit);
  });

  it('a rewind PR merged with a merge commit: its trailers on the second parent still condemn the tag', async () => {
    gh.seedRepo({
      owner: 'acme',
      repo: 'merged-rollback',
      commits: [
        { message: 'v1', files: { [PATH]: kustomization('v1') }, date: at(0) },
        { message: 'v2', files: { [PATH]: kustomization('v2') }, date: at(1) },
      ],
    });
    gh.createBranch('acme', 'merged-rollback', 'rewind/checkout-prod/v1');
    gh.commit({
      owner: 'acme',
      repo: 'merged-rollback',
      branch: 'rewind/checkout-prod/v1',
      message:
        'fix(prod): roll back checkout-prod to v1\n\nRewind-Remediation: r1\nRewind-Rolled-Back-From: v2',
      files: { [PATH]: kustomization('v1') },
      date: at(2),
    });
    const merge = gh.mergeBranch({
      owner: 'acme',
      repo: 'merged-rollback',
      base: 'main',
      head: 'rewind/checkout-prod/v1',
      message:
        'Merge pull request #1 from acme/rewind/checkout-prod/v1\n\nfix(prod): roll back checkout-prod to v1',
      date: at(3),
    });
    const ref = { owner: 'acme', repo: 'merged-rollback', branch: 'main', path: PATH };
    const now = await analyzeHistory(repo().fileHistory(ref), versionOf, { tag: 'v1' });
    assert.equal(now.current.commit, merge);
    assert.equal(now.current.isRollback, true, 'the merge of a rewind PR is a rollback');
    // v2 re-released by hand, then v3: v2 is the newest earlier version but was rolled back from
    for (const [i, tag] of ['v2', 'v3'].entries())
      gh.commit({
        owner: 'acme',
        repo: 'merged-rollback',
        branch: 'main',
        message: tag,
        files: { [PATH]: kustomization(tag) },
        date: at(4 + i),
      });
    const later = await analyzeHistory(repo().fileHistory(ref), versionOf, { tag: 'v3' });
    assert.deepEqual(later.candidate?.to, { tag: 'v1' });
  });
});
