import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RewindError } from '../../src/core/errors.ts';
import { createOctokit, createGitHubRepository } from '../../src/github/index.ts';
import { FILE, startFixture } from './fixture.ts';

async function failure(p: Promise<unknown>): Promise<RewindError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof RewindError, String(err));
    return err;
  }
  assert.fail('the call succeeded');
}

describe('GitHub rate limits that outlast the in-process retries', () => {
  it('a secondary rate limit with retry-after over the in-process limit: retryable, carries the wait, says so', async () => {
    const f = await startFixture();
    try {
      f.emulator.secondaryRateLimitNext({ method: 'GET', pathPattern: '/git/ref/', retryAfterSeconds: 120 });
      const err = await failure(f.repo.readFile(FILE));
      assert.equal(err.code, 'github_unavailable');
      assert.equal(err.retryable, true);
      assert.equal(err.retryAfterMs, 120_000);
      assert.match(err.message, /secondary rate limit/);
      assert.match(err.message, /GitHub asks to wait 120 s; the next attempt waits until then/);
      assert.equal(f.counts.get('GET 403'), 1, "no in-process retry inside GitHub's window");
    } finally {
      await f.close();
    }
  });

  it('a secondary rate limit without retry-after waits a minute (GitHub: at least one minute)', async () => {
    const f = await startFixture();
    try {
      f.emulator.secondaryRateLimitNext({ method: 'GET', pathPattern: '/git/ref/', times: 3 });
      const err = await failure(f.repo.readFile(FILE));
      assert.equal(err.retryAfterMs, 60_000);
    } finally {
      await f.close();
    }
  });

  it('an exhausted primary quota waits until x-ratelimit-reset', async () => {
    const f = await startFixture();
    try {
      const reset = Math.floor(Date.now() / 1000) + 900;
      f.emulator.failNext({
        pathPattern: '/git/ref/',
        status: 403,
        body: { message: 'API rate limit exceeded for installation ID 1.' },
        headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(reset) },
      });
      const err = await failure(f.repo.readFile(FILE));
      assert.ok(err.retryAfterMs !== undefined);
      const until = Date.now() + err.retryAfterMs;
      assert.ok(
        Math.abs(until - (reset + 1) * 1000) < 10_000,
        `waits until the reset, got ${err.retryAfterMs} ms`,
      );
    } finally {
      await f.close();
    }
  });

  it('every rate-limited answer is counted by kind', async () => {
    const f = await startFixture();
    try {
      const counted: string[] = [];
      const octokit = createOctokit({
        baseUrl: f.emulator.url,
        auth: { token: 'test-token' },
        retries: 0,
        retryAfterBaseMs: 1,
        spaceWrites: false,
        metrics: {
          githubRequests: { inc: () => {} },
          githubRateLimits: { inc: (l: { kind: string }) => void counted.push(l.kind) },
        },
      });
      const repo = createGitHubRepository({ octokit });
      f.emulator.secondaryRateLimitNext({ method: 'GET', pathPattern: '/git/ref/', retryAfterSeconds: 1 });
      await repo.readFile(FILE);
      f.emulator.secondaryRateLimitNext({ method: 'GET', pathPattern: '/git/ref/', retryAfterSeconds: 300 });
      await assert.rejects(repo.readFile(FILE));
      assert.deepEqual(counted, ['secondary', 'secondary']);
    } finally {
      await f.close();
    }
  });
});
