/**
 * Slack through a bot token: one message per remediation, posted once and
 * updated in place as it moves on, with each later step as a reply in its
 * thread. Where the message lives (channel id + ts) and which steps were
 * replied are written down after each call, so a retried job updates the
 * message instead of posting a second one.
 */
import { ErrorCode, WebClient, LogLevel, type Block as SlackBlock, type KnownBlock } from '@slack/web-api';
import { renderSlackMessage, renderThreadReply, type SlackMessage } from './blocks.ts';
import type { Notifier, RemediationEvent } from './event.ts';
import { SpanKind, withSpan } from '../observability/tracing.ts';

export interface SlackThread {
  /** channel id as Slack answered (chat.update takes ids, not names) */
  channel: string;
  ts: string;
  /** steps already replied in the thread (or shown by the first post) */
  posted: string[];
}

/** Where a remediation's message is; the runtime keeps it on the audit record. */
export interface SlackThreads {
  get(remediationId: string): Promise<SlackThread | null>;
  save(remediationId: string, thread: SlackThread): Promise<void>;
}

export interface SlackBotOptions {
  token: string;
  /** channel name (#rewind) or id */
  channel: string;
  threads: SlackThreads;
  /** https://slack.com/api/ unless pointed elsewhere (tests: the emulator) */
  apiUrl?: string;
  /** retries inside one call (rate limits, 5xx); the job's own retries come on top */
  retries?: number;
  timeoutMs?: number;
}

/** Slack's error code only: a request error could carry the URL or the headers, never the token out. */
function slackError(method: string, err: unknown): Error {
  const e = err as { code?: unknown; data?: { error?: unknown } };
  if (e.code === ErrorCode.PlatformError && typeof e.data?.error === 'string')
    return new Error(`Slack ${method} failed: ${e.data.error}`);
  if (e.code === ErrorCode.RateLimitedError) return new Error(`Slack ${method} failed: rate limited`);
  return new Error(`Slack ${method} failed: request error`);
}

const asBlocks = (m: SlackMessage) => m.blocks as unknown as (KnownBlock | SlackBlock)[];

export function createSlackBotNotifier(opts: SlackBotOptions): Notifier {
  const client = new WebClient(opts.token, {
    slackApiUrl: opts.apiUrl ?? 'https://slack.com/api/',
    retryConfig: { retries: opts.retries ?? 2, minTimeout: 200, maxTimeout: 2_000 },
    timeout: opts.timeoutMs ?? 5_000,
    logLevel: LogLevel.ERROR,
  });

  async function call<T>(method: string, fn: () => Promise<T>): Promise<T> {
    return withSpan(
      `slack ${method}`,
      { kind: SpanKind.CLIENT, attributes: { 'peer.service': 'slack' } },
      async () => {
        try {
          return await fn();
        } catch (err) {
          throw slackError(method, err);
        }
      },
    );
  }

  return {
    async notify(event: RemediationEvent) {
      const message = renderSlackMessage(event);
      const id = event.remediationId;
      const thread = await opts.threads.get(id);
      if (!thread) {
        const res = await call('chat.postMessage', () =>
          client.chat.postMessage({ channel: opts.channel, text: message.text, blocks: asBlocks(message) }),
        );
        if (!res.channel || !res.ts)
          throw new Error('Slack chat.postMessage failed: no channel or ts in the answer');
        await opts.threads.save(id, { channel: res.channel, ts: res.ts, posted: [event.kind] });
        return;
      }
      await call('chat.update', () =>
        client.chat.update({
          channel: thread.channel,
          ts: thread.ts,
          text: message.text,
          blocks: asBlocks(message),
        }),
      );
      if (thread.posted.includes(event.kind)) return; // a retry of a step already in the thread
      const reply = renderThreadReply(event);
      await call('chat.postMessage', () =>
        client.chat.postMessage({
          channel: thread.channel,
          thread_ts: thread.ts,
          text: reply.text,
          blocks: asBlocks(reply),
        }),
      );
      await opts.threads.save(id, { ...thread, posted: [...thread.posted, event.kind] });
    },
  };
}
