import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { leadAlert, triage } from '../../src/core/alerts.ts';
import { buildTargetIndex, compileMatcher } from '../../src/core/targets.ts';
import type { Alert } from '../../src/core/types.ts';
import { sampleTarget } from '../support/fixtures.ts';

const a = (
  labels: Record<string, string>,
  status: Alert['status'] = 'firing',
  fingerprint = '01',
): Alert => ({
  status,
  labels,
  annotations: {},
  startsAt: '2026-11-26T00:00:00Z',
  endsAt: '',
  fingerprint,
  generatorURL: '',
});

describe('target matching', () => {
  test('every label must equal; "~regex" matches the whole value', () => {
    const m = compileMatcher({ service: 'checkout', env: '~prod|prod-eu' });
    assert.equal(m({ service: 'checkout', env: 'prod' }), true);
    assert.equal(m({ service: 'checkout', env: 'prod-eu' }), true);
    assert.equal(m({ service: 'checkout', env: 'prod-us' }), false, 'anchored');
    assert.equal(m({ service: 'checkout', env: 'preprod' }), false, 'anchored at the start');
    assert.equal(m({ service: 'checkout' }), false, 'missing label');
    assert.equal(m({ service: 'checkout2', env: 'prod' }), false);
  });

  test('triage groups firing alerts per target, counts targets firing, ignores strays', () => {
    const idx = buildTargetIndex([
      sampleTarget('checkout', { match: { service: 'checkout' } }),
      sampleTarget('api', { match: { service: 'api' } }),
    ]);
    const t = triage(
      [
        a({ service: 'checkout' }, 'firing', '1'),
        a({ service: 'checkout' }, 'firing', '2'),
        a({ service: 'api' }, 'resolved'),
        a({ service: 'db' }),
      ],
      idx,
    );
    assert.equal(t.received, 4);
    assert.equal(t.ignored, 1);
    assert.equal(t.targetsFiring, 1);
    assert.deepEqual(
      t.firing.map((g) => [g.target.name, g.alerts.length]),
      [['checkout', 2]],
    );
    assert.deepEqual(
      t.resolutions.map((r) => r.target.name),
      ['api'],
    );
  });

  test('the lead alert is the most severe, then the earliest', () => {
    const warn = { ...a({ severity: 'warning' }), startsAt: '2026-11-26T00:00:00Z' };
    const crit = { ...a({ severity: 'critical' }), startsAt: '2026-11-26T01:00:00Z' };
    const crit2 = { ...a({ severity: 'critical' }), startsAt: '2026-11-26T00:30:00Z' };
    assert.equal(leadAlert([warn, crit, crit2]), crit2);
  });
});
