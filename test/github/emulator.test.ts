/** The emulator's own contract: GitHub's status codes and shapes for the calls rewind makes. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createOctokit } from '../../src/github/index.ts';
import { startGitHubEmulator, type GitHubEmulator } from '../support/github-emulator.ts';

describe('GitHub emulator', () => {
  let emulator: GitHubEmulator;
  let gh: ReturnType<typeof createOctokit>;
  const o = { owner: 'acme', repo: 'gitops' };
  before(async () => {
    emulator = await startGitHubEmulator();
    emulator.seedRepo({
      ...o,
      commits: Array.from({ length: 7 }, (_, i) => ({
        message: `c${i}`,
        files: { 'a.txt': `${i}\n`, ...(i === 0 ? { 'b.txt': 'b\n' } : {}) },
      })),
    });
    gh = createOctokit({
      baseUrl: emulator.url,
      auth: { token: 'test-token' },
      retries: 0,
      spaceWrites: false,
    });
  });
  after(async () => {
    try {
      emulator.assertNoUnknownRequests();
    } finally {
      await emulator.close();
    }
  });

  const failure = (p: Promise<unknown>): Promise<{ status: number; message: string }> =>
    p.then(
      () => assert.fail('expected a failure'),
      (e: { status: number; message: string }) => e,
    );
  const status = (p: Promise<unknown>): Promise<number | string> =>
    p.then(
      () => 'ok',
      (e: { status?: number; message?: string }) => e.status ?? String(e.message),
    );

  it('contents: git blob shas, base64, 404 with GitHub shape', async () => {
    const { data } = await gh.rest.repos.getContent({ ...o, path: 'b.txt' });
    assert.ok(!Array.isArray(data) && data.type === 'file' && 'content' in data);
    assert.equal(Buffer.from(data.content, 'base64').toString(), 'b\n');
    assert.equal(
      data.sha,
      '61780798228d17af2d34fce4cfbdf35556832472',
      'what `git hash-object` says for "b\\n"',
    );
    const err = (await failure(gh.rest.repos.getContent({ ...o, path: 'nope' }))) as {
      status: number;
      response?: { data: unknown };
    };
    assert.equal(err.status, 404);
    assert.deepEqual(Object.keys(err.response?.data as object).sort(), [
      'documentation_url',
      'message',
      'status',
    ]);
  });

  it('contents PUT: 422 without sha, 409 on a stale sha, 404 on an unknown branch, 201 creating', async () => {
    const content = Buffer.from('x\n').toString('base64');
    assert.equal(
      await status(gh.rest.repos.createOrUpdateFileContents({ ...o, path: 'a.txt', message: 'm', content })),
      422,
    );
    assert.equal(
      await status(
        gh.rest.repos.createOrUpdateFileContents({
          ...o,
          path: 'a.txt',
          message: 'm',
          content,
          sha: '0'.repeat(40),
        }),
      ),
      409,
    );
    assert.equal(
      await status(
        gh.rest.repos.createOrUpdateFileContents({
          ...o,
          path: 'new.txt',
          message: 'm',
          content,
          branch: 'nope',
        }),
      ),
      404,
    );
    const created = await gh.rest.repos.createOrUpdateFileContents({
      ...o,
      path: 'new.txt',
      message: 'add',
      content,
    });
    assert.equal(created.status, 201);
    assert.equal(emulator.getFile('acme', 'gitops', 'main', 'new.txt'), 'x\n');
  });

  it('commits?path= paginates with Link headers', async () => {
    const first = await gh.rest.repos.listCommits({ ...o, path: 'a.txt', per_page: 3 });
    assert.deepEqual(
      first.data.map((c) => c.commit.message),
      ['c6', 'c5', 'c4'],
    );
    assert.match(first.headers.link ?? '', /page=2>; rel="next".*page=3>; rel="last"/);
    const all = await gh.paginate(gh.rest.repos.listCommits, { ...o, path: 'b.txt', per_page: 3 });
    assert.deepEqual(
      all.map((c) => c.commit.message),
      ['c0'],
    );
  });

  it('refs: create, 422 when it exists, delete, 422 when gone', async () => {
    const main = (await gh.rest.git.getRef({ ...o, ref: 'heads/main' })).data.object.sha;
    assert.equal((await gh.rest.git.createRef({ ...o, ref: 'refs/heads/x/y', sha: main })).status, 201);
    const dup = await failure(gh.rest.git.createRef({ ...o, ref: 'refs/heads/x/y', sha: main }));
    assert.equal(dup.status, 422);
    assert.match(dup.message, /Reference already exists/);
    assert.equal((await gh.rest.git.deleteRef({ ...o, ref: 'heads/x/y' })).status, 204);
    assert.equal(await status(gh.rest.git.deleteRef({ ...o, ref: 'heads/x/y' })), 422);
  });

  it('pulls: 422 for no commits and for a duplicate; files; 405 merging twice', async () => {
    const main = (await gh.rest.git.getRef({ ...o, ref: 'heads/main' })).data.object.sha;
    await gh.rest.git.createRef({ ...o, ref: 'refs/heads/empty', sha: main });
    const none = await failure(gh.rest.pulls.create({ ...o, head: 'empty', base: 'main', title: 't' }));
    assert.equal(none.status, 422);
    assert.match(none.message, /No commits between main and empty/);
    emulator.commit({ ...o, branch: 'empty', message: 'change', files: { 'a.txt': 'changed\n' } });
    const pr = (await gh.rest.pulls.create({ ...o, head: 'acme:empty', base: 'main', title: 't' })).data;
    const dup = await failure(gh.rest.pulls.create({ ...o, head: 'empty', base: 'main', title: 't' }));
    assert.match(dup.message, /A pull request already exists for acme:empty\./);
    const files = (await gh.rest.pulls.listFiles({ ...o, pull_number: pr.number })).data;
    assert.deepEqual(
      files.map((x) => [x.filename, x.status, x.additions, x.deletions]),
      [['a.txt', 'modified', 1, 1]],
    );
    assert.equal(
      emulator.diff('acme', 'gitops', pr.number),
      'diff --git a/a.txt b/a.txt\n--- a/a.txt\n+++ b/a.txt\n@@ -1,1 +1,1 @@\n-6\n+changed\n',
    );
    await gh.rest.pulls.merge({ ...o, pull_number: pr.number, merge_method: 'squash' });
    assert.equal(
      await status(gh.rest.pulls.merge({ ...o, pull_number: pr.number, merge_method: 'squash' })),
      405,
    );
    // GitHub's default squash message: a one-commit PR takes the commit's title and body
    assert.equal(emulator.listCommits('acme', 'gitops', 'main')[0]?.message, 'change (#1)');
  });

  it('401 without the right token; injected faults', async () => {
    const anon = createOctokit({
      baseUrl: emulator.url,
      auth: { kind: 'none' },
      retries: 0,
      spaceWrites: false,
    });
    assert.equal(await status(anon.rest.git.getRef({ ...o, ref: 'heads/main' })), 401);
    emulator.failNext({ method: 'GET', pathPattern: /\/git\/ref\//, status: 503, times: 2 });
    assert.equal(await status(gh.rest.git.getRef({ ...o, ref: 'heads/main' })), 503);
    assert.equal(await status(gh.rest.git.getRef({ ...o, ref: 'heads/main' })), 503);
    assert.equal(await status(gh.rest.git.getRef({ ...o, ref: 'heads/main' })), 'ok');
  });
});

describe('GitHub emulator: Git Data API and force-moved heads', () => {
  let emulator: GitHubEmulator;
  let gh: ReturnType<typeof createOctokit>;
  const o = { owner: 'acme', repo: 'gitops' };
  let shas: string[];
  before(async () => {
    emulator = await startGitHubEmulator();
    shas = emulator.seedRepo({
      ...o,
      commits: [
        { message: 'init', files: { 'a.txt': 'a\n', 'dir/b.txt': 'b\n', 'dir/sub/c.txt': 'c\n' } },
        { message: 'second', files: { 'a.txt': 'a2\n' } },
      ],
    }).shas;
    gh = createOctokit({
      baseUrl: emulator.url,
      auth: { token: 'test-token' },
      retries: 0,
      spaceWrites: false,
    });
  });
  after(async () => {
    try {
      emulator.assertNoUnknownRequests();
    } finally {
      await emulator.close();
    }
  });

  const status = (p: Promise<unknown>): Promise<number | string> =>
    p.then(
      () => 'ok',
      (e: { status?: number; message?: string }) => e.status ?? String(e.message),
    );
  const message = (p: Promise<unknown>): Promise<string> =>
    p.then(
      () => assert.fail('expected a failure'),
      (e: { status: number; response?: { data?: { message?: string } } }) =>
        `${e.status} ${e.response?.data?.message ?? ''}`,
    );
  const head = async (branch: string): Promise<string> =>
    (await gh.rest.git.getRef({ ...o, ref: `heads/${branch}` })).data.object.sha;

  it('GET git/commits/{sha}: GitHub shape; 404 for an unknown sha or repository', async () => {
    const [first, second] = shas as [string, string];
    const { data, status: code } = await gh.rest.git.getCommit({ ...o, commit_sha: second });
    assert.equal(code, 200);
    assert.equal(data.sha, second);
    assert.equal(data.message, 'second');
    assert.deepEqual(
      data.parents.map((p) => p.sha),
      [first],
    );
    assert.match(data.tree.sha, /^[0-9a-f]{40}$/);
    assert.equal(data.author.name, 'Seed Author');
    assert.equal(data.committer.email, 'seed@example.com');
    const root = (await gh.rest.git.getCommit({ ...o, commit_sha: first })).data;
    assert.deepEqual(root.parents, []);
    assert.notEqual(root.tree.sha, data.tree.sha, 'different trees, different shas');
    assert.equal(await status(gh.rest.git.getCommit({ ...o, commit_sha: '0'.repeat(40) })), 404);
    assert.equal(
      await status(gh.rest.git.getCommit({ owner: 'acme', repo: 'nope', commit_sha: second })),
      404,
    );
  });

  it('POST git/trees: base_tree plus content, sha and sha:null entries; stable shas; 422 for bad input, 404 for an unknown repository', async () => {
    const second = shas[1] as string;
    const baseTree = (await gh.rest.git.getCommit({ ...o, commit_sha: second })).data.tree.sha;
    const bBlob = (await gh.rest.repos.getContent({ ...o, path: 'dir/b.txt' })).data as { sha: string };
    const res = await gh.rest.git.createTree({
      ...o,
      base_tree: baseTree,
      tree: [
        { path: 'a.txt', mode: '100644', type: 'blob', content: 'a3\n' },
        { path: 'copy/b.txt', mode: '100644', type: 'blob', sha: bBlob.sha },
        { path: 'dir/sub/c.txt', mode: '100644', type: 'blob', sha: null },
      ],
    });
    assert.equal(res.status, 201);
    assert.match(res.data.sha, /^[0-9a-f]{40}$/);
    assert.equal(res.data.truncated, false);
    assert.deepEqual(
      res.data.tree.map((e) => [e.path, e.mode, e.type]),
      [
        ['a.txt', '100644', 'blob'],
        ['copy', '040000', 'tree'],
        ['dir', '040000', 'tree'],
      ],
    );
    // The same tree again has the same sha; the base tree unchanged has its own.
    const again = await gh.rest.git.createTree({
      ...o,
      base_tree: baseTree,
      tree: [{ path: 'a.txt', mode: '100644', type: 'blob', content: 'a2\n' }],
    });
    assert.equal(again.data.sha, baseTree);
    // A subtree sha from the answer can be used as an entry.
    const dir = res.data.tree.find((e) => e.path === 'dir')?.sha as string;
    const moved = await gh.rest.git.createTree({
      ...o,
      base_tree: res.data.sha,
      tree: [
        { path: 'dir', mode: '040000', type: 'tree', sha: null },
        { path: 'moved', mode: '040000', type: 'tree', sha: dir },
      ],
    });
    assert.deepEqual(
      moved.data.tree.map((e) => e.path),
      ['a.txt', 'copy', 'moved'],
    );

    assert.equal(
      await message(
        gh.rest.git.createTree({
          ...o,
          base_tree: '0'.repeat(40),
          tree: [{ path: 'a.txt', mode: '100644', type: 'blob', content: 'x' }],
        }),
      ),
      '422 base_tree is not a valid tree oid',
    );
    assert.equal(
      await message(
        gh.rest.git.createTree({
          ...o,
          base_tree: second,
          tree: [{ path: 'a.txt', mode: '100644', type: 'blob', content: 'x' }],
        }),
      ),
      '422 base_tree is not a valid tree oid',
      'a commit sha is not a tree sha',
    );
    assert.equal(
      await message(
        gh.rest.git.createTree({
          ...o,
          tree: [{ path: 'a.txt', mode: '100644', type: 'blob', sha: '1'.repeat(40) }],
        }),
      ),
      `422 tree.sha ${'1'.repeat(40)} is not a valid blob`,
    );
    assert.equal(
      await status(
        gh.rest.git.createTree({
          ...o,
          tree: [{ path: 'a.txt', mode: '100644', type: 'blob', sha: bBlob.sha, content: 'x' }],
        }),
      ),
      422,
    );
    assert.equal(
      await status(
        gh.rest.git.createTree({
          ...o,
          tree: [{ path: 'a.txt', mode: '040000', type: 'blob', content: 'x' }],
        }),
      ),
      422,
    );
    assert.equal(
      await status(
        gh.rest.git.createTree({
          owner: 'acme',
          repo: 'nope',
          tree: [{ path: 'a.txt', mode: '100644', type: 'blob', content: 'x' }],
        }),
      ),
      404,
    );
  });

  it('POST git/commits: 201 with the given tree, parents and signatures; 422 for an unknown tree or parent; the ref then fast-forwards', async () => {
    const parent = await head('main');
    const baseTree = (await gh.rest.git.getCommit({ ...o, commit_sha: parent })).data.tree.sha;
    const tree = (
      await gh.rest.git.createTree({
        ...o,
        base_tree: baseTree,
        tree: [{ path: 'a.txt', mode: '100644', type: 'blob', content: 'data api\n' }],
      })
    ).data.sha;
    const author = { name: 'rewind-bot', email: 'rewind-bot@users.noreply.github.com' };
    const res = await gh.rest.git.createCommit({
      ...o,
      message: 'via the data api',
      tree,
      parents: [parent],
      author,
      committer: author,
    });
    assert.equal(res.status, 201);
    assert.deepEqual(
      [res.data.tree.sha, res.data.parents.map((p) => p.sha), res.data.message],
      [tree, [parent], 'via the data api'],
    );
    assert.equal(res.data.author.name, 'rewind-bot');
    assert.equal(res.data.committer.email, author.email);
    assert.equal(
      emulator.getFile('acme', 'gitops', 'main', 'a.txt'),
      'a2\n',
      'a commit alone moves no branch',
    );
    assert.equal(
      await message(
        gh.rest.git.createCommit({ ...o, message: 'm', tree: '0'.repeat(40), parents: [parent] }),
      ),
      '422 Tree SHA does not exist',
    );
    assert.equal(
      await message(gh.rest.git.createCommit({ ...o, message: 'm', tree, parents: ['0'.repeat(40)] })),
      '422 Parent SHA does not exist or is not a commit object',
    );
    assert.equal(
      await status(gh.rest.git.createCommit({ ...o, message: 'm', tree: parent, parents: [] })),
      422,
      'a commit sha is not a tree',
    );
    await gh.rest.git.updateRef({ ...o, ref: 'heads/main', sha: res.data.sha });
    assert.equal(emulator.getFile('acme', 'gitops', 'main', 'a.txt'), 'data api\n');
    assert.equal(emulator.getFile('acme', 'gitops', 'main', 'dir/sub/c.txt'), 'c\n');
  });

  it('a head force-moved onto its base closes the open PR (not merged); moved to a commit still ahead, it stays open', async () => {
    const main = await head('main');
    const open = (branch: string) =>
      emulator.openPullRequest({ ...o, head: branch, title: branch, files: { [`${branch}.txt`]: 'x\n' } });
    const state = (n: number) => emulator.pulls('acme', 'gitops').find((p) => p.number === n);

    const atBase = open('to-base');
    await gh.rest.git.updateRef({ ...o, ref: 'heads/to-base', sha: main, force: true });
    assert.deepEqual(
      [state(atBase)?.state, state(atBase)?.merged, state(atBase)?.headSha],
      ['closed', false, main],
    );
    const pr = (await gh.rest.pulls.get({ ...o, pull_number: atBase })).data;
    assert.deepEqual([pr.state, pr.merged, pr.head.sha], ['closed', false, main]);
    assert.ok(pr.closed_at !== null);
    // Committing on the branch afterwards does not reopen it.
    emulator.commit({ ...o, branch: 'to-base', message: 'later', files: { 'later.txt': 'y\n' } });
    assert.equal(state(atBase)?.state, 'closed');
    assert.equal(state(atBase)?.headSha, main);

    const atAncestor = open('to-ancestor');
    await gh.rest.git.updateRef({ ...o, ref: 'heads/to-ancestor', sha: shas[0] as string, force: true });
    assert.deepEqual([state(atAncestor)?.state, state(atAncestor)?.merged], ['closed', false]);

    const ahead = open('still-ahead');
    emulator.createBranch('acme', 'gitops', 'other', 'main');
    const other = emulator.commit({
      ...o,
      branch: 'other',
      message: 'other work',
      files: { 'other.txt': 'z\n' },
    });
    await gh.rest.git.updateRef({ ...o, ref: 'heads/still-ahead', sha: other, force: true });
    assert.deepEqual([state(ahead)?.state, state(ahead)?.headSha], ['open', other]);
  });

  it('the old "reset to the base, then commit with the contents API" sequence loses the PR', async () => {
    const main = await head('main');
    const number = emulator.openPullRequest({
      ...o,
      head: 'rewind/x/v1',
      title: 'rollback',
      files: { 'a.txt': 'rolled back\n' },
    });
    await gh.rest.git.updateRef({ ...o, ref: 'heads/rewind/x/v1', sha: main, force: true });
    const blob = (await gh.rest.repos.getContent({ ...o, path: 'a.txt', ref: 'rewind/x/v1' })).data as {
      sha: string;
    };
    await gh.rest.repos.createOrUpdateFileContents({
      ...o,
      path: 'a.txt',
      branch: 'rewind/x/v1',
      message: 'rollback again',
      content: Buffer.from('rolled back again\n').toString('base64'),
      sha: blob.sha,
    });
    const pr = emulator.pulls('acme', 'gitops').find((p) => p.number === number);
    assert.equal(
      pr?.state,
      'closed',
      'the intermediate reset closed it; the later commit does not bring it back',
    );
    assert.equal(pr?.headSha, main);
    assert.equal(
      await status(gh.rest.pulls.merge({ ...o, pull_number: number, merge_method: 'squash' })),
      405,
    );
  });
});
