/**
 * The history cache on a real Redis against the emulator: a cold walk reads
 * the branch, a warm one only the commits since, whatever the history's length.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Target } from '../../src/core/types.ts';
import { createGitHubRepository, createOctokit } from '../../src/github/index.ts';
import { createRedisHistoryCache } from '../../src/history/redis-cache.ts';
import { readHistory } from '../../src/remediation/decide.ts';
import { startGitHubEmulator, type GitHubEmulator } from '../support/github-emulator.ts';
import { SAMPLE_IMAGE, SAMPLE_PATH, kustomization } from '../support/gitops-sample.ts';
import { dropPrefix, testRedis, uniquePrefix } from '../support/redis.ts';

const target: Target = {
  name: 'checkout-prod',
  match: {},
  repo: 'acme/gitops',
  branch: 'main',
  path: SAMPLE_PATH,
  image: SAMPLE_IMAGE,
  environment: 'prod',
  reviewers: [],
};

describe('history cache (real Redis, emulator)', () => {
  let gh: GitHubEmulator;
  const redis = testRedis();
  const prefix = `{${uniquePrefix('hist')}}`;
  before(async () => {
    gh = await startGitHubEmulator();
    gh.seedRepo({
      owner: 'acme',
      repo: 'gitops',
      commits: Array.from({ length: 1000 }, (_, i) => ({
        message: `release ${i}`,
        files: { [SAMPLE_PATH]: kustomization(i === 999 ? 'v2' : i === 998 ? 'v1' : `v0.${i}`) },
      })),
    });
  });
  after(async () => {
    await dropPrefix(redis, prefix);
    redis.disconnect();
    await gh.close();
  });

  const deps = () => ({
    repo: createGitHubRepository({
      octokit: createOctokit({
        baseUrl: gh.url,
        auth: { token: 'test-token' },
        retries: 0,
        spaceWrites: false,
      }),
    }),
    historyCache: createRedisHistoryCache({ redis, prefix }),
  });
  const graphql = () => gh.requests.filter((r) => r.path === '/graphql').length;

  it('cold: the whole branch; warm: nothing more; after new commits: only those', async () => {
    gh.clearRequests();
    const cold = await readHistory(deps(), target);
    assert.deepEqual(cold.analysis.candidate?.to, { tag: 'v1' });
    assert.equal(cold.analysis.commitsRead, 1000);
    assert.equal(graphql(), 11, '1,000 commits in pages of 100, the last texts in one more');

    gh.clearRequests();
    const warm = await readHistory(deps(), target);
    // the release's links (PR body) come from the cache as well as from GitHub
    assert.match(cold.analysis.current.url ?? '', /\/acme\/gitops\/commit\/[0-9a-f]{40}$/);
    assert.deepEqual(warm.analysis, cold.analysis);
    assert.equal(graphql(), 0);

    // a rollback to v1 carrying its trailer, then v3: two new commits
    gh.commit({
      owner: 'acme',
      repo: 'gitops',
      branch: 'main',
      message:
        'fix(prod): roll back checkout-prod to v1\n\nRewind-Remediation: r1\nRewind-Rolled-Back-From: v2',
      files: { [SAMPLE_PATH]: kustomization('v1') },
    });
    gh.commit({
      owner: 'acme',
      repo: 'gitops',
      branch: 'main',
      message: 'v3',
      files: { [SAMPLE_PATH]: kustomization('v3') },
    });
    gh.clearRequests();
    const next = await readHistory(deps(), target);
    assert.equal(graphql(), 2, 'the new commits, then their texts');
    assert.deepEqual(next.analysis.candidate?.to, { tag: 'v1' });
    assert.equal(next.analysis.commitsRead, 1002);
    // the cached trailer still condemns v2 after the next release
    gh.commit({
      owner: 'acme',
      repo: 'gitops',
      branch: 'main',
      message: 'v2 again',
      files: { [SAMPLE_PATH]: kustomization('v2') },
    });
    gh.commit({
      owner: 'acme',
      repo: 'gitops',
      branch: 'main',
      message: 'v4',
      files: { [SAMPLE_PATH]: kustomization('v4') },
    });
    const later = await readHistory(deps(), target);
    assert.deepEqual(later.analysis.candidate?.to, { tag: 'v3' });
    const keys = await redis.keys(`${prefix}:history:*`);
    assert.ok(keys.length > 0 && keys.every((k) => k.startsWith(`${prefix}:history:`)));
  });

  it('a cache that fails costs requests, never the answer', async () => {
    const client = testRedis({ failFast: true });
    try {
      const broken = createRedisHistoryCache({ redis: client, prefix });
      const failing = {
        ...broken,
        get: () => Promise.reject(new Error('redis down')),
        heads: () => Promise.reject(new Error('redis down')),
      };
      const a = await readHistory({ ...deps(), historyCache: failing }, target);
      assert.deepEqual(a.analysis.candidate?.to, { tag: 'v3' });
    } finally {
      // an open connection would keep this test file's process alive forever
      client.disconnect();
    }
  });
});
