import { IncomingWebhook, type IncomingWebhookSendArguments } from '@slack/webhook';
import { escapeSlack } from '../core/text.ts';

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
}

export interface Notifier {
  notify(event: RemediationEvent): Promise<void>;
}

export const noopNotifier: Notifier = { notify: async () => {} };

const HEADLINE: Record<NotifyKind, string> = {
  pr_opened: ':rewind: rollback pull request opened',
  auto_merge: ':hourglass: rollback pull request set to auto-merge (waiting for required checks)',
  merged: ':rewind: rolled back (merged)',
  not_healed: ':rotating_light: rollback did not heal: the alert still fires after the merge',
  denied: ':no_entry: rollback denied by policy',
  failed: ':x: rollback failed',
  closed: ':white_check_mark: alert resolved, rollback pull request closed',
  verified: ':white_check_mark: rollback verified (live and healthy)',
  unverified: ':warning: rollback NOT verified',
};

/** Slack message text; every alert-derived string is escaped for mrkdwn. */
export function formatSlackMessage(e: RemediationEvent): IncomingWebhookSendArguments & { text: string } {
  const change = e.from && e.to ? ` \`${escapeSlack(e.from)}\` → \`${escapeSlack(e.to)}\`` : '';
  const head = `${HEADLINE[e.kind]}${e.dryRun ? ' (dry run)' : ''}: *${escapeSlack(e.target)}* (${escapeSlack(e.environment)})${change}`;
  const lines = [
    head,
    `Alert: ${escapeSlack(e.alertName)} (${escapeSlack(e.severity)})`,
    ...(e.reasons.length ? [`Why: ${e.reasons.map((r) => escapeSlack(r)).join('; ')}`] : []),
    ...(e.error ? [`Error: ${escapeSlack(e.error, 500)}`] : []),
    ...(e.prUrl ? [`<${e.prUrl}|Pull request>`] : []),
    `Remediation \`${e.remediationId}\``,
  ];
  const text = lines.join('\n');
  return { text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] };
}

export function createSlackNotifier(url: string, opts: { timeoutMs?: number } = {}): Notifier {
  const webhook = new IncomingWebhook(url, { timeout: opts.timeoutMs ?? 5000 });
  return {
    async notify(event) {
      try {
        await webhook.send(formatSlackMessage(event));
      } catch (err) {
        // @slack/webhook request errors wrap the underlying error, URL included: never let that out.
        const status = (err as { statusCode?: unknown }).statusCode;
        throw new Error(`Slack notification failed${typeof status === 'number' ? ` (HTTP ${status})` : ''}`);
      }
    },
  };
}
