/**
 * A remediation as a Slack Block Kit message. Pure: event in, message out.
 * Alert text is untrusted: escaped for mrkdwn (no <!channel>, no links, no
 * formatting), and every text cut to Block Kit's limits so Slack never
 * refuses the message (invalid_blocks) because an alert was long.
 */
import { escapeSlack, oneLine, safeUrl } from '../core/text.ts';
import type { RemediationEvent } from './event.ts';

/** Block Kit limits (docs.slack.dev/reference/block-kit): beyond them Slack answers invalid_blocks. */
export const LIMITS = {
  blocks: 50,
  headerText: 150,
  sectionText: 3000,
  fields: 10,
  fieldText: 2000,
  contextElements: 10,
  actionsElements: 25,
  buttonText: 75,
  buttonUrl: 3000,
  /** top-level text: Slack truncates at 40,000; a notification fallback needs far less */
  fallbackText: 3000,
} as const;

export interface TextObject {
  type: 'plain_text' | 'mrkdwn';
  text: string;
  emoji?: boolean;
}
export interface Button {
  type: 'button';
  text: TextObject;
  url: string;
  action_id: string;
  style?: 'primary' | 'danger';
}
export type Block =
  | { type: 'header'; text: TextObject }
  | { type: 'section'; text?: TextObject; fields?: TextObject[] }
  | { type: 'context'; elements: TextObject[] }
  | { type: 'actions'; elements: Button[] }
  | { type: 'divider' };

export interface SlackMessage {
  text: string;
  blocks: Block[];
}

interface Look {
  emoji: string;
  title: string;
}

/** Kinds other modules may add later fall back to a neutral look (see lookOf), never a crash. */
const LOOKS: Readonly<Record<string, Look>> = {
  pr_opened: { emoji: ':rewind:', title: 'Rollback pull request opened' },
  auto_merge: {
    emoji: ':hourglass:',
    title: 'Rollback pull request set to auto-merge (waiting for required checks)',
  },
  merged: { emoji: ':rewind:', title: 'Rolled back' },
  not_healed: {
    emoji: ':rotating_light:',
    title: 'Rollback did not heal: the alert still fires after the merge',
  },
  denied: { emoji: ':no_entry:', title: 'Rollback denied by policy' },
  failed: { emoji: ':x:', title: 'Rollback failed' },
  closed: { emoji: ':white_check_mark:', title: 'Alert resolved, rollback pull request closed' },
  verified: { emoji: ':white_check_mark:', title: 'Rollback verified (live and healthy)' },
  unverified: { emoji: ':warning:', title: 'Rollback NOT verified' },
};

export function lookOf(kind: string): Look {
  return (
    LOOKS[kind] ?? {
      emoji: ':information_source:',
      title: `Rollback ${oneLine(kind, 40).replace(/_/g, ' ')}`,
    }
  );
}

/**
 * Cuts escaped mrkdwn to `max` characters without leaving half an entity
 * (&am…) or a lone formatting mark that could pair with a later one.
 */
export function clampMrkdwn(s: string, max: number): string {
  if (s.length <= max) return s;
  const cut = s
    .slice(0, max - 1)
    .replace(/&[a-z]*$/, '')
    .replace(/[\u200b*_~`]+$/, '');
  return `${cut}…`;
}

const plain = (text: string, max: number): TextObject => ({
  type: 'plain_text',
  text: oneLine(text, max),
  emoji: true,
});
const md = (text: string, max: number = LIMITS.sectionText): TextObject => ({
  type: 'mrkdwn',
  text: clampMrkdwn(text, max),
});

/** Slack renders the reader's local time; the fallback is for clients that cannot. */
function slackTime(iso: string | undefined): string | null {
  const t = iso ? Date.parse(iso) : NaN;
  if (Number.isNaN(t)) return null;
  return `<!date^${Math.floor(t / 1000)}^{date_short_pretty} {time_secs}|${new Date(t).toISOString()}>`;
}

/** Alertmanager's "new silence" page prefilled with the alert's labels as matchers. */
export function silenceUrl(externalURL: string, labels: Readonly<Record<string, string>>): string | null {
  const base = safeUrl(externalURL);
  if (!base) return null;
  const quote = (v: string) => `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
  const valid = Object.entries(labels).filter(([k]) => /^[a-zA-Z_][a-zA-Z0-9_]*$/.test(k));
  const build = (entries: [string, string][]) =>
    `${base.replace(/\/+$/, '')}/#/silences/new?filter=${encodeURIComponent(`{${entries.map(([k, v]) => `${k}=${quote(v)}`).join(',')}}`)}`;
  // Every label makes the narrowest silence; a URL too long for a button falls back to the alert's name.
  const full = build(valid);
  if (full.length <= LIMITS.buttonUrl) return full;
  const name = valid.filter(([k]) => k === 'alertname');
  const short = build(name);
  return name.length && short.length <= LIMITS.buttonUrl ? short : null;
}

function buttons(e: RemediationEvent): Button[] {
  const out: Button[] = [];
  const add = (id: string, text: string, url: string | null, style?: 'primary') => {
    if (!url || url.length > LIMITS.buttonUrl) return;
    out.push({
      type: 'button',
      text: plain(text, LIMITS.buttonText),
      url,
      action_id: id,
      ...(style ? { style } : {}),
    });
  };
  add(
    'pull_request',
    e.prNumber ? `Pull request #${e.prNumber}` : 'Pull request',
    safeUrl(e.prUrl ?? undefined),
    'primary',
  );
  const alert = e.alert;
  if (alert?.externalURL) {
    add('alertmanager', 'Alertmanager', safeUrl(alert.externalURL, LIMITS.buttonUrl));
    add('silence', 'Silence', silenceUrl(alert.externalURL, alert.labels));
  }
  add('graph', 'Graph', safeUrl(alert?.generatorURL, LIMITS.buttonUrl));
  add('runbook', 'Runbook', safeUrl(alert?.annotations.runbook_url, LIMITS.buttonUrl));
  add('argocd', 'Argo CD', safeUrl(e.argocdAppUrl, LIMITS.buttonUrl));
  return out.slice(0, LIMITS.actionsElements);
}

function fields(e: RemediationEvent): TextObject[] {
  const f = (label: string, value: string) => md(`*${label}*\n${value}`, LIMITS.fieldText);
  const more = e.alertCount && e.alertCount > 1 ? ` (+${e.alertCount - 1} more)` : '';
  const out = [
    f('Target', `\`${escapeSlack(e.target, 100)}\``),
    f('Environment', escapeSlack(e.environment || 'unknown', 60)),
  ];
  if (e.from && e.to)
    out.push(f('Change', `\`${escapeSlack(e.from, 200)}\` → \`${escapeSlack(e.to, 200)}\``));
  else if (e.from) out.push(f('Current version', `\`${escapeSlack(e.from, 200)}\``));
  out.push(
    f(
      'Alert',
      `${escapeSlack(e.alertName || 'unknown', 200)} (${escapeSlack(e.severity || 'none', 30)})${more}`,
    ),
  );
  if (e.mode) out.push(f('Policy', e.mode === 'merge' ? 'merge automatically' : 'pull request for review'));
  return out.slice(0, LIMITS.fields);
}

export function renderSlackMessage(e: RemediationEvent): SlackMessage {
  const look = lookOf(e.kind);
  const dry = e.dryRun ? ' (dry run)' : '';
  const to = e.kind === 'merged' && e.to ? ` to ${e.to}` : '';
  const blocks: Block[] = [
    { type: 'header', text: plain(`${look.emoji} ${look.title}${to}: ${e.target}${dry}`, LIMITS.headerText) },
    { type: 'section', fields: fields(e) },
  ];
  if (e.reasons.length) {
    const listed = e.reasons.slice(0, 20).map((r) => `• ${escapeSlack(r, 500)}`);
    const why = [...listed, ...(e.reasons.length > 20 ? [`…and ${e.reasons.length - 20} more`] : [])].join(
      '\n',
    );
    blocks.push({ type: 'section', text: md(`*Why*\n${why}`) });
  }
  const summary = e.alert?.annotations.summary ?? e.alert?.annotations.description;
  if (summary) blocks.push({ type: 'section', text: md(`*Summary*\n${escapeSlack(summary, 1000)}`) });
  if (e.error) blocks.push({ type: 'section', text: md(`*Error*\n${escapeSlack(e.error, 1000)}`) });
  const times = [
    `Remediation \`${oneLine(e.remediationId, 80).replace(/[`&<>]/g, '')}\``,
    ...(slackTime(e.receivedAt) ? [`received ${slackTime(e.receivedAt)}`] : []),
    ...(slackTime(e.at) ? [`${escapeSlack(e.kind, 40).replace(/_/g, ' ')} ${slackTime(e.at)}`] : []),
  ];
  blocks.push({ type: 'context', elements: [md(times.join(' · '))] });
  const actions = buttons(e);
  if (actions.length) blocks.push({ type: 'actions', elements: actions });

  const change = e.from && e.to ? ` ${escapeSlack(`${e.from} → ${e.to}`, 300)}` : '';
  const text = clampMrkdwn(
    `${look.title}${dry}: ${escapeSlack(e.target, 100)}${change} (alert ${escapeSlack(e.alertName || 'unknown', 200)})`,
    LIMITS.fallbackText,
  );
  return { text, blocks: blocks.slice(0, LIMITS.blocks) };
}

/** One line for a thread reply: the step, when, and why. */
export function renderThreadReply(e: RemediationEvent): SlackMessage {
  const look = lookOf(e.kind);
  const at = slackTime(e.at);
  const lines = [
    `${look.emoji} *${look.title}*${at ? ` ${at}` : ''}`,
    ...(e.error ? [`Error: ${escapeSlack(e.error, 1000)}`] : []),
    ...(e.reasons.length ? [`Why: ${e.reasons.map((r) => escapeSlack(r, 300)).join('; ')}`] : []),
  ];
  const text = md(lines.join('\n')).text;
  return { text, blocks: [{ type: 'section', text: md(text) }] };
}
