/**
 * A local Slack: the Web API methods rewind calls (chat.postMessage,
 * chat.update) and an incoming webhook, answering as Slack does. It checks
 * the bot token (not_authed / invalid_auth), resolves channels by name or id
 * (channel_not_found; chat.update takes ids only), keeps messages and threads
 * by ts (message_not_found), and enforces Block Kit's documented limits
 * (invalid_blocks): a renderer that would be refused by Slack is refused here.
 * Any other path or method is recorded as unknown and fails the test.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SlackMessageRecord {
  ts: string;
  channel: string;
  text: string;
  blocks: unknown[];
  threadTs?: string;
  /** how often chat.update rewrote it */
  edits: number;
}

export interface SlackRequest {
  path: string;
  method: string;
  /** the API method's arguments (or the webhook body), parsed */
  args: Record<string, unknown>;
  /** the raw Authorization header, to check nothing else carries the token */
  authorization: string | undefined;
  ok: boolean;
  error?: string;
}

export interface SlackEmulator {
  /** base for WebClient's slackApiUrl: http://127.0.0.1:PORT/api/ */
  apiUrl: string;
  /** the incoming webhook URL (its last part is a secret, as in Slack's) */
  webhookUrl: string;
  token: string;
  /** channel id → name */
  channels: ReadonlyMap<string, string>;
  messages: SlackMessageRecord[];
  requests: SlackRequest[];
  unknown: string[];
  /** top-level messages of a channel (no thread replies) */
  topLevel(channel: string): SlackMessageRecord[];
  replies(channel: string, ts: string): SlackMessageRecord[];
  /** make the next `n` API calls fail with this error (e.g. ratelimited handled by the client) */
  failNext(error: string, n?: number): void;
  assertNoUnknownRequests(): void;
  close(): Promise<void>;
}

/** Block Kit limits (docs.slack.dev/reference/block-kit): the emulator refuses what Slack refuses. */
const MAX = {
  blocks: 50,
  header: 150,
  sectionText: 3000,
  fields: 10,
  field: 2000,
  contextElements: 10,
  contextText: 3000,
  actions: 25,
  buttonText: 75,
  url: 3000,
  actionId: 255,
  /**
   * Undocumented: Slack refuses a message whose blocks hold about 13,000 characters of text
   * with msg_blocks_too_long (slackapi/bolt-js#2509). Modelled conservatively at 12,000.
   */
  totalText: 12_000,
} as const;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function textObject(v: unknown, where: string, max: number, errors: string[], plainOnly = false): number {
  if (!isObj(v) || (v.type !== 'plain_text' && v.type !== 'mrkdwn') || typeof v.text !== 'string') {
    errors.push(`${where}: must be a text object`);
    return 0;
  }
  if (plainOnly && v.type !== 'plain_text') errors.push(`${where}: must be plain_text`);
  if (v.text.length === 0) errors.push(`${where}: must be at least 1 character`);
  // Slack counts characters as JavaScript does here (UTF-16 code units) closely enough for these limits.
  if (v.text.length > max) errors.push(`${where}: must be less than ${max + 1} characters`);
  return v.text.length;
}

/** Returns Slack's error strings for invalid blocks (empty when Slack would accept them). */
export function validateBlocks(blocks: unknown): { errors: string[]; tooLong: boolean } {
  const errors: string[] = [];
  if (!Array.isArray(blocks)) return { errors: ['blocks: must be an array'], tooLong: false };
  if (blocks.length > MAX.blocks)
    errors.push(`must provide at most ${MAX.blocks} items [json-pointer:/blocks]`);
  let total = 0;
  blocks.forEach((b, i) => {
    const at = `[json-pointer:/blocks/${i}]`;
    if (!isObj(b)) return void errors.push(`${at}: must be an object`);
    switch (b.type) {
      case 'header':
        total += textObject(b.text, `${at}/text`, MAX.header, errors, true);
        break;
      case 'section': {
        if (b.text === undefined && b.fields === undefined) errors.push(`${at}: must provide text or fields`);
        if (b.text !== undefined) total += textObject(b.text, `${at}/text`, MAX.sectionText, errors);
        if (b.fields !== undefined) {
          if (!Array.isArray(b.fields) || b.fields.length === 0)
            errors.push(`${at}/fields: must be a non-empty array`);
          else {
            if (b.fields.length > MAX.fields)
              errors.push(`${at}/fields: must provide at most ${MAX.fields} items`);
            b.fields.forEach((f, j) => (total += textObject(f, `${at}/fields/${j}`, MAX.field, errors)));
          }
        }
        break;
      }
      case 'context':
        if (!Array.isArray(b.elements) || b.elements.length === 0)
          errors.push(`${at}/elements: must be a non-empty array`);
        else {
          if (b.elements.length > MAX.contextElements)
            errors.push(`${at}/elements: at most ${MAX.contextElements} items`);
          b.elements.forEach(
            (e, j) => (total += textObject(e, `${at}/elements/${j}`, MAX.contextText, errors)),
          );
        }
        break;
      case 'actions': {
        if (!Array.isArray(b.elements) || b.elements.length === 0) {
          errors.push(`${at}/elements: must be a non-empty array`);
          break;
        }
        if (b.elements.length > MAX.actions) errors.push(`${at}/elements: at most ${MAX.actions} items`);
        const ids = new Set<string>();
        b.elements.forEach((e, j) => {
          const where = `${at}/elements/${j}`;
          if (!isObj(e) || e.type !== 'button') return void errors.push(`${where}: unsupported element`);
          total += textObject(e.text, `${where}/text`, MAX.buttonText, errors, true);
          if (
            e.url !== undefined &&
            (typeof e.url !== 'string' || e.url.length > MAX.url || !/^https?:\/\//.test(e.url))
          )
            errors.push(`${where}/url: must be a URL of at most ${MAX.url} characters`);
          if (typeof e.action_id === 'string') {
            if (e.action_id.length > MAX.actionId) errors.push(`${where}/action_id: too long`);
            if (ids.has(e.action_id)) errors.push(`${where}/action_id: must be unique in the block`);
            ids.add(e.action_id);
          }
          if (e.style !== undefined && e.style !== 'primary' && e.style !== 'danger')
            errors.push(`${where}/style: must be primary or danger`);
        });
        break;
      }
      case 'divider':
        break;
      default:
        errors.push(`${at}: unsupported type ${String(b.type)}`);
    }
  });
  return { errors, tooLong: errors.length === 0 && total > MAX.totalText };
}

async function readBody(req: IncomingMessage): Promise<string> {
  let data = '';
  for await (const chunk of req) data += String(chunk);
  return data;
}

/** WebClient sends form-encoded arguments with objects as JSON strings; JSON bodies are accepted too. */
function parseArgs(raw: string, contentType: string): Obj {
  if (contentType.includes('application/json')) return JSON.parse(raw) as Obj;
  const args: Obj = {};
  for (const [k, v] of new URLSearchParams(raw)) {
    args[k] = k === 'blocks' || k === 'attachments' || k === 'metadata' ? JSON.parse(v) : v;
  }
  return args;
}

export async function startSlackEmulator(opts: { token?: string } = {}): Promise<SlackEmulator> {
  const token = opts.token ?? 'xoxb-emulator-0000-secret';
  const webhookPath = '/services/T0001/B0001/emulatorwebhooksecret';
  const channels = new Map([
    ['C0REWIND01', 'rewind'],
    ['C0OPS00002', 'ops'],
  ]);
  const messages: SlackMessageRecord[] = [];
  const requests: SlackRequest[] = [];
  const unknown: string[] = [];
  let failures: { error: string; n: number } | null = null;
  let clock = 1_700_000_000;
  let seq = 0;
  const nextTs = () => `${clock + Math.floor(seq / 1000)}.${String(++seq % 1_000_000).padStart(6, '0')}`;

  const channelId = (c: unknown, idOnly: boolean): string | null => {
    if (typeof c !== 'string' || c === '') return null;
    if (channels.has(c)) return c;
    if (idOnly) return null;
    const name = c.replace(/^#/, '');
    return [...channels].find(([, n]) => n === name)?.[0] ?? null;
  };

  function api(method: string, args: Obj, auth: string | undefined): Obj {
    const presented =
      /^Bearer (\S+)$/.exec(auth ?? '')?.[1] ?? (typeof args.token === 'string' ? args.token : undefined);
    if (!presented) return { ok: false, error: 'not_authed' };
    if (presented !== token) return { ok: false, error: 'invalid_auth' };
    if (failures && failures.n > 0) {
      failures.n -= 1;
      return { ok: false, error: failures.error };
    }
    const text = typeof args.text === 'string' ? args.text : '';
    if (args.blocks !== undefined) {
      const { errors, tooLong } = validateBlocks(args.blocks);
      if (errors.length)
        return { ok: false, error: 'invalid_blocks', response_metadata: { messages: errors } };
      if (tooLong) return { ok: false, error: 'msg_blocks_too_long' };
    } else if (text === '') return { ok: false, error: 'no_text' };
    if (text.length > 40_000) return { ok: false, error: 'msg_too_long' };
    const blocks = (args.blocks as unknown[] | undefined) ?? [];
    if (method === 'chat.postMessage') {
      const channel = channelId(args.channel, false);
      if (!channel) return { ok: false, error: 'channel_not_found' };
      const threadTs = typeof args.thread_ts === 'string' ? args.thread_ts : undefined;
      if (threadTs && !messages.some((m) => m.channel === channel && m.ts === threadTs && !m.threadTs))
        return { ok: false, error: 'thread_not_found' };
      const msg: SlackMessageRecord = {
        ts: nextTs(),
        channel,
        text,
        blocks,
        edits: 0,
        ...(threadTs ? { threadTs } : {}),
      };
      messages.push(msg);
      return { ok: true, channel, ts: msg.ts, message: { type: 'message', text, blocks, ts: msg.ts } };
    }
    // chat.update
    const channel = channelId(args.channel, true);
    if (!channel) return { ok: false, error: 'channel_not_found' };
    const msg = messages.find((m) => m.channel === channel && m.ts === args.ts);
    if (!msg) return { ok: false, error: 'message_not_found' };
    Object.assign(msg, { text, blocks, edits: msg.edits + 1 });
    return { ok: true, channel, ts: msg.ts, text, message: { text, blocks } };
  }

  const server: Server = createServer((req, res) => {
    void (async () => {
      const raw = await readBody(req);
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      const send = (status: number, body: string | Obj) => {
        res.writeHead(status, {
          'content-type': typeof body === 'string' ? 'text/plain' : 'application/json; charset=utf-8',
        });
        res.end(typeof body === 'string' ? body : JSON.stringify(body));
      };
      const m = /^\/api\/(chat\.postMessage|chat\.update)$/.exec(path);
      if (req.method === 'POST' && m?.[1]) {
        const args = parseArgs(raw, req.headers['content-type'] ?? '');
        const out = api(m[1], args, req.headers.authorization);
        requests.push({
          path,
          method: m[1],
          args,
          authorization: req.headers.authorization,
          ok: out.ok === true,
          ...(typeof out.error === 'string' ? { error: out.error } : {}),
        });
        return send(200, out);
      }
      if (req.method === 'POST' && path.startsWith('/services/')) {
        // Incoming webhooks answer in plain text, with 4xx for a refused message.
        if (path !== webhookPath) return send(404, 'no_service');
        const args = JSON.parse(raw) as Obj;
        const { errors, tooLong } = validateBlocks(args.blocks ?? []);
        const error = errors.length ? 'invalid_blocks' : tooLong ? 'msg_blocks_too_long' : undefined;
        requests.push({
          path: '/services/…',
          method: 'webhook',
          args,
          authorization: req.headers.authorization,
          ok: !error,
          ...(error ? { error } : {}),
        });
        if (error) return send(400, error);
        messages.push({
          ts: nextTs(),
          channel: 'C0REWIND01',
          text: String(args.text ?? ''),
          blocks: (args.blocks as unknown[]) ?? [],
          edits: 0,
        });
        return send(200, 'ok');
      }
      unknown.push(`${req.method} ${path}`);
      send(404, { ok: false, error: 'unknown_method' });
    })().catch((err: unknown) => {
      unknown.push(`error ${String(err)}`);
      res.writeHead(500).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  clock = Math.floor(Date.now() / 1000);
  return {
    apiUrl: `${base}/api/`,
    webhookUrl: `${base}${webhookPath}`,
    token,
    channels,
    messages,
    requests,
    unknown,
    topLevel: (channel) => messages.filter((m) => m.channel === channel && !m.threadTs),
    replies: (channel, ts) => messages.filter((m) => m.channel === channel && m.threadTs === ts),
    failNext(error, n = 1) {
      failures = { error, n };
    },
    assertNoUnknownRequests() {
      if (unknown.length)
        throw new Error(`Slack emulator got requests it does not know: ${unknown.join(', ')}`);
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
