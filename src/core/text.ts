/**
 * Escaping for untrusted alert content. Alert labels and annotations may
 * contain anything; they must never forge a commit trailer, a Markdown link,
 * an @-mention or a Slack broadcast.
 */

const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;
// bidi embeddings, overrides, isolates and marks: they make text read differently than it is (U+202E)
const BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
const ZWSP = '\u200b';

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
  const flat = s.replace(BIDI, '').replace(CONTROL, ' ').replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/**
 * GitHub-flavoured Markdown: backslash-escape syntax, break @mentions, #refs
 * and autolinks (scheme:// and bare www.), no raw HTML, no entities (`&commat;`
 * would turn back into an @).
 */
export function escapeMarkdown(s: string, max = 500): string {
  return oneLine(s, max)
    .replace(/&/g, '&amp;')
    .replace(/[\\`*_[\]()#!|~>]/g, (c) => `\\${c}`)
    .replace(/</g, '&lt;')
    .replace(/@/g, `@${ZWSP}`)
    .replace(/:\/\//g, `:${ZWSP}//`)
    .replace(/\bwww\./gi, (w) => `${w.slice(0, 3)}${ZWSP}.`);
}

/**
 * Plain text for a commit message (it stays on the base branch after a squash
 * merge). GitHub renders commit messages as text but autolinks @user,
 * @org/team, #1, org/repo#1, GH-1 and URLs, and a closing keyword ("fixes #1")
 * closes the issue: a zero-width space breaks each, the words stay readable.
 */
export function escapeCommitText(s: string, max = 120): string {
  return oneLine(s, max)
    .replace(/[@#<]/g, (c) => `${c}${ZWSP}`)
    .replace(/\bGH-/gi, (g) => `${g.slice(0, 2)}${ZWSP}-`)
    .replace(/:\/\//g, `:${ZWSP}//`)
    .replace(/\bwww\./gi, (w) => `${w.slice(0, 3)}${ZWSP}.`);
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
