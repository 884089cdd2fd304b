import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { RemediationRecord } from '../../src/audit/types.ts';
import { renderSlackMessage, type Button } from '../../src/notify/blocks.ts';
import { argocdAppUrl, eventFromRecord } from '../../src/notify/record-event.ts';
import { sampleTarget } from '../support/fixtures.ts';

const record: RemediationRecord = {
  id: 'rem_1',
  target: 'checkout-prod',
  state: 'merged',
  createdAt: '2026-11-26T10:00:00.000Z',
  updatedAt: '2026-11-26T10:02:00.000Z',
  alerts: [
    {
      status: 'firing',
      labels: { alertname: 'HighErrorRate', severity: 'critical' },
      annotations: { summary: 'errors' },
      startsAt: '2026-11-26T09:59:00Z',
      endsAt: '0001-01-01T00:00:00Z',
      generatorURL: 'http://prometheus/graph',
      fingerprint: 'f1',
    },
  ],
  alertsDropped: 2,
  targetsFiring: 1,
  seenAgain: 0,
  change: { from: 'v1.2.0', to: 'v1.1.0', fromCommit: 'a'.repeat(40), toCommit: 'b'.repeat(40) },
  decision: { allow: true, mode: 'merge', reasons: ['young release'], labels: [] },
  pullRequest: { number: 7, url: 'https://github.com/acme/gitops/pull/7', branch: 'rewind/x' },
  mergeCommit: 'c'.repeat(40),
  notHealed: false,
  reason: null,
  error: null,
  dryRun: false,
  steps: {},
  timeToRecoverySeconds: null,
  verification: null,
};

describe('Slack events from the record (every kind, wherever it is sent from)', () => {
  test('the Argo CD page: <argocd.url>/applications/<appNamespace or argocd>/<app>', () => {
    const t = (argocd?: { app: string; appNamespace?: string }) =>
      sampleTarget('checkout-prod', argocd ? { argocd } : {});
    assert.equal(
      argocdAppUrl('https://argocd.example.com/', t({ app: 'checkout' })),
      'https://argocd.example.com/applications/argocd/checkout',
    );
    assert.equal(
      argocdAppUrl('https://argocd.example.com', t({ app: 'checkout', appNamespace: 'team-a' })),
      'https://argocd.example.com/applications/team-a/checkout',
    );
    assert.equal(argocdAppUrl(null, t({ app: 'checkout' })), undefined, 'no Argo CD configured');
    assert.equal(argocdAppUrl('https://argocd.example.com', t()), undefined, 'target without an app');
  });

  test('a verified event carries the rich fields and renders an Argo CD button', () => {
    const target = sampleTarget('checkout-prod', { argocd: { app: 'checkout', appNamespace: 'team-a' } });
    const now = new Date('2026-11-26T10:03:00Z');
    const e = eventFromRecord(record, target, 'verified', {
      reasons: ['Healthy at ccccccc'],
      error: null,
      now,
      argocdUrl: 'https://argocd.example.com',
    });
    assert.equal(e.argocdAppUrl, 'https://argocd.example.com/applications/team-a/checkout');
    assert.equal(e.alertCount, 3, 'dropped alerts still count');
    assert.equal(e.mode, 'merge');
    assert.equal(e.prNumber, 7);
    assert.equal(e.at, now.toISOString());
    assert.equal(e.receivedAt, record.createdAt);
    const msg = renderSlackMessage(e);
    const actions = msg.blocks.find((b) => b.type === 'actions') as { elements: Button[] } | undefined;
    assert.deepEqual(
      actions?.elements.map((b) => [b.action_id, b.url]),
      [
        ['pull_request', 'https://github.com/acme/gitops/pull/7'],
        ['graph', 'http://prometheus/graph'],
        ['argocd', 'https://argocd.example.com/applications/team-a/checkout'],
      ],
    );
    assert.match(msg.text, /Rollback verified \(live and healthy\): checkout-prod/);
  });
});
