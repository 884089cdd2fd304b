import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { pino } from 'pino';
import type { RemediationEvent } from '../../src/notify/slack.ts';
import type { Logger } from '../../src/observability/logger.ts';
import { startRole } from '../../src/server.ts';
import { startGitHubEmulator, type GitHubEmulator } from '../support/github-emulator.ts';
import { SAMPLE_PATH, kustomization, seedSampleRepo } from '../support/gitops-sample.ts';
import { sampleJson } from '../support/fixtures.ts';
import { post } from '../support/app.ts';
import { startStack } from '../support/stack.ts';

const RELEASED = new Date('2026-11-26T00:10:00Z');
const clock = { now: () => new Date('2026-11-26T00:40:00Z') };
const BRANCH = 'rewind/checkout-prod/v1.1.0';

type Stack = Awaited<ReturnType<typeof startStack>>;

/** The sample alert (firing or its resolution) with the severity set on both, so they stay one incident. */
function payload(name: 'a-firing-single.json' | 'c-resolved-single.json', severity: string) {
  const p = sampleJson(name);
  const a = p.alerts[0] as { labels: Record<string, string> };
  a.labels = { ...a.labels, severity };
  p.commonLabels = { ...(p.commonLabels as Record<string, string>), severity };
  return p;
}

async function remediationId(stack: Stack, body: object): Promise<string> {
  const res = await post(stack.app, body);
  assert.equal(res.statusCode, 202, res.body);
  const [first] = res.json().remediations as Array<{ id: string }>;
  assert.ok(first, res.body);
  return first.id;
}

/** Waits until the resolution job of a remediation has run to completion. */
async function resolutionDone(stack: Stack, id: string): Promise<void> {
  assert.equal(await stack.jobFinished(`resolve-${id}`), 'completed');
}

describe('resolved alerts, end to end (emulator, real Redis, compiled policy)', () => {
  let gh: GitHubEmulator;
  let stack: Stack | undefined;
  let tmp: string;
  let worker: Awaited<ReturnType<typeof startRole>> | undefined;

  before(async () => {
    gh = await startGitHubEmulator();
    tmp = mkdtempSync(join(tmpdir(), 'rewind-resolve-'));
  });
  afterEach(async () => {
    await worker?.close();
    worker = undefined;
    await stack?.stop();
    stack = undefined;
    gh.assertNoUnknownRequests();
  });
  after(async () => {
    await gh.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  test('a PR opened for review is closed with a comment when its alert resolves; the branch is deleted', async () => {
    seedSampleRepo(gh, RELEASED);
    const s = (stack = await startStack({ githubUrl: gh.url, clock }));
    const id = await remediationId(s, payload('a-firing-single.json', 'warning'));
    const opened = await s.settled(id);
    assert.equal(opened.state, 'pr_opened', `${opened.reason ?? ''} ${opened.error ?? ''}`);
    assert.ok(gh.branches('acme', 'gitops').includes(BRANCH));

    const res = await post(s.app, payload('c-resolved-single.json', 'warning'));
    assert.equal(res.statusCode, 202);
    assert.deepEqual(res.json().remediations, [{ id, target: 'checkout-prod' }]);
    await resolutionDone(s, id);
    const rec = await s.waitFor(id, 'closed', 0);
    assert.equal(rec.steps.resolved !== undefined, true);
    assert.ok(rec.steps.closed);

    const [pr] = gh.pulls('acme', 'gitops');
    assert.ok(pr);
    assert.equal(pr.number, opened.pullRequest?.number);
    assert.equal(pr.state, 'closed');
    assert.equal(pr.merged, false);
    assert.equal(pr.comments.length, 1);
    assert.match(
      pr.comments[0] ?? '',
      new RegExp(`remediation \`${id}\` resolved at 2026-11-26T00:32:11\\.947Z`),
    );
    assert.ok(!gh.branches('acme', 'gitops').includes(BRANCH), 'head branch deleted');
    assert.equal(gh.getFile('acme', 'gitops', 'main', SAMPLE_PATH), kustomization('v1.2.0'));
    assert.deepEqual(
      s.events.map((e) => [e.kind, e.remediationId]),
      [
        ['pr_opened', id],
        ['closed', id],
      ],
    );
    const metrics = (await s.app.inject({ method: 'GET', url: '/metrics' })).body;
    assert.match(metrics, /rewind_remediations_total\{target="checkout-prod",outcome="closed"\} 1/);

    // Alertmanager repeats the resolution: nothing more happens.
    const requests = gh.requests.length;
    await post(s.app, payload('c-resolved-single.json', 'warning'));
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(gh.requests.length, requests);
    assert.equal(s.events.length, 2);
  });

  test('with closeOnResolve false in the policy data, the PR stays open', async () => {
    const data = JSON.parse(readFileSync('policies/data.json', 'utf8')) as {
      rewind: Record<string, unknown>;
    };
    data.rewind.closeOnResolve = false;
    const dataFile = join(tmp, 'data.json');
    writeFileSync(dataFile, JSON.stringify(data));
    seedSampleRepo(gh, RELEASED);
    const s = (stack = await startStack({ githubUrl: gh.url, clock, policyData: dataFile }));
    const id = await remediationId(s, payload('a-firing-single.json', 'warning'));
    assert.equal((await s.settled(id)).state, 'pr_opened');

    await post(s.app, payload('c-resolved-single.json', 'warning'));
    await resolutionDone(s, id);
    const rec = await s.runtime.store.get(id);
    assert.equal(rec?.state, 'pr_opened');
    assert.ok(rec?.steps.resolved, 'the resolution is recorded');
    const [pr] = gh.pulls('acme', 'gitops');
    assert.equal(pr?.state, 'open');
    assert.deepEqual(pr?.comments, []);
    assert.ok(gh.branches('acme', 'gitops').includes(BRANCH));
    assert.deepEqual(
      s.events.map((e) => e.kind),
      ['pr_opened'],
    );
  });

  test('closeOnResolve false stays in force when an edit breaks the policy data (the reload keeps the loaded data)', async () => {
    const data = JSON.parse(readFileSync('policies/data.json', 'utf8')) as {
      rewind: Record<string, unknown>;
    };
    data.rewind.closeOnResolve = false;
    const dataFile = join(tmp, 'data-broken-later.json');
    writeFileSync(dataFile, JSON.stringify(data));
    seedSampleRepo(gh, RELEASED);
    const s = (stack = await startStack({ githubUrl: gh.url, clock, policyData: dataFile }));
    const id = await remediationId(s, payload('a-firing-single.json', 'warning'));
    assert.equal((await s.settled(id)).state, 'pr_opened');

    writeFileSync(dataFile, JSON.stringify(data).slice(0, -10)); // a half-saved edit
    assert.equal(await s.runtime.policy.reload(), false, 'the broken file is refused');

    await post(s.app, payload('c-resolved-single.json', 'warning'));
    await resolutionDone(s, id);
    assert.equal((await s.runtime.store.get(id))?.state, 'pr_opened');
    assert.equal(gh.pulls('acme', 'gitops')[0]?.state, 'open');
  });

  test('after a merged rollback, the resolution records the time to recovery and observes the metric', async () => {
    seedSampleRepo(gh, RELEASED);
    const s = (stack = await startStack({ githubUrl: gh.url, clock }));
    const id = await remediationId(s, payload('a-firing-single.json', 'critical'));
    assert.equal((await s.settled(id)).state, 'merged');

    await post(s.app, payload('c-resolved-single.json', 'critical'));
    await resolutionDone(s, id);
    const rec = await s.runtime.store.get(id);
    assert.equal(rec?.state, 'merged');
    // endsAt 00:32:11.947 − startsAt 00:32:08.699
    assert.equal(rec?.timeToRecoverySeconds, 3.248);
    assert.equal(rec?.steps.recovered, '2026-11-26T00:32:11.947Z');
    const api = await s.app.inject({
      method: 'GET',
      url: `/v1/remediations/${id}`,
      headers: { authorization: `Bearer ${s.config.server.webhookToken ?? ''}` },
    });
    assert.equal(api.json().timeToRecoverySeconds, 3.248);

    const metrics = (await s.app.inject({ method: 'GET', url: '/metrics' })).body;
    assert.match(metrics, /^rewind_time_to_recovery_seconds_count 1$/m);
    assert.match(metrics, /^rewind_time_to_recovery_seconds_sum 3\.248$/m);
    // A merged PR is never closed again, and nothing more is notified.
    assert.equal(gh.pulls('acme', 'gitops')[0]?.merged, true);
    assert.deepEqual(
      s.events.map((e) => e.kind),
      ['merged'],
    );
  });

  test('every alert resolved before the worker ran: no rollback at all (noop with the reason)', async () => {
    seedSampleRepo(gh, RELEASED);
    const s = (stack = await startStack({ githubUrl: gh.url, clock, role: 'api' }));
    const id = await remediationId(s, payload('a-firing-single.json', 'critical'));
    await post(s.app, payload('c-resolved-single.json', 'critical'));
    assert.equal((await s.runtime.store.get(id))?.state, 'queued');

    const events: RemediationEvent[] = [];
    worker = await startRole('worker', s.config, {
      clock,
      logger: pino({ level: 'silent' }) as unknown as Logger,
      notifier: { notify: async (e) => void events.push(e) },
      octokit: { spaceWrites: false, retries: 0, retryAfterBaseMs: 1 },
      backoffBaseMs: 20,
      httpLogger: false,
    });
    const rec = await s.settled(id);
    assert.equal(rec.state, 'noop');
    assert.match(
      rec.reason ?? '',
      /^every alert resolved \(at 2026-11-26T00:32:\d\d\.\d+Z\) before the rollback started$/,
    );
    assert.equal(rec.pullRequest, null);
    assert.deepEqual(gh.pulls('acme', 'gitops'), []);
    assert.deepEqual(gh.branches('acme', 'gitops'), ['main']);
    assert.deepEqual(events, []);
  });

  test('a resolution that arrives while the rollback is being written closes the PR once it is open', async () => {
    seedSampleRepo(gh, RELEASED);
    const s = (stack = await startStack({ githubUrl: gh.url, clock }));
    let resolution: Promise<unknown> | undefined;
    // The alert resolves while the worker is creating the PR: the resolution job finds the
    // remediation still processing, and the remediation hands the resolution over when it ends.
    gh.beforeNext({
      method: 'POST',
      pathPattern: /\/pulls$/,
      run: () => {
        resolution = post(s.app, payload('c-resolved-single.json', 'warning'));
      },
    });
    const id = await remediationId(s, payload('a-firing-single.json', 'warning'));
    const rec = await s.waitFor(id, 'closed');
    assert.ok(resolution);
    assert.equal(((await resolution) as { statusCode: number }).statusCode, 202);
    assert.equal(rec.pullRequest?.number, 1);
    const pulls = gh.pulls('acme', 'gitops');
    assert.equal(pulls.length, 1);
    assert.equal(pulls[0]?.state, 'closed');
    assert.equal(pulls[0]?.comments.length, 1, 'closed exactly once');
    await s.jobFinished(`resolve-${id}-after-remediation`);
    assert.deepEqual(
      s.events.map((e) => e.kind),
      ['pr_opened', 'closed'],
    );
  });
});
