import assert from 'node:assert/strict';
import { pino } from 'pino';
import { after, afterEach, before, describe, test } from 'node:test';
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

type Stack = Awaited<ReturnType<typeof startStack>>;

/** The sample firing alert with its own fingerprint and start: a distinct incident for the same target. */
function firingAlert(i: number): Record<string, unknown> {
  const a = structuredClone(sampleJson('a-firing-single.json').alerts[0]) as Record<string, unknown>;
  a.fingerprint = `f00d${i.toString(16).padStart(12, '0')}`;
  a.startsAt = new Date(Date.parse('2026-11-26T00:32:08.699Z') + i * 1000).toISOString();
  return a;
}

function notification(alerts: Record<string, unknown>[]) {
  return { ...sampleJson('a-firing-single.json'), alerts };
}

/** A worker replica on the API's Redis prefix, started once the storm is stored (the API stack has none). */
async function startWorkerReplica(stack: Stack, events: RemediationEvent[]) {
  return startRole('worker', stack.config, {
    clock,
    logger: pino({ level: 'silent' }) as unknown as Logger,
    notifier: { notify: async (e) => void events.push(e) },
    octokit: { spaceWrites: false, retries: 0, retryAfterBaseMs: 1 },
    backoffBaseMs: 20,
    httpLogger: false,
  });
}

async function allJobs(stack: Stack) {
  return stack.runtime.queue.queue.getJobs([
    'waiting',
    'active',
    'delayed',
    'completed',
    'failed',
    'prioritized',
    'waiting-children',
  ]);
}

function rollbackCommits(gh: GitHubEmulator) {
  return gh
    .listCommits('acme', 'gitops', 'main')
    .filter((c) => c.message.startsWith('fix(prod): roll back checkout-prod'));
}

describe('alert storms, end to end (emulator, real Redis, compiled policy)', () => {
  let gh: GitHubEmulator;
  let stack: Stack | undefined;
  let worker: Awaited<ReturnType<typeof startWorkerReplica>> | undefined;

  before(async () => {
    gh = await startGitHubEmulator();
  });
  afterEach(async () => {
    await worker?.close();
    worker = undefined;
    await stack?.stop();
    stack = undefined;
    gh.assertNoUnknownRequests();
  });
  after(async () => gh.close());

  test('200 concurrent posts of the same firing alert while the worker runs: one remediation, one job, one PR, one rollback commit', async () => {
    seedSampleRepo(gh, RELEASED);
    const s = (stack = await startStack({ githubUrl: gh.url, clock }));
    const body = JSON.stringify(sampleJson('a-firing-single.json'));

    const replies = await Promise.all(Array.from({ length: 200 }, () => post(s.app, body)));
    assert.deepEqual([...new Set(replies.map((r) => r.statusCode))], [202]);
    const ids = new Set(replies.map((r) => (r.json().remediations as Array<{ id: string }>)[0]?.id));
    assert.equal(ids.size, 1, `remediation ids: ${[...ids].join(', ')}`);
    const [id] = [...ids];
    assert.ok(id);

    const rec = await s.settled(id);
    assert.equal(rec.state, 'merged', `${rec.reason ?? ''} ${rec.error ?? ''}`);
    assert.equal(rec.alerts.length, 1);
    assert.equal(rec.seenAgain, 199);
    const records = await s.runtime.store.list({ limit: 50 });
    assert.deepEqual(
      records.map((r) => r.id),
      [id],
    );

    const jobs = await allJobs(s);
    // the remediation's job, and the heal check the merge scheduled (delayed)
    assert.deepEqual(jobs.map((j) => [j.data.kind, j.data.remediationId]).sort(), [
      ['heal_check', id],
      ['remediate', id],
    ]);
    assert.equal(gh.pulls('acme', 'gitops').length, 1);
    assert.equal(rollbackCommits(gh).length, 1);
    assert.equal(gh.getFile('acme', 'gitops', 'main', SAMPLE_PATH), kustomization('v1.1.0'));
    assert.deepEqual(
      s.events.map((e) => e.kind),
      ['merged'],
    );

    // Alertmanager keeps repeating the incident after it was handled: still nothing new.
    const late = await Promise.all(Array.from({ length: 20 }, () => post(s.app, body)));
    assert.deepEqual(
      [...new Set(late.map((r) => (r.json().remediations as Array<{ id: string }>)[0]?.id))],
      [id],
    );
    assert.equal((await allJobs(s)).length, 2);
    assert.equal(gh.pulls('acme', 'gitops').length, 1);
    assert.equal(s.events.length, 1);
  });

  test('a storm of distinct alerts for one target, in one notification and across concurrent posts: one remediation holding them all, one PR', async () => {
    seedSampleRepo(gh, RELEASED);
    // API replica only: every alert is stored before a worker picks the job up.
    const s = (stack = await startStack({ githubUrl: gh.url, clock, role: 'api' }));

    const grouped = Array.from({ length: 20 }, (_, i) => firingAlert(i));
    const first = await post(s.app, notification(grouped));
    assert.equal(first.statusCode, 202);
    assert.equal(first.json().accepted, 20);
    assert.equal(first.json().remediations.length, 1);
    const id = first.json().remediations[0].id as string;

    const separate = Array.from({ length: 100 }, (_, i) => firingAlert(100 + i));
    const replies = await Promise.all(separate.map((a) => post(s.app, notification([a]))));
    assert.deepEqual([...new Set(replies.map((r) => r.statusCode))], [202]);
    assert.deepEqual([...new Set(replies.map((r) => r.json().remediations[0].id as string))], [id]);

    const queued = await s.runtime.store.get(id);
    assert.equal(queued?.state, 'queued');
    // A record keeps 100 alerts (the notification's 20 first) and counts the rest.
    const all = new Set([...grouped, ...separate].map((a) => a.fingerprint));
    assert.ok(queued?.alerts.every((a) => all.has(a.fingerprint)));
    assert.deepEqual(
      queued?.alerts.slice(0, 20).map((a) => a.fingerprint),
      grouped.map((a) => a.fingerprint),
    );
    assert.equal(new Set(queued?.alerts.map((a) => a.fingerprint)).size, 100);
    assert.equal(queued?.alertsDropped, 20);
    assert.equal((await s.runtime.store.list({ limit: 50 })).length, 1);
    assert.equal((await allJobs(s)).length, 1);

    const events: RemediationEvent[] = [];
    worker = await startWorkerReplica(s, events);
    const rec = await s.settled(id);
    assert.equal(rec.state, 'merged', `${rec.reason ?? ''} ${rec.error ?? ''}`);
    assert.equal(rec.alerts.length + rec.alertsDropped, 120);
    const pulls = gh.pulls('acme', 'gitops');
    assert.equal(pulls.length, 1);
    assert.equal(rec.pullRequest?.number, pulls[0]?.number);
    const commits = rollbackCommits(gh);
    assert.equal(commits.length, 1);
    // The commit speaks for the whole incident, not only the alert that opened it.
    assert.match(commits[0]?.message ?? '', /\(\+119 more alerts\)/);
    assert.deepEqual(
      events.map((e) => e.kind),
      ['merged'],
    );
    const jobs = await allJobs(s);
    // the remediation's job, and the heal check the merge scheduled (delayed)
    assert.deepEqual(jobs.map((j) => [j.data.kind, j.data.remediationId]).sort(), [
      ['heal_check', id],
      ['remediate', id],
    ]);
  });
});
