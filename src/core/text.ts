/**
 * Escaping for untrusted alert content. Alert labels and annotations may
 * contain anything; they must never forge a commit trailer, a Markdown link,
 * an @-mention or a Slack broadcast.
 */

const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

const TRUNCATED = '… [truncated]';

/** `s` cut to at most `max` characters, ending in "… [truncated]" when cut (never splits a surrogate pair). */
export function truncateText(s: string, max: number): string {
  if (s.length <= max) return s;
  let end = Math.max(0, max - TRUNCATED.length);
  const last = s.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${s.slice(0, end)}${TRUNCATED}`;
}

/** One line, printable, bounded: safe to place inside a commit message or title. */
export function oneLine(s: string, max = 120): string {
  const flat = s.replace(CONTROL, ' ').replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** GitHub-flavoured Markdown: backslash-escape syntax, break @mentions and #refs, no raw HTML. */
export function escapeMarkdown(s: string, max = 500): string {
  return oneLine(s, max)
    .replace(/[\\`*_[\]()#!|~>]/g, (c) => `\\${c}`)
    .replace(/</g, '&lt;')
    .replace(/@/g, '@\u200b')
    .replace(/:\/\//g, ':\u200b//');
}

/** Slack mrkdwn: &, <, > are the control characters (links, <!channel>); formatting marks are neutralised. */
export function escapeSlack(s: string, max = 300): string {
  return oneLine(s, max)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/[*_~`]/g, (c) => `\u200b${c}\u200b`);
}

/** A git ref component: only characters git and GitHub accept without quoting. */
export function refComponent(s: string): string {
  // cut before trimming, so a cut never leaves a trailing "." or ".lock" (git refuses both)
  const cleaned = s
    .replace(/[^A-Za-z0-9._-]/g, '-')
    .replace(/\.{2,}/g, '.')
    .slice(0, 100)
    .replace(/^[.-]+|[.-]+$/g, '')
    .replace(/\.lock$/i, '-lock');
  return cleaned || 'x';
}
