import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import {
  startArgoCdEmulator,
  type ArgoCdEmulator,
  type EmulatedApp,
} from '../support/argocd-emulator/index.ts';
import { startGitHubEmulator, type GitHubEmulator } from '../support/github-emulator.ts';
import { SAMPLE_PATH, seedSampleRepo } from '../support/gitops-sample.ts';
import { sampleJson } from '../support/fixtures.ts';
import { post } from '../support/app.ts';
import { CHECKOUT_TARGET, startStack } from '../support/stack.ts';

const RELEASED = new Date('2026-11-26T00:10:00Z');
const BASE = Date.parse('2026-11-26T00:40:00Z');
const STARTED = Date.now();
/** the sample alert's time frame, but moving: verify.timeout must be able to pass */
const clock = { now: () => new Date(BASE + (Date.now() - STARTED)) };
const TOKEN = 'argocd-token-for-tests';

function target(extra: string): string {
  return `${CHECKOUT_TARGET}    argocd: { app: checkout-prod }\n${extra}`;
}

async function until<T>(
  what: string,
  fn: () => T | undefined | Promise<T | undefined>,
  ms = 10_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('after the merge: Argo CD reconciles now and rewind verifies', () => {
  let gh: GitHubEmulator;
  let argo: ArgoCdEmulator;
  let stack: Awaited<ReturnType<typeof startStack>>;
  let initial: string;

  before(async () => {
    gh = await startGitHubEmulator();
  });
  afterEach(async () => {
    await stack?.stop();
    await argo?.close();
    gh.assertNoUnknownRequests();
    argo?.assertNoUnknownCalls();
  });
  after(async () => gh.close());

  async function run(app: Partial<EmulatedApp>, extra = '', prepare?: (a: ArgoCdEmulator) => void) {
    initial = seedSampleRepo(gh, RELEASED).headSha;
    argo = await startArgoCdEmulator({ github: gh, token: TOKEN });
    argo.addApp({
      name: 'checkout-prod',
      repo: { owner: 'acme', name: 'gitops' },
      branch: 'main',
      path: SAMPLE_PATH.replace(/\/kustomization\.yaml$/, ''),
      automated: true,
      ...app,
    });
    prepare?.(argo);
    let mergedAt = 0;
    gh.beforeNext({
      method: 'PUT',
      pathPattern: /\/pulls\/\d+\/merge$/,
      run: () => void (mergedAt = Date.now()),
    });
    stack = await startStack({
      githubUrl: gh.url,
      clock,
      targets: target(extra),
      env: { ARGOCD_SERVER: argo.url, ARGOCD_AUTH_TOKEN: TOKEN },
    });
    const res = await post(stack.app, sampleJson('a-firing-single.json'));
    assert.equal(res.statusCode, 202);
    const id = res.json().remediations[0].id as string;
    const rec = await until('a verdict', async () => {
      const r = await stack.runtime.store.get(id);
      return r && (r.state === 'verified' || r.state === 'unverified' || r.state === 'failed')
        ? r
        : undefined;
    });
    const mergeSha = gh.listCommits('acme', 'gitops', 'main')[0]?.sha ?? '';
    return { id, rec, mergedAt: () => mergedAt, mergeSha };
  }

  test('automated sync: a refresh right after the merge, synced within a second, verified when Healthy', async () => {
    const { rec, mergedAt, mergeSha } = await run({});
    assert.equal(rec.state, 'verified', JSON.stringify(rec.verification));
    assert.notEqual(mergeSha, initial);
    assert.equal(rec.verification?.mergeCommit, mergeSha);
    assert.equal(rec.verification?.result, 'verified');
    assert.ok((rec.verification?.seconds ?? -1) >= 0);
    const refresh = argo.calls.find((c) => c.query.refresh === 'normal');
    assert.ok(refresh, 'the Application was refreshed');
    assert.ok(refresh.at - mergedAt() < 1000, `refresh ${refresh.at - mergedAt()} ms after the merge`);
    const op = (
      argo.app('checkout-prod').status as {
        operationState: { finishedAt: string; syncResult: { revision: string } };
      }
    ).operationState;
    assert.equal(op.syncResult.revision, mergeSha);
    // finishedAt has whole seconds (metav1.Time): synced within a second of the merge
    assert.ok(Date.parse(op.finishedAt) - mergedAt() < 1000, 'synced within a second of the merge');
    assert.equal(
      argo.calls.filter((c) => c.method === 'POST').length,
      0,
      'automated sync needs no sync call',
    );
    assert.deepEqual(
      stack.events.map((e) => e.kind),
      ['merged', 'verified'],
    );
    const metrics = await stack.runtime.metrics.registry.metrics();
    assert.match(metrics, /rewind_verifications_total\{result="verified"\} 1/);
    assert.match(metrics, /rewind_merge_to_verified_seconds_count 1/);
  });

  test('manual sync policy: rewind syncs the merge commit itself, waiting out "another operation is already in progress"', async () => {
    const { rec, mergeSha } = await run({ automated: false }, '', (a) => a.busyFor(2));
    assert.equal(rec.state, 'verified', JSON.stringify(rec.verification));
    const syncs = argo.calls.filter((c) => c.method === 'POST');
    assert.deepEqual(
      syncs.map((c) => c.status),
      [400, 400, 200],
    );
    assert.deepEqual(syncs[2]?.body, { name: 'checkout-prod', revision: mergeSha, prune: false });
    assert.ok(rec.steps.argocd_sync_requested);
  });

  test('Degraded at the merge commit: unverified, with the reason, on Slack and in the metrics', async () => {
    const { rec } = await run({ healthFor: (rev) => (rev === initial ? 'Healthy' : 'Degraded') });
    assert.equal(rec.state, 'unverified');
    assert.match(rec.verification?.reason ?? '', /Degraded/);
    assert.deepEqual(
      stack.events.map((e) => e.kind),
      ['merged', 'unverified'],
    );
    assert.match(
      await stack.runtime.metrics.registry.metrics(),
      /rewind_verifications_total\{result="unverified"\} 1/,
    );
  });

  test('a failed sync of the merge commit: unverified', async () => {
    const { rec } = await run({ syncFails: (rev) => rev !== initial });
    assert.equal(rec.state, 'unverified');
    assert.match(rec.verification?.reason ?? '', /sync of [0-9a-f]{7} failed/);
  });

  test('still Progressing when verify.timeout passes: unverified with the last thing Argo CD said', async () => {
    const { rec } = await run(
      { healthFor: (rev) => (rev === initial ? 'Healthy' : 'Progressing') },
      '    verify: { timeout: 1s }\n',
    );
    assert.equal(rec.state, 'unverified');
    assert.match(rec.verification?.reason ?? '', /no verdict before verify\.timeout \(last: .*Progressing/);
  });

  test('a token Argo CD refuses (403): unverified at once with the reason, never retried, token not in it', async () => {
    const { rec } = await run({}, '', (a) =>
      a.failNext(403, 'permission denied: applications, get, default/checkout-prod'),
    );
    assert.equal(rec.state, 'unverified');
    assert.match(rec.verification?.reason ?? '', /HTTP 403.*permission denied/);
    assert.equal(argo.calls.length, 1);
    assert.doesNotMatch(JSON.stringify(rec), new RegExp(TOKEN));
  });
});
