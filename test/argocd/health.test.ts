import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { assessApplication } from '../../src/argocd/health.ts';
import type { ArgoApplication } from '../../src/argocd/types.ts';

const SHA = 'a'.repeat(40);
const OLD = 'b'.repeat(40);

/** An Application as GET /api/v1/applications/{name} returns it after a finished sync of `rev`. */
function app(over: Partial<NonNullable<ArgoApplication['status']>> = {}, rev = SHA): ArgoApplication {
  return {
    metadata: { name: 'checkout-prod', namespace: 'argocd' },
    spec: { source: { repoURL: 'https://github.com/acme/gitops.git', targetRevision: 'main' } },
    status: {
      sync: { status: 'Synced', revision: rev },
      health: { status: 'Healthy' },
      reconciledAt: '2026-11-26T10:00:05Z',
      operationState: {
        phase: 'Succeeded',
        startedAt: '2026-11-26T10:00:01Z',
        finishedAt: '2026-11-26T10:00:03Z',
        operation: { sync: { revision: rev } },
        syncResult: { revision: rev },
      },
      ...over,
    },
  };
}

describe('Argo CD health, Kargo-style', () => {
  test('Healthy at the merge commit after the health loop ran: verified', () => {
    assert.equal(assessApplication(app(), SHA).verdict, 'verified');
  });
  test('same-second reconciledAt and finishedAt is trusted (Argo CD reconciles after setting finishedAt)', () => {
    assert.equal(assessApplication(app({ reconciledAt: '2026-11-26T10:00:03Z' }), SHA).verdict, 'verified');
  });
  test('reconciledAt older than finishedAt: health not trusted yet, even when it says Healthy', () => {
    const a = assessApplication(app({ reconciledAt: '2026-11-26T10:00:02Z' }), SHA);
    assert.equal(a.verdict, 'pending');
    assert.match(a.reason, /not reconciled after its last operation/);
  });
  test('an error condition is unhealthy; a warning condition is not', () => {
    const bad = app({
      conditions: [{ type: 'ComparisonError', message: 'rpc error: repository not found' }],
    });
    assert.equal(assessApplication(bad, SHA).verdict, 'unverified');
    const warn = app({ conditions: [{ type: 'OrphanedResourceWarning', message: '1 orphaned' }] });
    assert.equal(assessApplication(warn, SHA).verdict, 'verified');
  });
  test('a running operation is still progressing', () => {
    const running = app({
      operationState: {
        phase: 'Running',
        startedAt: '2026-11-26T10:00:01Z',
        operation: { sync: { revision: SHA } },
      },
    });
    assert.equal(assessApplication(running, SHA).verdict, 'pending');
    const requested: ArgoApplication = { ...app(), operation: { sync: { revision: SHA } } };
    assert.equal(assessApplication(requested, SHA).verdict, 'pending');
  });
  test('a failed operation at the merge commit: unverified; a failed older one only keeps it waiting', () => {
    const failed = app({
      sync: { status: 'OutOfSync', revision: OLD },
      operationState: {
        phase: 'Failed',
        message: 'one or more objects failed to apply',
        startedAt: '2026-11-26T10:00:01Z',
        finishedAt: '2026-11-26T10:00:03Z',
        syncResult: { revision: SHA },
      },
    });
    assert.equal(assessApplication(failed, SHA).verdict, 'unverified');
    assert.equal(assessApplication(app({}, OLD), SHA).verdict, 'pending');
  });
  test('synced to another revision: waiting, whatever the health says', () => {
    const a = assessApplication(app({}, OLD), SHA);
    assert.equal(a.verdict, 'pending');
    assert.match(a.reason, /at bbbbbbb, not yet at aaaaaaa/);
  });
  test('health: Progressing, Suspended and Missing wait; Degraded fails', () => {
    for (const status of ['Progressing', 'Suspended', 'Missing', ''])
      assert.equal(assessApplication(app({ health: { status } }), SHA).verdict, 'pending', status);
    const d = assessApplication(app({ health: { status: 'Degraded', message: 'CrashLoopBackOff' } }), SHA);
    assert.equal(d.verdict, 'unverified');
    assert.match(d.reason, /Degraded.*CrashLoopBackOff/);
  });
  test('multi-source apps: the merge commit among status.sync.revisions', () => {
    const multi = app({ sync: { status: 'Synced', revisions: [OLD, SHA] } });
    assert.equal(assessApplication(multi, SHA).verdict, 'verified');
  });
});
