/**
 * notification-controller events (its `generic` provider posts the Event as
 * JSON: involvedObject, severity, reason, message, metadata, timestamp). Pure:
 * what an event says about a Kustomization at a commit. The controller strips
 * the involved object's API group from metadata keys, so the revision arrives
 * as `metadata.revision` ("main@sha1:<sha>"); older controllers sent
 * `kustomize.toolkit.fluxcd.io/revision` as "main/<sha>": both are read.
 */
export interface FluxEvent {
  involvedObject: { kind: string; name: string; namespace?: string; apiVersion?: string };
  severity: string;
  reason: string;
  message: string;
  metadata?: Record<string, string>;
  timestamp?: string;
  reportingController?: string;
}

export type FluxEventOutcome =
  | { outcome: 'verified' | 'unverified' | 'noted'; remediationId: string }
  | { outcome: 'ignored'; reason: string };

export interface FluxReading {
  kustomization: string;
  sha: string;
  verdict: 'verified' | 'unverified' | null;
  reason: string;
}

const SHA = /(?:^|@sha1:|\/|:)([0-9a-f]{40})$/;

export function readFluxEvent(e: FluxEvent): FluxReading | { ignored: string } {
  if (e.involvedObject.kind !== 'Kustomization')
    return { ignored: `not a Kustomization (${e.involvedObject.kind})` };
  const revision = e.metadata?.revision ?? e.metadata?.['kustomize.toolkit.fluxcd.io/revision'] ?? '';
  const sha = SHA.exec(revision)?.[1];
  if (!sha) return { ignored: 'no Git commit in metadata.revision' };
  const kustomization = `${e.involvedObject.namespace ?? 'default'}/${e.involvedObject.name}`;
  const text = `${e.reason}: ${e.message}`.slice(0, 500);
  if (e.severity === 'error') return { kustomization, sha, verdict: 'unverified', reason: `Flux ${text}` };
  if (e.reason === 'ReconciliationSucceeded')
    return { kustomization, sha, verdict: 'verified', reason: `Flux ${text}` };
  return { kustomization, sha, verdict: null, reason: `Flux ${text}` };
}
