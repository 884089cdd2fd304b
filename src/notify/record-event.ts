/**
 * A remediation record as the event Slack hears about: the same fields for
 * every step (pr_opened … verified), so each message, wherever it is sent
 * from (the lifecycle's effects, the verifier), renders the full Block Kit
 * message and a bot updates one message in place.
 */
import { leadAlert } from '../core/alerts.ts';
import type { Target } from '../core/types.ts';
import type { RemediationRecord } from '../audit/types.ts';
import type { NotifyKind, RemediationEvent } from './event.ts';

/**
 * The Application's page in the Argo CD UI, served by the API server rewind
 * talks to: /applications/<app namespace>/<app> ("argocd" when the target
 * names none, Argo CD's own namespace by default).
 */
export function argocdAppUrl(
  argocdUrl: string | null | undefined,
  target: Target | undefined,
): string | undefined {
  const app = target?.argocd?.app;
  if (!argocdUrl || !app) return undefined;
  const ns = target.argocd?.appNamespace || 'argocd';
  return `${argocdUrl.replace(/\/+$/, '')}/applications/${encodeURIComponent(ns)}/${encodeURIComponent(app)}`;
}

export interface RecordEventOptions {
  reasons: readonly string[];
  error: string | null;
  now: Date;
  /** Argo CD API/UI base URL (config argocd.url), for the Application button */
  argocdUrl?: string | null | undefined;
}

export function eventFromRecord(
  rec: RemediationRecord,
  target: Target | undefined,
  kind: NotifyKind,
  o: RecordEventOptions,
): RemediationEvent {
  const lead = rec.alerts.length ? leadAlert(rec.alerts) : undefined;
  const firing = rec.alerts.filter((a) => a.status === 'firing').length || rec.alerts.length;
  const appUrl = argocdAppUrl(o.argocdUrl, target);
  const prNumber = rec.pullRequest?.number;
  return {
    kind,
    remediationId: rec.id,
    target: rec.target,
    environment: target?.environment ?? '',
    alertName: lead?.labels.alertname ?? '',
    severity: lead?.labels.severity ?? '',
    from: rec.change?.from ?? null,
    to: rec.change?.to ?? null,
    reasons: o.reasons,
    prUrl: rec.pullRequest?.url ?? null,
    error: o.error,
    dryRun: rec.dryRun,
    // what Block Kit shows beyond the basics: links, the incident's size, the policy mode, times
    ...(lead ? { alert: lead } : {}),
    // alerts the record dropped past its cap still count
    alertCount: firing + rec.alertsDropped,
    ...(rec.decision?.allow ? { mode: rec.decision.mode } : {}),
    ...(prNumber !== undefined ? { prNumber } : {}),
    receivedAt: rec.createdAt,
    at: o.now.toISOString(),
    ...(appUrl ? { argocdAppUrl: appUrl } : {}),
  };
}
