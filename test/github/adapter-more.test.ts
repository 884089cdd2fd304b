import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { createGitHubRepository, createOctokit } from '../../src/github/index.ts';
import { startGitHubEmulator } from '../support/github-emulator.ts';
import { FILE, PATH, changeRequest, kustomization, startFixture, type Fixture } from './fixture.ts';

describe('GitHub adapter: pull requests, races, retries', () => {
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

  it('findOpenPullRequest pages through open PRs and wants the rewind label and the prefix', async () => {
    f.emulator.openPullRequest({
      owner: 'acme',
      repo: 'gitops',
      head: 'rewind/checkout-prod/v1.0.0',
      title: 'the one',
      labels: ['rewind'],
    });
    f.emulator.openPullRequest({
      owner: 'acme',
      repo: 'gitops',
      head: 'rewind/checkout-prod/v0.9.0',
      title: 'unlabelled',
    });
    for (let i = 0; i < 120; i++)
      f.emulator.openPullRequest({
        owner: 'acme',
        repo: 'gitops',
        head: `feature/${i}`,
        title: `feature ${i}`,
        labels: ['rewind'],
      });
    f.emulator.clearRequests();
    const pr = await f.repo.findOpenPullRequest(FILE, 'rewind/checkout-prod/');
    assert.equal(pr?.title, 'the one');
    assert.equal(pr?.headBranch, 'rewind/checkout-prod/v1.0.0');
    assert.equal(f.emulator.requests.length, 2, 'the oldest PR is on the second page of 100');
    assert.equal(f.emulator.requests[1]?.query.page, '2');
    assert.equal(await f.repo.findOpenPullRequest(FILE, 'rewind/payments-prod/'), null);
  });

  it('a reviewer GitHub refuses is logged, the others are still requested', async () => {
    f.emulator.setCollaborators('acme', 'gitops', ['octocat', 'hubot']);
    const base = await f.repo.readFile(FILE);
    await f.repo.proposeChange(changeRequest(base, { reviewers: ['octocat', 'stranger', 'hubot'] }));
    assert.deepEqual(f.emulator.pulls('acme', 'gitops')[0]?.requestedReviewers, ['octocat', 'hubot']);
    assert.equal(f.warnings.length, 1);
    assert.match(f.warnings[0] ?? '', /reviewer could not be requested.*stranger.*collaborator/);
  });

  it('a PR opened by another worker between look and create is reused', async () => {
    const base = await f.repo.readFile(FILE);
    const req = changeRequest(base);
    f.emulator.beforeNext({
      method: 'POST',
      pathPattern: /\/pulls$/,
      run: () =>
        f.emulator.openPullRequest({ owner: 'acme', repo: 'gitops', head: req.headBranch, title: 'raced' }),
    });
    const pr = await f.repo.proposeChange(req);
    assert.equal(pr.title, 'raced');
    assert.equal(f.emulator.pulls('acme', 'gitops').length, 1);
    assert.ok(
      f.emulator.requests.some((r) => r.method === 'POST' && r.path.endsWith('/pulls') && r.status === 422),
    );
    assert.deepEqual(f.emulator.pulls('acme', 'gitops')[0]?.labels, ['rewind', 'env:prod']);
  });

  it('a stale branch from an earlier remediation (no PR) gets one commit on top of the base, never the base itself', async () => {
    const req = changeRequest(await f.repo.readFile(FILE));
    f.emulator.createBranch(
      'acme',
      'gitops',
      req.headBranch,
      f.emulator.listCommits('acme', 'gitops', 'main')[2]?.sha,
    );
    f.emulator.commit({
      owner: 'acme',
      repo: 'gitops',
      branch: req.headBranch,
      message: 'old rollback',
      files: { [PATH]: kustomization('v1.1.0', 7) },
    });
    const base = await f.repo.readFile(FILE);
    f.emulator.clearRequests();
    const pr = await f.repo.proposeChange(changeRequest(base));
    const commits = f.emulator.listCommits('acme', 'gitops', req.headBranch);
    assert.equal(commits[1]?.sha, base.commitSha);
    assert.equal(pr.headSha, commits[0]?.sha);
    assert.equal(f.emulator.getFile('acme', 'gitops', req.headBranch, PATH), kustomization('v1.1.0'));
    const moves = f.emulator.requests.filter(
      (r) => r.method === 'PATCH' && r.path.endsWith(`/git/refs/heads/${req.headBranch}`),
    );
    assert.deepEqual(
      moves.map((r) => (r.body as { sha?: string }).sha),
      [commits[0]?.sha],
    );
    assert.equal(pr.state, 'open');
    assert.equal(f.emulator.pulls('acme', 'gitops').length, 1);
  });

  it('main moved under an open rewind PR: one new commit on the new base, the same PR stays open, the branch never passes through the base', async () => {
    const first = await f.repo.readFile(FILE);
    const opened = await f.repo.proposeChange(changeRequest(first));
    const oldHead = opened.headSha;
    // Someone scales checkout on main: the branch's content is now stale.
    f.emulator.commit({
      owner: 'acme',
      repo: 'gitops',
      branch: 'main',
      message: 'scale checkout',
      files: { [PATH]: kustomization('v1.2.0', 4) },
    });
    const base = await f.repo.readFile(FILE);
    assert.notEqual(base.commitSha, first.commitSha);
    const req = changeRequest(base);
    assert.equal(req.content, kustomization('v1.1.0', 4));
    f.emulator.clearRequests();

    const pr = await f.repo.proposeChange(req);

    assert.equal(pr.number, opened.number, 'the same PR is reused');
    assert.equal(pr.state, 'open');
    const pulls = f.emulator.pulls('acme', 'gitops');
    assert.equal(pulls.length, 1);
    assert.equal(pulls[0]?.state, 'open', 'GitHub did not close the PR');
    assert.equal(pulls[0]?.merged, false);
    const [top, parent] = f.emulator.listCommits('acme', 'gitops', req.headBranch);
    assert.equal(parent?.sha, base.commitSha, 'exactly one commit on top of the new base');
    assert.notEqual(top?.sha, oldHead);
    assert.deepEqual(top?.parents, [base.commitSha]);
    assert.deepEqual(top?.changedPaths, [PATH]);
    assert.equal(top?.message, req.commitMessage);
    assert.equal(top?.author.name, req.author.name);
    assert.equal(top?.committer.email, req.author.email);
    assert.equal(pr.headSha, top?.sha);
    assert.equal(pulls[0]?.headSha, top?.sha);
    assert.equal(f.emulator.getFile('acme', 'gitops', req.headBranch, PATH), req.content);
    assert.equal(
      f.emulator.getFile('acme', 'gitops', req.headBranch, 'README.md'),
      '# gitops repo\n',
      'the rest of the tree is the base',
    );
    assert.deepEqual(f.emulator.diff('acme', 'gitops', pr.number).match(/^[-+] .*$/gm), [
      '-    newTag: v1.2.0 # pinned by CI',
      '+    newTag: v1.1.0 # pinned by CI',
    ]);

    // The branch went straight from its old commit to the new one: no request ever pointed it at the base.
    const calls = f.emulator.requests.map(
      (r) => `${r.method} ${r.path.replace('/repos/acme/gitops', '')} ${r.status}`,
    );
    assert.deepEqual(calls, [
      'POST /git/refs 422',
      'GET /pulls 200',
      `GET /contents/${PATH} 200`,
      `GET /git/commits/${base.commitSha} 200`,
      'POST /git/trees 201',
      'POST /git/commits 201',
      `PATCH /git/refs/heads/${req.headBranch} 200`,
    ]);
    const refWrites = f.emulator.requests.filter((r) => r.path.includes('/git/refs') && r.status < 300);
    assert.deepEqual(
      refWrites.map((r) => [
        r.method,
        (r.body as { sha?: string }).sha,
        (r.body as { force?: boolean }).force,
      ]),
      [['PATCH', top?.sha, true]],
    );
    for (const r of f.emulator.requests.filter((x) => x.status < 300)) {
      assert.notEqual(
        (r.body as { sha?: unknown } | undefined)?.sha,
        base.commitSha,
        `${r.method} ${r.path} pointed something at the base`,
      );
    }
    const treeBody = f.emulator.requests.find((r) => r.path.endsWith('/git/trees'))?.body;
    const gh = createOctokit({
      baseUrl: f.emulator.url,
      auth: { token: 'test-token' },
      retries: 0,
      spaceWrites: false,
    });
    const baseTree = (
      await gh.rest.git.getCommit({ owner: 'acme', repo: 'gitops', commit_sha: base.commitSha })
    ).data.tree.sha;
    assert.deepEqual(treeBody, {
      base_tree: baseTree,
      tree: [{ path: PATH, mode: '100644', type: 'blob', content: req.content }],
    });

    // The reused PR is mergeable with the head we returned.
    await f.repo.mergePullRequest({
      repo: FILE,
      number: pr.number,
      headSha: pr.headSha,
      commitTitle: 'rollback',
      commitMessage: '',
    });
    assert.equal(f.emulator.getFile('acme', 'gitops', 'main', PATH), kustomization('v1.1.0', 4));
  });

  it('merge: head moved → retryable conflict; base changed the file → non-retryable github_invalid', async () => {
    const base = await f.repo.readFile(FILE);
    const pr = await f.repo.proposeChange(changeRequest(base));
    const merge = (headSha: string) =>
      f.repo.mergePullRequest({
        repo: FILE,
        number: pr.number,
        headSha,
        commitTitle: 't',
        commitMessage: 'm',
      });
    await assert.rejects(merge('0'.repeat(40)), {
      code: 'github_conflict',
      retryable: true,
      message: /Head branch was modified/,
    });
    f.emulator.commit({
      owner: 'acme',
      repo: 'gitops',
      branch: 'main',
      message: 'release v1.3.0',
      files: { [PATH]: kustomization('v1.3.0') },
    });
    await assert.rejects(merge(pr.headSha), {
      code: 'github_invalid',
      retryable: false,
      message: /not mergeable/,
    });
  });

  it('counts every request by method and status', async () => {
    const base = await f.repo.readFile(FILE);
    await f.repo.proposeChange(changeRequest(base));
    // GET: the ref and the file (readFile); no look for a PR on a branch created just now
    assert.deepEqual(Object.fromEntries([...f.counts].sort()), {
      'GET 200': 2,
      'POST 200': 1,
      'POST 201': 3,
      'PUT 200': 1,
    });
  });

  it('calls the emulator does not implement fail the test', async () => {
    const octokit = createOctokit({
      baseUrl: f.emulator.url,
      auth: { token: 'test-token' },
      retries: 0,
      spaceWrites: false,
    });
    await assert.rejects(octokit.rest.repos.get({ owner: 'acme', repo: 'gitops' }), { status: 404 });
    assert.throws(() => f.emulator.assertNoUnknownRequests(), /GET \/repos\/acme\/gitops → 404/);
    f.emulator.unknownRequests.length = 0;
  });
});

describe('GitHub client: retries, rate limits, app auth', () => {
  it('retries a 5xx, and a secondary rate limit, then succeeds; counts each attempt', async () => {
    const f = await startFixture({ retries: 2 });
    try {
      f.emulator.failNext({ method: 'GET', pathPattern: '/git/ref/', status: 502 });
      f.emulator.failNext({
        method: 'GET',
        pathPattern: '/contents/',
        status: 403,
        body: {
          message:
            'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.',
        },
        headers: { 'retry-after': '1' },
      });
      const head = await f.repo.readFile(FILE);
      assert.equal(head.content, kustomization('v1.2.0'));
      assert.deepEqual(Object.fromEntries([...f.counts].sort()), {
        'GET 200': 2,
        'GET 403': 1,
        'GET 502': 1,
      });
      assert.match(f.warnings.join('\n'), /GitHub rate limit hit.*secondary/);
    } finally {
      await f.close();
    }
  });

  it('a rate limit that outlasts the retries is retryable github_unavailable, not github_auth', async () => {
    const f = await startFixture();
    try {
      const reset = String(Math.floor(Date.now() / 1000));
      f.emulator.failNext({
        pathPattern: '/git/ref/',
        status: 403,
        times: 3,
        body: { message: 'API rate limit exceeded for installation ID 1.' },
        headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': reset },
      });
      await assert.rejects(f.repo.readFile(FILE), {
        code: 'github_unavailable',
        retryable: true,
        message: /rate limit/,
      });
      assert.equal(f.counts.get('GET 403'), 3, 'one try and two rate-limit retries');
    } finally {
      await f.close();
    }
  });

  it('GitHub App auth exchanges a JWT for an installation token', async () => {
    const emulator = await startGitHubEmulator({ app: { appId: 42, installationId: 7 } });
    try {
      emulator.seedRepo({
        owner: 'acme',
        repo: 'gitops',
        commits: [{ message: 'init', files: { [PATH]: kustomization('v1') } }],
      });
      const { privateKey } = generateKeyPairSync('rsa', {
        modulusLength: 2048,
        privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
        publicKeyEncoding: { type: 'spki', format: 'pem' },
      });
      const octokit = createOctokit({
        baseUrl: emulator.url,
        auth: { appId: 42, privateKey, installationId: 7 },
        retries: 0,
        spaceWrites: false,
      });
      const head = await createGitHubRepository({ octokit }).readFile(FILE);
      assert.equal(head.content, kustomization('v1'));
      assert.equal(emulator.requests[0]?.path, '/app/installations/7/access_tokens');
      emulator.assertNoUnknownRequests();
    } finally {
      await emulator.close();
    }
  });
});
