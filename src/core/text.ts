/**
 * Escaping for untrusted alert content. Alert labels and annotations may
 * contain anything; they must never forge a commit trailer, a Markdown link,
 * an @-mention or a Slack broadcast.
 */

const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

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

/**
 * An untrusted URL fit for a link: http(s) only, normalised by the WHATWG
 * parser (spaces, quotes, < and > percent-encoded), with the characters that
 * end a Markdown link target or a Slack <url|text> link encoded as well.
 * Anything else (javascript:, relative, unparsable, too long) is null.
 */
export function safeUrl(raw: string | undefined, max = 2000): string | null {
  if (!raw) return null;
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  const href = url.href.replace(/[()|\\ ]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return href.length > max ? null : href;
}
