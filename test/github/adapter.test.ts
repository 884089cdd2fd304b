import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { RewindError } from '../../src/core/errors.ts';
import { FILE, PATH, changeRequest, kustomization, startFixture, type Fixture } from './fixture.ts';

async function rejectsWith(
  p: Promise<unknown>,
  code: string,
  retryable: boolean,
  message?: RegExp,
): Promise<RewindError> {
  const err = await p.then(
    () => assert.fail('expected a rejection'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof RewindError, `not a RewindError: ${String(err)}`);
  assert.equal(err.code, code, err.message);
  assert.equal(err.retryable, retryable);
  if (message) assert.match(err.message, message);
  assert.doesNotMatch(err.message, /test-token/);
  return err;
}

describe('GitHub adapter against the emulator', () => {
  let f: Fixture;
  beforeEach(async () => {
    f = await startFixture();
  });
  afterEach(async () => {
    try {
      f.emulator.assertNoUnknownRequests();
    } finally {
      await f.close();
    }
  });

  it('readFile returns content, blob sha and the head commit it was read at', async () => {
    const head = await f.repo.readFile(FILE);
    assert.equal(head.content, kustomization('v1.2.0'));
    assert.equal(head.commitSha, f.emulator.listCommits('acme', 'gitops', 'main')[0]?.sha);
    assert.match(head.blobSha, /^[0-9a-f]{40}$/);
  });

  it('proposeChange makes a branch, one commit changing only the file, a labelled PR with reviewers', async () => {
    const base = await f.repo.readFile(FILE);
    const req = changeRequest(base);
    const pr = await f.repo.proposeChange(req);
    assert.equal(pr.headBranch, req.headBranch);
    assert.equal(pr.state, 'open');
    assert.equal(pr.merged, false);
    const commits = f.emulator.listCommits('acme', 'gitops', req.headBranch);
    assert.equal(commits[1]?.sha, base.commitSha, 'one commit on top of the base');
    assert.deepEqual(commits[0]?.changedPaths, [PATH]);
    assert.equal(commits[0]?.message, req.commitMessage);
    assert.equal(commits[0]?.author.name, 'rewind-bot');
    assert.equal(pr.headSha, commits[0]?.sha);
    assert.equal(f.emulator.getFile('acme', 'gitops', req.headBranch, PATH), req.content);
    const [pull] = f.emulator.pulls('acme', 'gitops');
    assert.deepEqual(pull?.labels, ['rewind', 'env:prod']);
    assert.deepEqual(pull?.requestedReviewers, ['octocat']);
    assert.equal(pull?.title, req.title);
    assert.equal(pull?.baseRef, 'main');
    assert.match(
      f.emulator.diff('acme', 'gitops', pr.number),
      /^-    newTag: v1\.2\.0 # pinned by CI\n\+    newTag: v1\.1\.0 # pinned by CI$/m,
    );
  });

  it('proposeChange again reuses the branch, commit and PR', async () => {
    const base = await f.repo.readFile(FILE);
    const first = await f.repo.proposeChange(changeRequest(base));
    f.emulator.clearRequests();
    const second = await f.repo.proposeChange(changeRequest(base));
    // the base head GitHub saw at creation comes only with the call that created the PR
    const { baseShaAtCreation, ...same } = first;
    assert.equal(baseShaAtCreation, base.commitSha);
    assert.deepEqual(second, same);
    assert.equal(f.emulator.pulls('acme', 'gitops').length, 1);
    assert.equal(f.emulator.listCommits('acme', 'gitops', first.headBranch)[1]?.sha, base.commitSha);
    const writes = f.emulator.requests.filter((r) => r.method !== 'GET' && r.status < 300);
    assert.deepEqual(writes, [], 'nothing written the second time');
  });

  it('a file changed under our feet is a retryable github_conflict', async () => {
    const base = await f.repo.readFile(FILE);
    const req = changeRequest(base);
    f.emulator.beforeNext({
      method: 'PUT',
      pathPattern: '/contents/',
      run: () =>
        f.emulator.commit({
          owner: 'acme',
          repo: 'gitops',
          branch: req.headBranch,
          message: 'someone else',
          files: { [PATH]: kustomization('v9') },
        }),
    });
    await rejectsWith(f.repo.proposeChange(req), 'github_conflict', true, /does not match/);
  });

  it('a 422 building the tree of a stale branch is github_invalid naming the call; the branch and PR are untouched', async () => {
    const first = await f.repo.readFile(FILE);
    const opened = await f.repo.proposeChange(changeRequest(first));
    f.emulator.commit({
      owner: 'acme',
      repo: 'gitops',
      branch: 'main',
      message: 'scale checkout',
      files: { [PATH]: kustomization('v1.2.0', 4) },
    });
    const req = changeRequest(await f.repo.readFile(FILE));
    f.emulator.failNext({
      method: 'POST',
      pathPattern: '/git/trees',
      status: 422,
      body: {
        message: 'base_tree is not a valid tree oid',
        documentation_url: 'https://docs.github.com/rest/git/trees#create-a-tree',
        status: '422',
      },
    });
    await rejectsWith(
      f.repo.proposeChange(req),
      'github_invalid',
      false,
      new RegExp(
        `^GitHub build the tree of ${PATH.replace(/\./g, '\\.')} for rewind/checkout-prod/v1\\.1\\.0 failed \\(POST /repos/acme/gitops/git/trees\\): 422 base_tree is not a valid tree oid$`,
      ),
    );
    assert.equal(
      f.emulator.listCommits('acme', 'gitops', req.headBranch)[0]?.sha,
      opened.headSha,
      'the branch did not move',
    );
    assert.equal(f.emulator.pulls('acme', 'gitops')[0]?.state, 'open');
    assert.equal(f.emulator.requests.filter((r) => r.method === 'PATCH').length, 0);
  });

  it('maps 401, 404 and 500', async () => {
    const bad = await startFixture({ token: 'wrong' });
    try {
      await rejectsWith(bad.repo.readFile(FILE), 'github_auth', false, /Bad credentials/);
    } finally {
      await bad.close();
    }
    await rejectsWith(
      f.repo.readFile({ ...FILE, path: 'nope.yaml' }),
      'github_not_found',
      false,
      /nope\.yaml/,
    );
    await rejectsWith(f.repo.readFile({ ...FILE, branch: 'gone' }), 'github_not_found', false, /404/);
    f.emulator.failNext({ method: 'GET', pathPattern: /\/git\/ref\//, status: 500 });
    await rejectsWith(f.repo.readFile(FILE), 'github_unavailable', true, /500/);
    assert.equal(f.counts.get('GET 500'), 1);
  });

  it('merge squashes one commit onto main with the given title and body', async () => {
    const base = await f.repo.readFile(FILE);
    const pr = await f.repo.proposeChange(changeRequest(base));
    const { sha } = await f.repo.mergePullRequest({
      repo: FILE,
      number: pr.number,
      headSha: pr.headSha,
      commitTitle: 'fix: title',
      commitMessage: 'body\n\nRewind-Remediation: r1',
    });
    const [top, prev] = f.emulator.listCommits('acme', 'gitops', 'main');
    assert.equal(top?.sha, sha);
    assert.equal(top?.message, 'fix: title\n\nbody\n\nRewind-Remediation: r1');
    assert.equal(top?.parents.length, 1);
    assert.equal(prev?.sha, base.commitSha);
    assert.deepEqual(top?.changedPaths, [PATH]);
    assert.equal(f.emulator.getFile('acme', 'gitops', 'main', PATH), kustomization('v1.1.0'));
    assert.equal(f.emulator.pulls('acme', 'gitops')[0]?.merged, true);
  });

  it('close comments, closes and deletes the branch', async () => {
    const base = await f.repo.readFile(FILE);
    const pr = await f.repo.proposeChange(changeRequest(base));
    await f.repo.closePullRequest(FILE, pr.number, 'resolved');
    const [pull] = f.emulator.pulls('acme', 'gitops');
    assert.equal(pull?.state, 'closed');
    assert.deepEqual(pull?.comments, ['resolved']);
    assert.ok(!f.emulator.branches('acme', 'gitops').includes(pr.headBranch));
    await f.repo.closePullRequest(FILE, pr.number, 'again');
    assert.deepEqual(f.emulator.pulls('acme', 'gitops')[0]?.comments, ['resolved'], 'no-op when closed');
  });
});
