import { formatVersion } from '../core/version.ts';
import type { Alert, CurrentRelease, RollbackCandidate, Target } from '../core/types.ts';
import type { PolicyAlert, PolicyInput } from './types.ts';

export interface PolicyInputParts {
  /** the alert being remediated */
  alert: Alert;
  /** every firing alert of this incident for the target (may include `alert`) */
  alerts: readonly Alert[];
  target: Target;
  current: CurrentRelease;
  candidate: RollbackCandidate | null;
  /** distinct targets with a firing alert in this notification */
  targetsFiring: number;
  history: PolicyInput['history'];
  /** the only clock the policy sees */
  now: Date;
}

function policyAlert(a: Alert): PolicyAlert {
  return {
    name: a.labels['alertname'] ?? '',
    severity: a.labels['severity'] ?? 'none',
    // Copies: the input is serialised for Wasm and recorded in the audit trail,
    // it must not alias objects the caller may still change.
    labels: { ...a.labels },
    annotations: { ...a.annotations },
    startsAt: a.startsAt,
    fingerprint: a.fingerprint,
  };
}

/** Whole seconds from `committedAt` to `now`; 0 when the commit time is unreadable or in the future (clock skew). */
function ageSeconds(committedAt: string, now: Date): number {
  const t = Date.parse(committedAt);
  if (Number.isNaN(t)) return 0;
  return Math.max(0, Math.floor((now.getTime() - t) / 1000));
}

/**
 * The one shape Rego sees (SPEC "Policy"), built from domain values. Pure:
 * the same parts always give the same input, so a decision can be replayed
 * from the audit record.
 */
export function buildPolicyInput(p: PolicyInputParts): PolicyInput {
  return {
    alert: policyAlert(p.alert),
    alerts: p.alerts.map(policyAlert),
    target: {
      name: p.target.name,
      environment: p.target.environment,
      repo: p.target.repo,
      path: p.target.path,
      image: p.target.image,
    },
    change: {
      from: formatVersion(p.current.version),
      to: p.candidate === null ? null : formatVersion(p.candidate.to),
      fromCommit: p.current.commit,
      toCommit: p.candidate === null ? null : p.candidate.toCommit,
      fromCommittedAt: p.current.committedAt,
      fromAgeSeconds: ageSeconds(p.current.committedAt, p.now),
      fromIsRollback: p.current.isRollback,
    },
    incident: { targetsFiring: p.targetsFiring },
    history: { ...p.history },
    now: p.now.toISOString(),
  };
}
