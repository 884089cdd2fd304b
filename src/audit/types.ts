import type { Alert } from '../core/types.ts';
import type { Decision } from '../policy/types.ts';
import type { RemediationState } from '../remediation/lifecycle.ts';

export type { RemediationState } from '../remediation/lifecycle.ts';
export { MERGED_STATES, TERMINAL_STATES } from '../remediation/lifecycle.ts';

/** What the GitOps engine said about a merged rollback (SPEC "After the merge"). */
export interface Verification {
  engine: 'argocd' | 'flux';
  mergeCommit: string;
  mergedAt: string;
  /** verify.timeout after mergedAt */
  deadline: string;
  result: 'pending' | 'verified' | 'unverified';
  /** the last thing the engine said (why pending, verified or not) */
  reason: string | null;
  /** merge → verdict, in seconds */
  seconds: number | null;
}

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
  /** the Slack message of this remediation (bot mode): updated in place, never posted twice */
  slack?: { channel: string; ts: string; posted: string[] } | null;
  /** set once the rollback merged and a GitOps engine is configured */
  verification: Verification | null;
}

export type AdmitOutcome = 'created' | 'attached' | 'seen_again';

export interface Admission {
  outcome: AdmitOutcome;
  remediationId: string;
  state: RemediationState;
  /** the remediation's job is in the queue already (known only when the store was given its job key prefix) */
  jobQueued?: boolean;
}
