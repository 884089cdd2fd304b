import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { analyzeHistory } from '../../src/core/rollback.ts';
import type { ImageVersion } from '../../src/core/types.ts';
import { createGitHubRepository, createOctokit } from '../../src/github/index.ts';
import { startGitHubEmulator, type GitHubEmulator, type SeedCommit } from '../support/github-emulator.ts';
import { PATH, kustomization } from './fixture.ts';

const versionOf = (text: string): ImageVersion | null => {
  const m = /newTag: (\S+)/.exec(text);
  return m?.[1] === undefined ? null : { tag: m[1] };
};

/**
 * 500 commits touching the file (plus unrelated ones): v1.0.0 until `back`
 * commits before the head, then v2.0.0 and replica changes that keep it.
 */
function history(back: number): SeedCommit[] {
  const commits: SeedCommit[] = [];
  const total = 500;
  for (let i = 0; i < total; i++) {
    const fromNewest = total - 1 - i;
    const tag = fromNewest < back ? 'v2.0.0' : 'v1.0.0';
    commits.push({ message: `change ${i}`, files: { [PATH]: kustomization(tag, i) } });
    if (i % 7 === 0) commits.push({ message: `unrelated ${i}`, files: { 'other.txt': `${i}\n` } });
  }
  return commits;
}

describe('fileHistory through GraphQL, with analyzeHistory', () => {
  let emulator: GitHubEmulator;
  before(async () => {
    emulator = await startGitHubEmulator();
    for (const back of [1, 10, 300])
      emulator.seedRepo({ owner: 'acme', repo: `gitops-${back}`, commits: history(back) });
  });
  after(async () => {
    try {
      emulator.assertNoUnknownRequests();
    } finally {
      await emulator.close();
    }
  });

  const repoFor = () =>
    createGitHubRepository({
      octokit: createOctokit({
        baseUrl: emulator.url,
        auth: { token: 'test-token' },
        retries: 0,
        spaceWrites: false,
      }),
    });

  for (const back of [1, 10, 300]) {
    it(`finds the previous version ${back} commit(s) back, reading the whole history in few requests`, async () => {
      const repo = repoFor();
      const ref = { owner: 'acme', repo: `gitops-${back}`, branch: 'main', path: PATH };
      emulator.clearRequests();
      const head = await repo.readFile(ref);
      const readRequests = emulator.requests.length;
      const analysis = await analyzeHistory(repo.fileHistory({ ...ref, branch: head.commitSha }), versionOf, {
        tag: 'v2.0.0',
      });
      const historyRequests = emulator.requests.length - readRequests;
      assert.deepEqual(analysis.candidate?.to, { tag: 'v1.0.0' });
      // "never rolled back from" needs every trailer: the walk reads all 500 commits of the file
      assert.equal(analysis.commitsRead, 500);
      const fileCommits = emulator
        .listCommits('acme', `gitops-${back}`, 'main')
        .filter((c) => c.changedPaths.includes(PATH));
      assert.equal(analysis.candidate?.toCommit, fileCommits[back]?.sha);
      assert.equal(analysis.current.commit, fileCommits[back - 1]?.sha);
      assert.ok(
        emulator.requests
          .slice(readRequests)
          .every((r) => r.path === '/graphql' && r.operationName === 'RewindFirstParents'),
      );
      // the branch's 572 commits (500 touch the file) in pages of 100, the last page's texts in one
      // more request, however far back the target is
      assert.equal(emulator.listCommits('acme', `gitops-${back}`, 'main').length, 572);
      assert.equal(historyRequests, 7);
      console.log(
        `history walk, target ${back} commit(s) back: ${historyRequests} GitHub request(s) for history (+${readRequests} for readFile), ${analysis.commitsRead} commits read`,
      );
    });
  }

  it('pages are pinned to the commit the walk started from', async () => {
    const repo = repoFor();
    const ref = { owner: 'acme', repo: 'gitops-300', branch: 'main', path: PATH };
    const seen: string[] = [];
    for await (const c of repo.fileHistory(ref)) {
      if (seen.length === 0)
        emulator.commit({
          owner: 'acme',
          repo: 'gitops-300',
          branch: 'main',
          message: 'concurrent',
          files: { [PATH]: kustomization('v3.0.0') },
        });
      seen.push(c.sha);
      if (seen.length === 12) break;
    }
    assert.equal(new Set(seen).size, 12);
    assert.ok(
      !seen.includes(emulator.listCommits('acme', 'gitops-300', 'main')[0]?.sha ?? ''),
      'the new commit did not leak into page 2',
    );
  });
});

describe('fileHistory edge cases', () => {
  let emulator: GitHubEmulator;
  before(async () => {
    emulator = await startGitHubEmulator({ blobTextLimit: 40 });
    emulator.seedRepo({
      owner: 'acme',
      repo: 'gitops',
      commits: [
        { message: 'one', files: { [PATH]: kustomization('v1') } },
        { message: 'gone', files: { [PATH]: null } },
        { message: 'back', files: { [PATH]: kustomization('v2') } },
      ],
    });
  });
  after(async () => {
    await emulator.close();
  });

  const repo = () =>
    createGitHubRepository({
      octokit: createOctokit({
        baseUrl: emulator.url,
        auth: { token: 'test-token' },
        retries: 0,
        spaceWrites: false,
      }),
    });

  it('reads truncated blobs whole through the raw contents endpoint, and deleted files as null', async () => {
    const commits = [];
    for await (const c of repo().fileHistory({ owner: 'acme', repo: 'gitops', branch: 'main', path: PATH }))
      commits.push(c);
    assert.deepEqual(
      commits.map((c) => [c.message, c.content]),
      [
        ['back', kustomization('v2')],
        ['gone', null],
        ['one', kustomization('v1')],
      ],
    );
    assert.equal(
      emulator.requests.filter((r) => r.method === 'GET' && r.path.includes('/contents/')).length,
      2,
    );
    emulator.assertNoUnknownRequests();
  });

  it('a missing branch or repository is github_not_found', async () => {
    const walk = async (ref: { owner: string; repo: string; branch: string; path: string }) => {
      for await (const _ of repo().fileHistory(ref)) break;
    };
    await assert.rejects(walk({ owner: 'acme', repo: 'gitops', branch: 'nope', path: PATH }), {
      code: 'github_not_found',
    });
    await assert.rejects(walk({ owner: 'acme', repo: 'missing', branch: 'main', path: PATH }), {
      code: 'github_not_found',
      message: /Could not resolve/,
    });
  });

  it('an unknown GraphQL document is a 400 and an unknown request', async () => {
    const octokit = createOctokit({
      baseUrl: emulator.url,
      auth: { token: 'test-token' },
      retries: 0,
      spaceWrites: false,
    });
    await assert.rejects(octokit.graphql('query Other { viewer { login } }'), { status: 400 });
    assert.throws(() => emulator.assertNoUnknownRequests(), /POST \/graphql \(Other\) → 400/);
    emulator.unknownRequests.length = 0;
  });
});
