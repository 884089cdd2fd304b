/** Remediation events for the Slack tests: an ordinary one and one with every text far over the limits. */
import type { Alert } from '../../src/core/types.ts';
import type { RemediationEvent } from '../../src/notify/slack.ts';

export const alert: Alert = {
  status: 'firing',
  labels: { alertname: 'HighErrorRate', severity: 'critical', service: 'checkout', env: 'prod' },
  annotations: {
    summary: 'checkout 5xx above 5%',
    runbook_url: 'https://runbooks.example.com/checkout',
  },
  startsAt: '2026-11-26T10:01:00Z',
  endsAt: '0001-01-01T00:00:00Z',
  fingerprint: 'abcdef0123456789',
  generatorURL: 'http://prometheus.example.com:9090/graph?g0.expr=up%3D%3D0',
  externalURL: 'http://alertmanager.example.com:9093',
};

export const event: RemediationEvent = {
  kind: 'merged',
  remediationId: 'rem_abc',
  target: 'checkout-prod',
  environment: 'prod',
  alertName: 'HighErrorRate <!channel> *now*',
  severity: 'critical',
  from: 'v1.2.0',
  to: 'v1.1.0',
  reasons: ['critical alert on a release younger than 24h'],
  prUrl: 'https://github.com/acme/gitops/pull/7',
  error: null,
  dryRun: false,
  alert,
  alertCount: 2,
  mode: 'merge',
  prNumber: 7,
  receivedAt: '2026-11-26T10:02:00Z',
  at: '2026-11-26T10:02:09Z',
};

/** An alert written by someone who never heard of limits: every text far over Block Kit's. */
export function hugeEvent(kind: RemediationEvent['kind'] = 'failed'): RemediationEvent {
  const long = (s: string) => s.repeat(Math.ceil(20_000 / s.length));
  return {
    ...event,
    kind,
    alertName: long('VeryLongAlertName&<>*_~` '),
    severity: long('sev'),
    environment: 'prod',
    reasons: Array.from({ length: 60 }, (_, i) => `${i}: ${long('reason <!here> & more ')}`),
    error: long('stack trace line with <tags> & *marks* '),
    alert: {
      ...alert,
      labels: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`label_${i}`, long('v"\\')])),
      annotations: {
        summary: long('summary *bold* _it_ ~st~ `code` <@U123> '),
        runbook_url: `https://runbooks.example.com/${long('a')}`,
      },
      generatorURL: `http://prometheus.example.com/graph?g0.expr=${long('x')}`,
      externalURL: 'http://alertmanager.example.com:9093',
    },
  };
}
