import { IncomingWebhook, type IncomingWebhookSendArguments } from '@slack/webhook';
import { renderSlackMessage, type SlackMessage } from './blocks.ts';
import type { Notifier, RemediationEvent } from './event.ts';
import { SpanKind, withSpan } from '../observability/tracing.ts';

export type { NotifyKind, Notifier, RemediationEvent } from './event.ts';

export const noopNotifier: Notifier = { notify: async () => {} };

/** The incoming-webhook body: the Block Kit message (see blocks.ts). */
export function formatSlackMessage(e: RemediationEvent): IncomingWebhookSendArguments & SlackMessage {
  return renderSlackMessage(e);
}

export function createSlackNotifier(url: string, opts: { timeoutMs?: number } = {}): Notifier {
  const webhook = new IncomingWebhook(url, { timeout: opts.timeoutMs ?? 5000 });
  return {
    async notify(event) {
      try {
        await withSpan(
          'slack webhook',
          { kind: SpanKind.CLIENT, attributes: { 'peer.service': 'slack' } },
          () => webhook.send(formatSlackMessage(event)),
        );
      } catch (err) {
        // @slack/webhook request errors wrap the underlying error, URL included: never let that out.
        const status = (err as { statusCode?: unknown }).statusCode;
        throw new Error(`Slack notification failed${typeof status === 'number' ? ` (HTTP ${status})` : ''}`);
      }
    },
  };
}
