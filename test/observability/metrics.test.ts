import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  FLUX_EVENT_OUTCOMES,
  REMEDIATION_OUTCOMES,
  VERIFICATION_RESULTS,
  createMetrics,
} from '../../src/observability/metrics.ts';
import { TRANSITIONS } from '../../src/remediation/lifecycle.ts';

test('labelled series rewind knows in advance exist at 0 before the first event, so rate() sees it', async () => {
  const m = createMetrics({ defaultMetrics: false, targets: ['checkout-prod'] });
  const text = await m.registry.metrics();
  for (const outcome of REMEDIATION_OUTCOMES)
    assert.match(
      text,
      new RegExp(`^rewind_remediations_total\\{target="checkout-prod",outcome="${outcome}"\\} 0$`, 'm'),
    );
  assert.match(text, /^rewind_remediation_duration_seconds_count\{outcome="merged"\} 0$/m);
  assert.match(text, /^rewind_webhook_requests_total\{code="503"\} 0$/m);
  assert.match(text, /^rewind_github_requests_total\{method="GET",status="403"\} 0$/m);
  assert.match(text, /^rewind_policy_reloads_total\{result="failure"\} 0$/m);
  assert.doesNotMatch(text, /target="other"/);

  m.remediations.inc({ target: 'checkout-prod', outcome: 'merged' });
  assert.match(
    await m.registry.metrics(),
    /^rewind_remediations_total\{target="checkout-prod",outcome="merged"\} 1$/m,
  );
});

test('the primed remediation outcomes are exactly the states the lifecycle counts', () => {
  const counted = new Set(
    TRANSITIONS.filter((t) => t.effects.includes('count')).map((t) =>
      t.to === 'planned' ? 'dry_run' : t.to,
    ),
  );
  assert.deepEqual([...REMEDIATION_OUTCOMES].sort(), [...counted].sort());
  assert.ok(counted.has('auto_merge') && counted.has('closed'));
});

test('the verification lifecycle series exist at 0: verifications, Flux events, merge → verified', async () => {
  const m = createMetrics({ defaultMetrics: false, targets: ['checkout-prod'] });
  const text = await m.registry.metrics();
  assert.match(text, /^rewind_remediations_total\{target="checkout-prod",outcome="auto_merge"\} 0$/m);
  assert.match(text, /^rewind_remediation_duration_seconds_count\{outcome="auto_merge"\} 0$/m);
  for (const result of VERIFICATION_RESULTS)
    assert.match(text, new RegExp(`^rewind_verifications_total\\{result="${result}"\\} 0$`, 'm'));
  for (const outcome of FLUX_EVENT_OUTCOMES)
    assert.match(text, new RegExp(`^rewind_flux_events_total\\{outcome="${outcome}"\\} 0$`, 'm'));
  assert.match(text, /^rewind_merge_to_verified_seconds_count 0$/m);

  m.verifications.inc({ result: 'verified' });
  assert.match(await m.registry.metrics(), /^rewind_verifications_total\{result="verified"\} 1$/m);
});
