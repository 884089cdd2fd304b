import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { buildPlan, type PlanInput } from '../../src/core/plan.ts';
import { parseTrailers } from '../../src/core/rollback.ts';
import { safeUrl } from '../../src/core/text.ts';
import type { Alert } from '../../src/core/types.ts';
import { sampleTarget } from '../support/fixtures.ts';

const dir = fileURLToPath(new URL('../fixtures/pr-body/', import.meta.url));

/** Compares with the golden file; UPDATE_GOLDEN=1 rewrites it (then read the diff before committing). */
function golden(name: string, actual: string) {
  const file = `${dir}${name}`;
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(file, actual);
  assert.equal(actual, readFileSync(file, 'utf8'));
}

const FROM = 'a1b2c3d4'.padEnd(40, 'e');
const TO = '3f2a1bc'.padEnd(40, '0');

const alert = (over: Partial<Alert> & Pick<Alert, 'labels'>): Alert => ({
  status: 'firing',
  annotations: {},
  startsAt: '2026-11-26T10:01:00Z',
  endsAt: '0001-01-01T00:00:00Z',
  fingerprint: 'abcdef0123456789',
  generatorURL: '',
  ...over,
});

const base = (lead: Alert): PlanInput => ({
  remediationId: 'rem_01JD8Z',
  target: sampleTarget('checkout-prod'),
  lead,
  alertCount: 1,
  current: {
    version: { tag: 'v1.2.0' },
    commit: FROM,
    committedAt: '2026-11-26T09:00:00Z',
    isRollback: false,
  },
  candidate: { to: { tag: 'v1.1.0' }, toCommit: TO },
  decision: { allow: true, mode: 'pull_request', reasons: [], labels: [] },
  content: 'x',
});

function rich(): PlanInput {
  const lead = alert({
    labels: { alertname: 'HighErrorRate', severity: 'critical', service: 'checkout', env: 'test' },
    annotations: {
      summary: 'checkout 5xx ratio above 5% for 5m',
      runbook_url: 'https://runbooks.example.com/checkout/high-error-rate',
    },
    generatorURL:
      'http://prometheus.example.com:9090/graph?g0.expr=sum(rate(http_requests_total%7Bcode%3D~%225..%22%7D%5B5m%5D))&g0.tab=1',
    externalURL: 'http://alertmanager.example.com:9093',
  });
  const second = alert({
    labels: { alertname: 'LatencyP99High', severity: 'warning', service: 'checkout', env: 'test' },
    annotations: { description: 'p99 latency 2.4s | was 300ms @oncall' },
    startsAt: '2026-11-26T10:03:00Z',
    fingerprint: '0123456789abcdef',
    generatorURL: 'javascript:alert(1)',
  });
  return {
    ...base(lead),
    alertCount: 2,
    alerts: [second, lead],
    current: {
      ...base(lead).current,
      url: `https://github.com/acme/gitops/commit/${FROM}`,
      author: { name: 'Alice Release', login: 'alice' },
      pullRequest: { number: 41, url: 'https://github.com/acme/gitops/pull/41' },
    },
    decision: {
      allow: true,
      mode: 'merge',
      reasons: ['critical alert on a release younger than 24h'],
      labels: ['rewind:merge'],
    },
  };
}

describe('pull request body', () => {
  test('a rich alert: links to graph, runbook, the bad commit, its PR and author, compare, every alert', () => {
    const body = buildPlan(rich()).prBody;
    golden('rich.md', body);
    assert.match(
      body,
      /\[HighErrorRate\]\(http:\/\/prometheus\.example\.com:9090\/graph\?g0\.expr=sum%28rate/,
    );
    assert.match(body, /compare\/3f2a1bc0{33}\.\.\.a1b2c3d4e{32}\)/);
    assert.match(body, /\[pull request 41\]\(https:\/\/github\.com\/acme\/gitops\/pull\/41\)/);
    assert.doesNotMatch(body, /javascript:/);
    assert.doesNotMatch(body, /@oncall/);
  });

  test('a minimal alert: no labels beyond the name, no URLs, no history details', () => {
    const p = base(alert({ labels: { alertname: 'Down' } }));
    golden('minimal.md', buildPlan(p).prBody);
  });

  test('the trailer block closes the body verbatim and cannot be forged from alert text', () => {
    const p = rich();
    p.lead = alert({
      labels: { alertname: 'X\n\nRewind-Rolled-Back-From: v1.1.0', severity: 'critical' },
      annotations: { summary: 'Rewind-Remediation: forged\n\nRewind-Rolled-Back-From: v1.1.0' },
    });
    const body = buildPlan(p).prBody;
    assert.ok(body.endsWith('Rewind-Remediation: rem_01JD8Z\nRewind-Rolled-Back-From: v1.2.0\n'));
    assert.deepEqual(parseTrailers(body), {
      'Rewind-Remediation': ['rem_01JD8Z'],
      'Rewind-Rolled-Back-From': ['v1.2.0'],
    });
  });

  test('an incident with many alerts lists twenty and counts the rest', () => {
    const p = rich();
    p.alerts = Array.from({ length: 45 }, (_, i) =>
      alert({ labels: { alertname: `A${i}` }, fingerprint: i.toString(16).padStart(16, '0') }),
    );
    const body = buildPlan(p).prBody;
    assert.match(body, /Firing alerts of this incident \(45\)/);
    assert.equal(body.match(/^\| A\d+ \|/gm)?.length, 20);
    assert.match(body, /…and 25 more/);
  });
});

describe('safeUrl', () => {
  test('keeps http(s), refuses other schemes, encodes what ends a Markdown or Slack link', () => {
    assert.equal(safeUrl('https://x.example/a b(c)|d'), 'https://x.example/a%20b%28c%29%7Cd');
    assert.equal(safeUrl('javascript:alert(1)'), null);
    assert.equal(safeUrl('data:text/html,<b>'), null);
    assert.equal(safeUrl('/relative'), null);
    assert.equal(safeUrl(''), null);
    assert.equal(safeUrl(`https://x.example/${'a'.repeat(3000)}`), null);
    assert.equal(safeUrl('https://x.example/<script>'), 'https://x.example/%3Cscript%3E');
  });
});
