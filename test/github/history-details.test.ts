import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FileCommit } from '../../src/core/types.ts';
import { FILE, changeRequest, startFixture, type Fixture } from './fixture.ts';

describe('fileHistory details for the pull request body', () => {
  let f: Fixture;
  before(async () => {
    f = await startFixture();
  });
  after(async () => {
    try {
      f.emulator.assertNoUnknownRequests();
    } finally {
      await f.close();
    }
  });

  it('each commit carries its web URL, its author (with login when GitHub knows one) and the PR that merged it', async () => {
    const base = await f.repo.readFile(FILE);
    const pr = await f.repo.proposeChange(changeRequest(base));
    const merged = await f.repo.mergePullRequest({
      repo: FILE,
      number: pr.number,
      headSha: pr.headSha,
      commitTitle: 'fix(prod): roll back checkout-prod to v1.1.0',
      commitMessage: 'Rewind-Remediation: r1\nRewind-Rolled-Back-From: v1.2.0',
    });
    const commits: FileCommit[] = [];
    for await (const c of f.repo.fileHistory(FILE)) commits.push(c);
    const [rollback, release] = commits;
    assert.equal(rollback?.sha, merged.sha);
    assert.equal(rollback?.url, `${f.emulator.url}/acme/gitops/commit/${merged.sha}`);
    assert.deepEqual(rollback?.pullRequest, {
      number: pr.number,
      url: `${f.emulator.url}/acme/gitops/pull/${pr.number}`,
    });
    assert.deepEqual(rollback?.author, { name: 'rewind-bot', login: 'rewind-bot' });
    // seeded by hand: an author without a GitHub account, pushed without a pull request
    assert.deepEqual(release?.author, { name: 'Seed Author' });
    assert.equal(release?.pullRequest, undefined);
    assert.match(release?.url ?? '', /\/acme\/gitops\/commit\/[0-9a-f]{40}$/);
  });
});
