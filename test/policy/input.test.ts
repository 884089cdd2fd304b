import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Alert, CurrentRelease, Target } from '../../src/core/types.ts';
import { buildPolicyInput, type PolicyInputParts } from '../../src/policy/input.ts';

const alert: Alert = {
  status: 'firing',
  labels: { alertname: 'HighErrorRate', severity: 'critical', service: 'checkout', env: 'prod' },
  annotations: { summary: '5xx above 5%' },
  startsAt: '2026-11-26T10:01:00.123456789Z',
  endsAt: '0001-01-01T00:00:00Z',
  fingerprint: '3f2a1bc0d9e8f7a6',
  generatorURL: 'http://prometheus/graph',
};
const target: Target = {
  name: 'checkout-prod',
  match: { service: 'checkout', env: 'prod' },
  repo: 'acme/gitops',
  branch: 'main',
  path: 'apps/checkout/overlays/prod/kustomization.yaml',
  image: 'registry.example.com/acme/checkout',
  environment: 'prod',
  reviewers: ['octocat'],
};
const current: CurrentRelease = {
  version: { tag: 'v1.2.0' },
  commit: 'c0ffee',
  committedAt: '2026-11-26T10:00:00Z',
  isRollback: false,
};
const history = {
  rollbacksLastHour: 0,
  rollbacksLastDay: 1,
  lastRollbackAt: '2026-11-25T09:00:00Z',
  openPullRequest: false,
};
const parts: PolicyInputParts = {
  alert,
  alerts: [alert],
  target,
  current,
  candidate: { to: { tag: 'v1.1.0' }, toCommit: 'beef' },
  targetsFiring: 2,
  history,
  now: new Date('2026-11-26T11:00:00.500Z'),
};

describe('buildPolicyInput', () => {
  it('maps the domain values to the SPEC input shape', () => {
    assert.deepEqual(buildPolicyInput(parts), {
      alert: {
        name: 'HighErrorRate',
        severity: 'critical',
        labels: { alertname: 'HighErrorRate', severity: 'critical', service: 'checkout', env: 'prod' },
        annotations: { summary: '5xx above 5%' },
        startsAt: '2026-11-26T10:01:00.123456789Z',
        fingerprint: '3f2a1bc0d9e8f7a6',
      },
      alerts: [
        {
          name: 'HighErrorRate',
          severity: 'critical',
          labels: { alertname: 'HighErrorRate', severity: 'critical', service: 'checkout', env: 'prod' },
          annotations: { summary: '5xx above 5%' },
          startsAt: '2026-11-26T10:01:00.123456789Z',
          fingerprint: '3f2a1bc0d9e8f7a6',
        },
      ],
      target: {
        name: 'checkout-prod',
        environment: 'prod',
        repo: 'acme/gitops',
        path: 'apps/checkout/overlays/prod/kustomization.yaml',
        image: 'registry.example.com/acme/checkout',
      },
      change: {
        from: 'v1.2.0',
        to: 'v1.1.0',
        fromCommit: 'c0ffee',
        toCommit: 'beef',
        fromCommittedAt: '2026-11-26T10:00:00Z',
        fromAgeSeconds: 3600,
        fromIsRollback: false,
      },
      incident: { targetsFiring: 2 },
      history,
      now: '2026-11-26T11:00:00.500Z',
    });
  });

  it('has no candidate as to/toCommit null', () => {
    const input = buildPolicyInput({ ...parts, candidate: null });
    assert.equal(input.change.to, null);
    assert.equal(input.change.toCommit, null);
  });

  it('formats digests and tag@digest references like the rest of rewind', () => {
    const digest = `sha256:${'ab'.repeat(32)}`;
    const input = buildPolicyInput({
      ...parts,
      current: { ...current, version: { tag: 'v1.2.0', digest } },
      candidate: { to: { digest }, toCommit: 'beef' },
    });
    assert.equal(input.change.from, `v1.2.0@${digest}`);
    assert.equal(input.change.to, digest);
  });

  it('defaults a missing severity to "none" and a missing alertname to ""', () => {
    const bare: Alert = { ...alert, labels: { service: 'checkout' } };
    const input = buildPolicyInput({ ...parts, alert: bare, alerts: [] });
    assert.equal(input.alert.severity, 'none');
    assert.equal(input.alert.name, '');
  });

  it('floors the release age to whole seconds and never goes below 0', () => {
    assert.equal(
      buildPolicyInput({ ...parts, now: new Date('2026-11-26T10:00:01.999Z') }).change.fromAgeSeconds,
      1,
    );
    // commit time after now (clock skew between Git host and rewind)
    assert.equal(
      buildPolicyInput({ ...parts, now: new Date('2026-11-26T09:00:00Z') }).change.fromAgeSeconds,
      0,
    );
    assert.equal(
      buildPolicyInput({ ...parts, current: { ...current, committedAt: 'garbage' } }).change.fromAgeSeconds,
      0,
    );
  });

  it('copies the labels: the input never aliases the caller objects', () => {
    const labels: Record<string, string> = { alertname: 'A', severity: 'warning' };
    const input = buildPolicyInput({ ...parts, alert: { ...alert, labels } });
    labels['severity'] = 'critical';
    assert.equal(input.alert.labels['severity'], 'warning');
    assert.notEqual(input.history, history);
  });
});
