/**
 * The verify job resumes from what Argo CD says, not from memory: a sync
 * requested by a run that crashed before recording it is never requested again.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { pino } from 'pino';
import { createArgoCdClient } from '../../src/argocd/client.ts';
import { createAuditStore } from '../../src/audit/store.ts';
import { createVerdictIndex } from '../../src/audit/verdicts.ts';
import { PollLater } from '../../src/core/errors.ts';
import { buildTargetIndex } from '../../src/core/targets.ts';
import type { Alert } from '../../src/core/types.ts';
import type { RemediationEvent } from '../../src/notify/slack.ts';
import type { Logger } from '../../src/observability/logger.ts';
import { createMetrics } from '../../src/observability/metrics.ts';
import type { JobData } from '../../src/queue/queue.ts';
import { createVerifier } from '../../src/remediation/verify.ts';
import { startArgoCdEmulator, type ArgoCdEmulator } from '../support/argocd-emulator/index.ts';
import { startGitHubEmulator, type GitHubEmulator } from '../support/github-emulator.ts';
import { seedSampleRepo } from '../support/gitops-sample.ts';
import { sampleTarget } from '../support/fixtures.ts';
import { dropPrefix, testRedis, uniquePrefix } from '../support/redis.ts';

const redis = testRedis();
const prefix = uniquePrefix('verify');
let gh: GitHubEmulator;
let argo: ArgoCdEmulator;

before(async () => {
  gh = await startGitHubEmulator();
  argo = await startArgoCdEmulator({ github: gh, token: 't' });
});
after(async () => {
  await argo.close();
  await gh.close();
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

test('a restarted verify job finds the sync already under way and does not request it again', async () => {
  const { shas } = seedSampleRepo(gh, new Date());
  const merge = shas[shas.length - 1] ?? '';
  argo.addApp(
    {
      name: 'checkout-prod',
      repo: { owner: 'acme', name: 'gitops' },
      branch: 'main',
      path: 'apps',
      automated: false,
    },
    shas[0],
  );
  const store = createAuditStore({ redis, prefix });
  const target = { ...sampleTarget('checkout-prod'), argocd: { app: 'checkout-prod' } };
  const alert: Alert = {
    status: 'firing',
    labels: { alertname: 'HighErrorRate', service: 'checkout', env: 'test' },
    annotations: {},
    startsAt: new Date().toISOString(),
    endsAt: '',
    fingerprint: 'abc123',
    generatorURL: '',
  };
  const adm = await store.admitFiring({
    target: target.name,
    alert,
    targetsFiring: 1,
    now: new Date(),
    dryRun: false,
  });
  const id = adm.remediationId;
  await store.update(id, { state: 'merged', steps: { merged: new Date().toISOString() } }, new Date());
  const jobs: JobData[] = [];
  const events: RemediationEvent[] = [];
  const client = createArgoCdClient({ url: argo.url, token: 't' });
  const verifier = createVerifier({
    store,
    verdicts: createVerdictIndex({ redis, prefix }),
    targets: buildTargetIndex([target]),
    argocd: client,
    flux: async () => {},
    notifier: { notify: async (e) => void events.push(e) },
    metrics: createMetrics({ defaultMetrics: false }),
    clock: { now: () => new Date() },
    logger: pino({ level: 'silent' }) as unknown as Logger,
    enqueue: async (d) => void jobs.push(d),
    pollMs: 20,
  });
  await verifier.afterMerge(id, merge);
  assert.deepEqual(jobs, [{ kind: 'verify', remediationId: id }]);

  // the run before the crash got as far as asking Argo CD to sync, not as far as writing it down
  await client.sync({ app: 'checkout-prod' }, { revision: merge });
  const syncs = () => argo.calls.filter((c) => c.method === 'POST').length;
  assert.equal(syncs(), 1);

  for (let i = 0; i < 200; i++) {
    const rec = await store.get(id);
    if (rec?.state === 'verified') break;
    await verifier
      .process({ kind: 'verify', remediationId: id }, { number: 1, last: false, jobId: `verify-${id}` })
      .then(
        () => undefined,
        (err: unknown) => {
          if (!(err instanceof PollLater)) throw err;
        },
      );
    await new Promise((r) => setTimeout(r, 20));
  }
  const rec = await store.get(id);
  assert.equal(rec?.state, 'verified', JSON.stringify(rec?.verification));
  assert.equal(syncs(), 1, 'no second sync');
  assert.ok(rec?.steps.argocd_refreshed);
  assert.equal(rec?.steps.argocd_sync_requested, undefined);
  assert.deepEqual(
    events.map((e) => e.kind),
    ['verified'],
  );
  // a redelivered job after the verdict does nothing
  await verifier.process(
    { kind: 'verify', remediationId: id },
    { number: 1, last: false, jobId: `verify-${id}` },
  );
  assert.equal(events.length, 1);
});

test('a verify job the queue gives up on leaves the rollback unverified with the reason, not pending forever', async () => {
  const store = createAuditStore({ redis, prefix });
  const target = { ...sampleTarget('checkout-prod'), argocd: { app: 'checkout-prod' } };
  const alert: Alert = {
    status: 'firing',
    labels: { alertname: 'HighErrorRate', service: 'checkout', env: 'test' },
    annotations: {},
    startsAt: new Date().toISOString(),
    endsAt: '',
    fingerprint: 'def456',
    generatorURL: '',
  };
  const adm = await store.admitFiring({
    target: target.name,
    alert,
    targetsFiring: 1,
    now: new Date(),
    dryRun: false,
  });
  const id = adm.remediationId;
  await store.update(id, { state: 'merged', steps: { merged: new Date().toISOString() } }, new Date());
  const events: RemediationEvent[] = [];
  const verifier = createVerifier({
    store,
    verdicts: createVerdictIndex({ redis, prefix }),
    targets: buildTargetIndex([target]),
    argocd: null,
    flux: async () => {},
    notifier: { notify: async (e) => void events.push(e) },
    metrics: createMetrics({ defaultMetrics: false }),
    clock: { now: () => new Date() },
    logger: pino({ level: 'silent' }) as unknown as Logger,
    enqueue: async () => {},
  });
  await verifier.afterMerge(id, 'c'.repeat(40));
  await verifier.abandoned({ kind: 'remediate', remediationId: id }, new Error('ignored: not a verify job'));
  assert.equal((await store.get(id))?.state, 'merged');
  await verifier.abandoned(
    { kind: 'verify', remediationId: id },
    new Error('job stalled more than allowable limit'),
  );
  const rec = await store.get(id);
  assert.equal(rec?.state, 'unverified');
  assert.match(rec?.verification?.reason ?? '', /queue gave up verifying: job stalled/);
  assert.deepEqual(
    events.map((e) => e.kind),
    ['unverified'],
  );
});
