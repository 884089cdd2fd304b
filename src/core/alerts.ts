import type { Alert, Target } from './types.ts';
import type { TargetIndex } from './targets.ts';

/** An incident is an alert's fingerprint + startsAt (SPEC): repeats of it are "seen again". */
export function incidentKey(alert: Pick<Alert, 'fingerprint' | 'startsAt'>): string {
  return `${alert.fingerprint}@${alert.startsAt}`;
}

export interface FiringGroup {
  target: Target;
  /** every firing alert of this notification that selects the target */
  alerts: Alert[];
}

export interface Resolution {
  target: Target;
  alert: Alert;
}

export interface Triage {
  received: number;
  firing: FiringGroup[];
  resolutions: Resolution[];
  /** alerts that select no target */
  ignored: number;
  /** distinct targets with a firing alert in this notification (policy input incident.targetsFiring) */
  targetsFiring: number;
}

/**
 * Alertmanager notification → what to do, per target. Alerts only select
 * among configured targets; nothing in an alert names a repo, path or tag.
 * An alert that selects several targets counts once toward each.
 */
export function triage(alerts: readonly Alert[], targets: TargetIndex): Triage {
  const firing = new Map<string, FiringGroup>();
  const resolutions: Resolution[] = [];
  let ignored = 0;
  for (const alert of alerts) {
    const matched = targets.match(alert.labels);
    if (matched.length === 0) {
      ignored++;
      continue;
    }
    for (const target of matched) {
      if (alert.status === 'resolved') {
        resolutions.push({ target, alert });
        continue;
      }
      const group = firing.get(target.name) ?? { target, alerts: [] };
      group.alerts.push(alert);
      firing.set(target.name, group);
    }
  }
  return {
    received: alerts.length,
    firing: [...firing.values()],
    resolutions,
    ignored,
    targetsFiring: firing.size,
  };
}

const SEVERITY_RANK: Record<string, number> = { critical: 0, error: 1, warning: 2, info: 3 };

/** The alert that speaks for a group: most severe, then earliest. */
export function leadAlert(alerts: readonly Alert[]): Alert {
  const sorted = [...alerts].sort((a, b) => {
    const ra = SEVERITY_RANK[a.labels.severity ?? ''] ?? 9;
    const rb = SEVERITY_RANK[b.labels.severity ?? ''] ?? 9;
    return ra - rb || a.startsAt.localeCompare(b.startsAt) || a.fingerprint.localeCompare(b.fingerprint);
  });
  const lead = sorted[0];
  if (!lead) throw new Error('leadAlert: no alerts');
  return lead;
}
