import assert from 'node:assert/strict';
import { test } from 'node:test';
import { REMEDIATION_OUTCOMES, createMetrics } from '../../src/observability/metrics.ts';

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
