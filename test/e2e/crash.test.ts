import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { RemediationEvent } from '../../src/notify/slack.ts';
import { startRole } from '../../src/server.ts';
import { startGitHubEmulator, type GitHubEmulator } from '../support/github-emulator.ts';
import { SAMPLE_PATH, kustomization, seedSampleRepo } from '../support/gitops-sample.ts';
import { sampleJson } from '../support/fixtures.ts';
import { post } from '../support/app.ts';
import { startStack } from '../support/stack.ts';
import { spawnWorker, startSurvivor } from '../support/worker-child.ts';

const RELEASED = new Date('2026-11-26T00:10:00Z');
const NOW = '2026-11-26T00:40:00.000Z';
const clock = { now: () => new Date(NOW) };

type Stack = Awaited<ReturnType<typeof startStack>>;

async function until(what: string, ok: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('a worker process killed with SIGKILL mid-remediation (real child process)', () => {
  let gh: GitHubEmulator;
  let stack: Stack | undefined;
  let child: ChildProcess | undefined;
  let survivor: Awaited<ReturnType<typeof startRole>> | undefined;

  beforeEach(async () => {
    gh = await startGitHubEmulator();
    seedSampleRepo(gh, RELEASED);
  });
  afterEach(async () => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await survivor?.close();
    survivor = undefined;
    await stack?.stop();
    stack = undefined;
    await gh.close();
    gh.assertNoUnknownRequests();
  });

  for (const moment of [
    {
      name: 'while GitHub merges (the merge happens, the answer goes nowhere)',
      method: 'PUT',
      pathPattern: /\/merge$/,
    },
    { name: 'while GitHub opens the PR', method: 'POST', pathPattern: /\/pulls$/ },
  ]) {
    test(`killed ${moment.name}: another worker resumes; merged once, one PR, record = Git`, async () => {
      const s = (stack = await startStack({ githubUrl: gh.url, clock, role: 'api' }));
      const w = spawnWorker(s, gh, { now: NOW });
      child = w.child;
      const exited = new Promise((r) => w.child.once('exit', r));
      await until('the child worker', () => w.output().includes('WORKER READY'), 90_000);
      gh.beforeNext({
        method: moment.method,
        pathPattern: moment.pathPattern,
        run: () => w.child.kill('SIGKILL'),
      });
      const res = await post(s.app, sampleJson('a-firing-single.json'));
      assert.equal(res.statusCode, 202);
      const id = (res.json().remediations as Array<{ id: string }>)[0]?.id;
      assert.ok(id);
      await exited;
      assert.equal(w.child.signalCode, 'SIGKILL');
      assert.equal((await s.runtime.store.get(id))?.state, 'deciding', 'killed mid-remediation');

      const events: RemediationEvent[] = [];
      survivor = await startSurvivor(s, events, { clock, lockDurationMs: 1_000, stalledIntervalMs: 500 });
      const rec = await s.waitFor(id, 'merged', 30_000);
      const pulls = gh.pulls('acme', 'gitops');
      assert.equal(pulls.length, 1);
      assert.equal(pulls[0]?.merged, true);
      assert.equal(rec.pullRequest?.number, pulls[0]?.number);
      assert.equal(rec.mergeCommit, pulls[0]?.mergeCommitSha);
      assert.deepEqual(rec.change && [rec.change.from, rec.change.to], ['v1.2.0', 'v1.1.0']);
      assert.equal(gh.getFile('acme', 'gitops', 'main', SAMPLE_PATH), kustomization('v1.1.0'));
      assert.equal(
        gh.listCommits('acme', 'gitops', 'main').filter((c) => /^fix\(prod\): roll back/.test(c.message))
          .length,
        1,
      );
      await until('the Slack message', () => events.length > 0, 5_000);
      assert.deepEqual(
        [...events.map((e) => e.kind), ...(w.output().match(/^EVENT /gm) ?? [])],
        ['merged'],
        'one Slack message in all',
      );
    });
  }
});
