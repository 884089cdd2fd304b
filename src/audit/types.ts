import type { Alert } from '../core/types.ts';
import type { Decision } from '../policy/types.ts';
import type { RemediationState } from '../remediation/lifecycle.ts';

export type { RemediationState } from '../remediation/lifecycle.ts';
export { TERMINAL_STATES } from '../remediation/lifecycle.ts';

/** The audit record of one remediation, as the API returns it. */
export interface RemediationRecord {
  id: string;
  target: string;
  state: RemediationState;
  createdAt: string;
  updatedAt: string;
  /** the firing alerts attached to this remediation (first = the one that created it), at most 100 */
  alerts: Alert[];
  /** alerts attached beyond that cap, only counted */
  alertsDropped: number;
  /** distinct targets firing in the notification that created it */
  targetsFiring: number;
  /** how often Alertmanager re-sent an incident already handled */
  seenAgain: number;
  change: { from: string; to: string | null; fromCommit: string; toCommit: string | null } | null;
  decision: Decision | null;
  pullRequest: { number: number; url: string; branch: string } | null;
  /** the commit the rollback landed as on the base branch (checkpointed as soon as GitHub says merged) */
  mergeCommit: string | null;
  /** still firing `verifyAfter` after the merge: the rollback did not heal */
  notHealed: boolean;
  /** why nothing was done (noop), or the error of a failure */
  reason: string | null;
  error: string | null;
  dryRun: boolean;
  /** ISO timestamps of each step: received, deciding, decided, pr_proposed, pr_opened, auto_merge, merged, failed, resolved, closed, not_healed, retried */
  steps: Record<string, string>;
  timeToRecoverySeconds: number | null;
}

export type AdmitOutcome = 'created' | 'attached' | 'seen_again';

export interface Admission {
  outcome: AdmitOutcome;
  remediationId: string;
  state: RemediationState;
}
