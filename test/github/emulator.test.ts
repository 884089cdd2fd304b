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
      commits: Array.from({ length: 7 }, (_, i) => ({ message: `c${i}`, files: { 'a.txt': `${i}\n`, ...(i === 0 ? { 'b.txt': 'b\n' } : {}) } })),
    });
    gh = createOctokit({ baseUrl: emulator.url, auth: { token: 'test-token' }, retries: 0, spaceWrites: false });
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
    assert.equal(data.sha, '61780798228d17af2d34fce4cfbdf35556832472', 'what `git hash-object` says for "b\\n"');
    const err = (await failure(gh.rest.repos.getContent({ ...o, path: 'nope' }))) as { status: number; response?: { data: unknown } };
    assert.equal(err.status, 404);
    assert.deepEqual(Object.keys(err.response?.data as object).sort(), ['documentation_url', 'message', 'status']);
  });

  it('contents PUT: 422 without sha, 409 on a stale sha, 404 on an unknown branch, 201 creating', async () => {
    const content = Buffer.from('x\n').toString('base64');
    assert.equal(await status(gh.rest.repos.createOrUpdateFileContents({ ...o, path: 'a.txt', message: 'm', content })), 422);
    assert.equal(await status(gh.rest.repos.createOrUpdateFileContents({ ...o, path: 'a.txt', message: 'm', content, sha: '0'.repeat(40) })), 409);
    assert.equal(await status(gh.rest.repos.createOrUpdateFileContents({ ...o, path: 'new.txt', message: 'm', content, branch: 'nope' })), 404);
    const created = await gh.rest.repos.createOrUpdateFileContents({ ...o, path: 'new.txt', message: 'add', content });
    assert.equal(created.status, 201);
    assert.equal(emulator.getFile('acme', 'gitops', 'main', 'new.txt'), 'x\n');
  });

  it('commits?path= paginates with Link headers', async () => {
    const first = await gh.rest.repos.listCommits({ ...o, path: 'a.txt', per_page: 3 });
    assert.deepEqual(first.data.map((c) => c.commit.message), ['c6', 'c5', 'c4']);
    assert.match(first.headers.link ?? '', /page=2>; rel="next".*page=3>; rel="last"/);
    const all = await gh.paginate(gh.rest.repos.listCommits, { ...o, path: 'b.txt', per_page: 3 });
    assert.deepEqual(all.map((c) => c.commit.message), ['c0']);
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
    assert.deepEqual(files.map((x) => [x.filename, x.status, x.additions, x.deletions]), [['a.txt', 'modified', 1, 1]]);
    assert.equal(emulator.diff('acme', 'gitops', pr.number), 'diff --git a/a.txt b/a.txt\n--- a/a.txt\n+++ b/a.txt\n@@ -1,1 +1,1 @@\n-6\n+changed\n');
    await gh.rest.pulls.merge({ ...o, pull_number: pr.number, merge_method: 'squash' });
    assert.equal(await status(gh.rest.pulls.merge({ ...o, pull_number: pr.number, merge_method: 'squash' })), 405);
    assert.equal(emulator.listCommits('acme', 'gitops', 'main')[0]?.message, 't (#1)\n\n* change');
  });

  it('401 without the right token; injected faults', async () => {
    const anon = createOctokit({ baseUrl: emulator.url, auth: { kind: 'none' }, retries: 0, spaceWrites: false });
    assert.equal(await status(anon.rest.git.getRef({ ...o, ref: 'heads/main' })), 401);
    emulator.failNext({ method: 'GET', pathPattern: /\/git\/ref\//, status: 503, times: 2 });
    assert.equal(await status(gh.rest.git.getRef({ ...o, ref: 'heads/main' })), 503);
    assert.equal(await status(gh.rest.git.getRef({ ...o, ref: 'heads/main' })), 503);
    assert.equal(await status(gh.rest.git.getRef({ ...o, ref: 'heads/main' })), 'ok');
  });
});
