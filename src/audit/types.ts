import type { Alert } from '../core/types.ts';
import type { Decision } from '../policy/types.ts';

export type RemediationState =
  | 'queued'
  | 'processing'
  | 'noop'
  | 'denied'
  | 'planned' // dry run: decided, nothing written
  | 'pr_opened'
  | 'merged'
  | 'failed'
  | 'closed';

export const TERMINAL_STATES: ReadonlySet<RemediationState> = new Set([
  'noop',
  'denied',
  'planned',
  'pr_opened',
  'merged',
  'failed',
  'closed',
]);

/** The audit record of one remediation, as the API returns it. */
export interface RemediationRecord {
  id: string;
  target: string;
  state: RemediationState;
  createdAt: string;
  updatedAt: string;
  /** every firing alert attached to this remediation (first = the one that created it) */
  alerts: Alert[];
  /** distinct targets firing in the notification that created it */
  targetsFiring: number;
  /** how often Alertmanager re-sent an incident already handled */
  seenAgain: number;
  change: { from: string; to: string | null; fromCommit: string; toCommit: string | null } | null;
  decision: Decision | null;
  pullRequest: { number: number; url: string; branch: string } | null;
  /** why nothing was done (noop), or the error of a failure */
  reason: string | null;
  error: string | null;
  dryRun: boolean;
  /** ISO timestamps of each step: received, processing, decided, pr_opened, merged, failed, resolved, closed */
  steps: Record<string, string>;
  timeToRecoverySeconds: number | null;
  /** the Slack message of this remediation (bot mode): updated in place, never posted twice */
  slack?: { channel: string; ts: string; posted: string[] } | null;
}

export type AdmitOutcome = 'created' | 'attached' | 'seen_again';

export interface Admission {
  outcome: AdmitOutcome;
  remediationId: string;
  state: RemediationState;
}
