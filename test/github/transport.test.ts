import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { RewindError } from '../../src/core/errors.ts';
import { createOctokit, type GitHubMetrics } from '../../src/github/index.ts';
import { call, toRewindError } from '../../src/github/errors.ts';
import { startGitHubEmulator } from '../support/github-emulator.ts';
import { freePort } from '../support/net.ts';

function counting(): { metrics: GitHubMetrics; statuses: string[] } {
  const statuses: string[] = [];
  return { statuses, metrics: { githubRequests: { inc: (l) => void statuses.push(l.status) } } };
}

describe('GitHub transport failures and GraphQL errors', () => {
  it('a request that times out is counted as status="timeout" (not 500) and is a retryable failure saying so', async () => {
    // a server that accepts the request and never answers
    const held: Array<() => void> = [];
    const server: Server = createServer((_req, res) => void held.push(() => res.destroy()));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const { metrics, statuses } = counting();
      const octokit = createOctokit({
        baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        auth: { token: 't' },
        retries: 0,
        timeoutMs: 300,
        spaceWrites: false,
        metrics,
      });
      const err = await call('read file', () =>
        octokit.rest.repos.get({ owner: 'acme', repo: 'gitops' }),
      ).then(
        () => assert.fail('answered'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof RewindError);
      assert.equal(err.code, 'github_unavailable');
      assert.equal(err.retryable, true);
      assert.match(err.message, /timed out/);
      assert.deepEqual(statuses, ['timeout']);
    } finally {
      held.forEach((f) => f());
      server.close();
    }
  });

  it('a connection refused is counted as status="network"', async () => {
    const { metrics, statuses } = counting();
    const octokit = createOctokit({
      baseUrl: `http://127.0.0.1:${await freePort()}`,
      auth: { token: 't' },
      retries: 0,
      spaceWrites: false,
      metrics,
    });
    await assert.rejects(octokit.rest.repos.get({ owner: 'acme', repo: 'gitops' }));
    assert.deepEqual(statuses, ['network']);
  });

  it("a GraphQL error without a type (GitHub's query timeout) is retryable; a typed one is not", async () => {
    const gh = await startGitHubEmulator();
    try {
      const octokit = createOctokit({
        baseUrl: gh.url,
        auth: { token: 'test-token' },
        retries: 0,
        spaceWrites: false,
      });
      const query = 'query Probe { viewer { login } }';
      gh.failNext({
        method: 'POST',
        pathPattern: '/graphql',
        status: 200,
        body: {
          data: null,
          // GitHub's answer when a query runs out of time (no `type`); the retry plugin already
          // turns the "Something went wrong while executing your query" variant into a 500
          errors: [{ message: 'timedout' }],
        },
      });
      const timeout = toRewindError(
        await octokit.graphql(query).then(
          () => assert.fail('answered'),
          (e: unknown) => e,
        ),
        'history',
      );
      assert.equal(timeout.code, 'github_unavailable');
      assert.equal(timeout.retryable, true);

      gh.failNext({
        method: 'POST',
        pathPattern: '/graphql',
        status: 200,
        body: { data: null, errors: [{ type: 'INVALID_CURSOR_ARGUMENTS', message: 'bad cursor' }] },
      });
      const invalid = toRewindError(
        await octokit.graphql(query).then(
          () => assert.fail('answered'),
          (e: unknown) => e,
        ),
        'history',
      );
      assert.equal(invalid.code, 'github_invalid');
      assert.equal(invalid.retryable, false);
    } finally {
      await gh.close();
    }
  });
});
