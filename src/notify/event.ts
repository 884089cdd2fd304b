import type { Alert } from '../core/types.ts';

/** The steps Slack hears about; the renderer gives a kind it does not know a neutral look. */
export type NotifyKind =
  | 'pr_opened'
  | 'auto_merge'
  | 'merged'
  | 'denied'
  | 'failed'
  | 'closed'
  | 'not_healed'
  | 'verified'
  | 'unverified';

export interface RemediationEvent {
  kind: NotifyKind;
  remediationId: string;
  target: string;
  environment: string;
  alertName: string;
  severity: string;
  from: string | null;
  to: string | null;
  reasons: readonly string[];
  prUrl: string | null;
  error: string | null;
  dryRun: boolean;
  /** the lead alert as received (untrusted): summary, runbook_url, generatorURL, externalURL for links */
  alert?: Alert;
  /** firing alerts in the incident */
  alertCount?: number;
  /** the policy's mode when it allowed the rollback */
  mode?: 'merge' | 'pull_request';
  prNumber?: number;
  /** when the remediation was received, and when this step happened (RFC 3339) */
  receivedAt?: string;
  at?: string;
  /** the Argo CD application's page, when the target has one */
  argocdAppUrl?: string;
}

export interface Notifier {
  notify(event: RemediationEvent): Promise<void>;
}
