/** A Flux event posted to POST /v1/flux/events → the verdict on the remediation waiting for it. */
import type { AuditStore } from '../audit/store.ts';
import type { VerdictIndex } from '../audit/verdicts.ts';
import { readFluxEvent, type FluxEvent, type FluxEventOutcome } from '../flux/events.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { Verifier } from './verify.ts';
import type { Clock } from '../core/ports.ts';

export function createFluxEventHandler(deps: {
  store: AuditStore;
  verdicts: VerdictIndex;
  verifier: Pick<Verifier, 'conclude'>;
  metrics: Metrics;
  clock: Clock;
}) {
  async function handle(event: FluxEvent): Promise<FluxEventOutcome> {
    const r = readFluxEvent(event);
    if ('ignored' in r) return { outcome: 'ignored', reason: r.ignored };
    const id = await deps.verdicts.awaitingFlux(r.kustomization, r.sha);
    if (!id)
      return {
        outcome: 'ignored',
        reason: `no rollback waits for ${r.kustomization} at ${r.sha.slice(0, 7)}`,
      };
    const rec = await deps.store.get(id);
    const v = rec?.verification;
    if (!rec || !v || v.result !== 'pending' || rec.state !== 'merged' || !r.verdict) {
      if (rec && v && v.result === 'pending')
        await deps.store.update(id, { verification: { ...v, reason: r.reason } }, deps.clock.now());
      return { outcome: 'noted', remediationId: id };
    }
    await deps.verifier.conclude(rec, r.verdict, r.reason);
    return { outcome: r.verdict, remediationId: id };
  }
  return {
    async handle(event: FluxEvent): Promise<FluxEventOutcome> {
      const out = await handle(event);
      deps.metrics.fluxEvents.inc({ outcome: out.outcome });
      return out;
    },
  };
}
