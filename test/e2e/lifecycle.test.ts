import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { pino } from 'pino';
import type { RemediationEvent } from '../../src/notify/slack.ts';
import type { Logger } from '../../src/observability/logger.ts';
import { startRole } from '../../src/server.ts';
import { startGitHubEmulator, type GitHubEmulator } from '../support/github-emulator.ts';
import { SAMPLE_PATH, kustomization, seedSampleRepo } from '../support/gitops-sample.ts';
import { sampleJson } from '../support/fixtures.ts';
import { TOKEN, post } from '../support/app.ts';
import { REDIS_URL } from '../support/redis.ts';
import { main } from '../../src/main.ts';
import { CHECKOUT_TARGET, configYaml, startStack } from '../support/stack.ts';

const RELEASED = new Date('2026-11-26T00:10:00Z');
const clock = { now: () => new Date('2026-11-26T00:40:00Z') };
const BRANCH = 'rewind/checkout-prod/v1.1.0';

type Stack = Awaited<ReturnType<typeof startStack>>;

/** The sample alert (firing or resolved), one incident per `startsAt`. */
function alert(
  name: 'a-firing-single.json' | 'c-resolved-single.json',
  opts: { severity?: string; startsAt?: string; fingerprint?: string } = {},
) {
  const p = sampleJson(name);
  const a = p.alerts[0] as Record<string, unknown> & { labels: Record<string, string> };
  const severity = opts.severity ?? 'critical';
  a.labels = { ...a.labels, severity };
  p.commonLabels = { ...(p.commonLabels as Record<string, string>), severity };
  if (opts.startsAt) a.startsAt = opts.startsAt;
  if (opts.fingerprint) a.fingerprint = opts.fingerprint;
  return p;
}

async function postOk(stack: Stack, body: object): Promise<string[]> {
  const res = await post(stack.app, body);
  assert.equal(res.statusCode, 202, res.body);
  return (res.json().remediations as Array<{ id: string }>).map((r) => r.id);
}

function startWorker(stack: Stack, events: RemediationEvent[]) {
  return startRole('worker', stack.config, {
    clock,
    logger: pino({ level: 'silent' }) as unknown as Logger,
    notifier: { notify: async (e) => void events.push(e) },
    octokit: { spaceWrites: false, retries: 0, retryAfterBaseMs: 1 },
    backoffBaseMs: 20,
    httpLogger: false,
  });
}

describe('the remediation lifecycle, end to end (emulator, real Redis, compiled policy)', () => {
  let gh: GitHubEmulator;
  let stack: Stack | undefined;
  let worker: Awaited<ReturnType<typeof startRole>> | undefined;

  beforeEach(async () => {
    gh = await startGitHubEmulator();
    seedSampleRepo(gh, RELEASED);
  });
  afterEach(async () => {
    await worker?.close();
    worker = undefined;
    await stack?.stop();
    stack = undefined;
    await gh.close();
    gh.assertNoUnknownRequests();
  });

  test('defect 1: fire, resolve, fire again (new startsAt) before the worker runs: the new incident is remediated', async () => {
    const s = (stack = await startStack({ githubUrl: gh.url, clock, role: 'api' }));
    const [id] = await postOk(s, alert('a-firing-single.json'));
    assert.ok(id);
    await postOk(s, alert('c-resolved-single.json'));
    const refire = alert('a-firing-single.json', { startsAt: '2026-11-26T00:35:00.000Z' });
    assert.deepEqual(await postOk(s, refire), [id], 'the new incident joins the queued remediation');
    const events: RemediationEvent[] = [];
    worker = await startWorker(s, events);
    const rec = await s.settled(id);
    assert.equal(rec.state, 'merged', `${rec.reason ?? ''} ${rec.error ?? ''}`);
    assert.equal(gh.pulls('acme', 'gitops').length, 1);
    assert.equal(gh.getFile('acme', 'gitops', 'main', SAMPLE_PATH), kustomization('v1.1.0'));
    // Alertmanager repeats the new incident: seen again on the merged remediation, nothing more.
    assert.deepEqual(await postOk(s, refire), [id]);
    assert.equal((await s.runtime.store.get(id))?.seenAgain, 1);
    assert.deepEqual(
      events.map((e) => e.kind),
      ['merged'],
    );
  });

  test('defect 2: the merge response is lost (GitHub merged, then answered 502): recorded merged, not denied', async () => {
    gh.failNext({ method: 'PUT', pathPattern: '/pulls/1/merge', status: 502, after: true });
    const s = (stack = await startStack({ githubUrl: gh.url, clock }));
    const [id] = await postOk(s, alert('a-firing-single.json'));
    assert.ok(id);
    const rec = await s.settled(id);
    assert.equal(rec.state, 'merged', `${rec.reason ?? ''} ${rec.error ?? ''}`);
    assert.deepEqual(rec.change && [rec.change.from, rec.change.to], ['v1.2.0', 'v1.1.0']);
    const [pr] = gh.pulls('acme', 'gitops');
    assert.equal(pr?.merged, true);
    assert.equal(rec.mergeCommit, pr?.mergeCommitSha);
    assert.equal(gh.listCommits('acme', 'gitops', 'main')[0]?.sha, pr?.mergeCommitSha);
    assert.equal(
      gh.requests.filter((r) => r.method === 'PUT' && r.path.endsWith('/merge')).length,
      1,
      'asked GitHub instead of merging again',
    );
    assert.deepEqual(
      s.events.map((e) => e.kind),
      ['merged'],
    );
    assert.equal(rec.error, null);
  });

  test('defect 3: an open rewind PR on another branch is superseded (closed with a comment), not claimed', async () => {
    const stale = gh.openPullRequest({
      owner: 'acme',
      repo: 'gitops',
      head: 'rewind/checkout-prod/v1.0.0',
      title: 'fix(prod): roll back checkout-prod to v1.0.0',
      labels: ['rewind'],
      files: { [SAMPLE_PATH]: kustomization('v1.0.0') },
    });
    const s = (stack = await startStack({ githubUrl: gh.url, clock }));
    const [id] = await postOk(s, alert('a-firing-single.json'));
    assert.ok(id);
    const rec = await s.settled(id);
    assert.equal(rec.state, 'merged', `${rec.reason ?? ''} ${rec.error ?? ''}`);
    const pulls = gh.pulls('acme', 'gitops');
    const old = pulls.find((p) => p.number === stale);
    assert.equal(old?.state, 'closed');
    assert.equal(old?.merged, false);
    assert.match(old?.comments[0] ?? '', new RegExp(`Superseded by remediation \`${id}\``));
    const mine = pulls.find((p) => p.headRef === BRANCH);
    assert.ok(mine);
    assert.equal(rec.pullRequest?.number, mine.number);
    assert.deepEqual(rec.change && [rec.change.from, rec.change.to], ['v1.2.0', 'v1.1.0']);
    assert.equal(mine.merged, true);
    assert.equal(pulls.filter((p) => p.state === 'open').length, 0);
    assert.deepEqual(
      s.events.map((e) => e.kind),
      ['merged'],
    );
  });

  test('defect 4: required status checks refuse the merge (405): auto-merge is enabled, checks pass, GitHub merges: recorded merged', async () => {
    gh.protectBranch('acme', 'gitops', 'main', { requiredChecks: ['ci/test'] });
    gh.setAllowAutoMerge('acme', 'gitops', true);
    const s = (stack = await startStack({ githubUrl: gh.url, clock, watchIntervalMs: 50 }));
    const [id] = await postOk(s, alert('a-firing-single.json'));
    assert.ok(id);
    const armed = await s.settled(id);
    assert.equal(armed.state, 'auto_merge', `${armed.reason ?? ''} ${armed.error ?? ''}`);
    assert.match(armed.reason ?? '', /Required status check "ci\/test" is expected\..*auto-merge enabled/);
    const [pr] = gh.pulls('acme', 'gitops');
    assert.ok(pr);
    assert.equal(pr.state, 'open');
    assert.equal(gh.autoMergeEnabled('acme', 'gitops', pr.number), true);
    assert.equal(gh.getFile('acme', 'gitops', 'main', SAMPLE_PATH), kustomization('v1.2.0'));

    gh.completeChecks('acme', 'gitops', pr.number);
    const rec = await s.waitFor(id, 'merged');
    const merged = gh.pulls('acme', 'gitops')[0];
    assert.equal(merged?.merged, true);
    assert.equal(rec.mergeCommit, merged?.mergeCommitSha);
    assert.equal(gh.getFile('acme', 'gitops', 'main', SAMPLE_PATH), kustomization('v1.1.0'));
    // the squash commit GitHub made carries rewind's message and trailers
    assert.match(
      gh.listCommits('acme', 'gitops', 'main')[0]?.message ?? '',
      /Rewind-Rolled-Back-From: v1\.2\.0$/,
    );
    for (let i = 0; s.events.length < 2 && i < 200; i++) await new Promise((r) => setTimeout(r, 25));
    assert.deepEqual(
      s.events.map((e) => e.kind),
      ['auto_merge', 'merged'],
    );
  });

  test('defect 4: required checks on a repository where auto-merge is off: left open for review, said so', async () => {
    gh.protectBranch('acme', 'gitops', 'main', { requiredChecks: ['ci/test'] });
    const s = (stack = await startStack({ githubUrl: gh.url, clock }));
    const [id] = await postOk(s, alert('a-firing-single.json'));
    assert.ok(id);
    const rec = await s.settled(id);
    assert.equal(rec.state, 'pr_opened', `${rec.reason ?? ''} ${rec.error ?? ''}`);
    assert.match(
      rec.reason ?? '',
      /auto-merge unavailable \(Auto merge is not allowed for this repository\)/,
    );
    assert.equal(gh.pulls('acme', 'gitops')[0]?.state, 'open');
    assert.deepEqual(
      s.events.map((e) => [e.kind, e.reasons.some((r) => /Auto merge is not allowed/.test(r))]),
      [['pr_opened', true]],
    );
  });

  test('defect 6: still firing verifyAfter past the merge: one "did not heal" escalation, never a second rollback', async () => {
    const data = JSON.parse(readFileSync('policies/data.json', 'utf8')) as {
      rewind: Record<string, unknown>;
    };
    data.rewind.verifyAfter = '1s';
    const dir = mkdtempSync(join(tmpdir(), 'rewind-heal-'));
    const dataPath = join(dir, 'data.json');
    writeFileSync(dataPath, JSON.stringify(data));
    try {
      const s = (stack = await startStack({ githubUrl: gh.url, clock, policyData: dataPath }));
      const [id] = await postOk(s, alert('a-firing-single.json'));
      assert.ok(id);
      assert.equal((await s.settled(id)).state, 'merged');
      await s.jobFinished(`heal-check-${id}`);
      const rec = await s.runtime.store.get(id);
      assert.equal(rec?.notHealed, true);
      assert.ok(rec?.steps.not_healed);
      assert.equal(
        await s.runtime.store.notHealedSince('checkout-prod', new Date(clock.now().getTime() - 86_400_000)),
        1,
        'counted in the history the policy sees',
      );
      // Alertmanager repeats the incident: seen again, no second rollback, no second escalation
      assert.deepEqual(await postOk(s, alert('a-firing-single.json')), [id]);
      assert.equal(gh.pulls('acme', 'gitops').length, 1);
      assert.deepEqual(
        s.events.map((e) => e.kind),
        ['merged', 'not_healed'],
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('healed: resolved before verifyAfter, no escalation', async () => {
    const data = JSON.parse(readFileSync('policies/data.json', 'utf8')) as {
      rewind: Record<string, unknown>;
    };
    data.rewind.verifyAfter = '1s';
    const dir = mkdtempSync(join(tmpdir(), 'rewind-heal-'));
    const dataPath = join(dir, 'data.json');
    writeFileSync(dataPath, JSON.stringify(data));
    try {
      const s = (stack = await startStack({ githubUrl: gh.url, clock, policyData: dataPath }));
      const [id] = await postOk(s, alert('a-firing-single.json'));
      assert.ok(id);
      assert.equal((await s.settled(id)).state, 'merged');
      await postOk(s, alert('c-resolved-single.json'));
      await s.jobFinished(`heal-check-${id}`);
      const rec = await s.runtime.store.get(id);
      assert.equal(rec?.notHealed, false);
      assert.ok(rec?.steps.recovered);
      assert.deepEqual(
        s.events.map((e) => e.kind),
        ['merged'],
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('dead letter: failed after every attempt (merge answers 500): one Slack message, listed by state=failed; retried over HTTP and by the CLI, resuming with the same PR', async () => {
    gh.failNext({ method: 'PUT', pathPattern: '/pulls/1/merge', status: 500, times: 5 });
    const s = (stack = await startStack({ githubUrl: gh.url, clock }));
    const auth = { authorization: `Bearer ${TOKEN}` };
    const [id] = await postOk(s, alert('a-firing-single.json'));
    assert.ok(id);
    const failed = await s.settled(id, 20_000);
    assert.equal(failed.state, 'failed');
    assert.match(failed.error ?? '', /squash-merge #1 .* 500/);
    assert.equal(failed.pullRequest?.number, 1, 'the PR was checkpointed before the merge');
    const metrics = (await s.app.inject({ method: 'GET', url: '/metrics' })).body;
    assert.match(metrics, /rewind_remediations_total\{target="checkout-prod",outcome="failed"\} 1/);
    assert.deepEqual(
      s.events.map((e) => e.kind),
      ['failed'],
    );
    const dead = await s.app.inject({ url: '/v1/remediations?state=failed', headers: auth });
    assert.equal(dead.statusCode, 200);
    assert.deepEqual(
      (dead.json().remediations as Array<{ id: string }>).map((r) => r.id),
      [id],
    );
    const merged = await s.app.inject({ url: '/v1/remediations?state=merged', headers: auth });
    assert.deepEqual(merged.json().remediations, []);

    // not failed, unknown, no token
    const missing = await s.app.inject({
      method: 'POST',
      url: '/v1/remediations/rem_nope/retry',
      headers: auth,
    });
    assert.equal(missing.statusCode, 404);
    assert.equal(
      (await s.app.inject({ method: 'POST', url: `/v1/remediations/${id}/retry` })).statusCode,
      401,
    );

    const retry = await s.app.inject({ method: 'POST', url: `/v1/remediations/${id}/retry`, headers: auth });
    assert.equal(retry.statusCode, 202, retry.body);
    assert.deepEqual(retry.json(), { id, state: 'queued' });
    const rec = await s.waitFor(id, 'merged', 20_000);
    assert.equal(rec.error, null);
    assert.ok(rec.steps.retried);
    const pulls = gh.pulls('acme', 'gitops');
    assert.equal(pulls.length, 1, 'the retry resumed with the same PR');
    assert.equal(pulls[0]?.merged, true);
    assert.equal(
      (await s.app.inject({ url: '/v1/remediations?state=failed', headers: auth })).json().remediations
        .length,
      0,
    );
    const again = await s.app.inject({ method: 'POST', url: `/v1/remediations/${id}/retry`, headers: auth });
    assert.equal(again.statusCode, 409);
    assert.match(again.json().message, /is merged; only a failed remediation is retried/);
    for (let i = 0; s.events.length < 2 && i < 200; i++) await new Promise((r) => setTimeout(r, 25));
    assert.deepEqual(
      s.events.map((e) => e.kind),
      ['failed', 'merged'],
    );
    const docs = (await s.app.inject('/docs/json')).json();
    assert.deepEqual(Object.keys(docs.paths['/v1/remediations/{id}/retry'].post.responses).sort(), [
      '202',
      '400',
      '401',
      '404',
      '409',
      '503',
    ]);
  });

  test('rewind retry <id> queues a failed remediation again (CLI against Redis)', async () => {
    gh.failNext({ method: 'POST', pathPattern: /\/pulls$/, status: 500, times: 5 });
    const s = (stack = await startStack({ githubUrl: gh.url, clock }));
    const [id] = await postOk(s, alert('a-firing-single.json'));
    assert.ok(id);
    assert.equal((await s.settled(id, 20_000)).state, 'failed');
    const dir = mkdtempSync(join(tmpdir(), 'rewind-retry-'));
    const file = join(dir, 'rewind.yaml');
    writeFileSync(file, configYaml({ prefix: s.prefix, targets: CHECKOUT_TARGET }));
    const out: string[] = [];
    const log = console.log;
    const error = console.error;
    console.log = (m: string) => void out.push(m);
    console.error = (m: string) => void out.push(m);
    try {
      await main(['retry', id, '--config', file], {
        REDIS_URL,
        GITHUB_TOKEN: 'test-token',
        GITHUB_API_URL: gh.url,
      });
    } finally {
      console.log = log;
      console.error = error;
      rmSync(dir, { recursive: true, force: true });
    }
    assert.equal(process.exitCode ?? 0, 0, out.join('\n'));
    assert.match(out.join('\n'), /queued again/);
    const rec = await s.waitFor(id, 'merged', 20_000);
    assert.equal(rec.pullRequest?.number, 1);
    assert.equal(gh.pulls('acme', 'gitops').length, 1);
  });
});
