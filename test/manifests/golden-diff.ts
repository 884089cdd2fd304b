/**
 * Checks that a before/after pair differs only inside version text: every
 * changed line differs only in bytes belonging to the old/new tag or digest
 * (quotes included), and added/removed lines are only `newTag:`/`digest:` keys.
 */
import assert from 'node:assert/strict';
import type { ImageVersion } from '../../src/core/types.ts';
import { formatVersion } from '../../src/core/version.ts';

function versionTexts(v: ImageVersion): string[] {
  return [v.tag, v.digest, formatVersion(v)].filter((s): s is string => s !== undefined && s !== '');
}

function commonPrefix(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

function commonSuffix(a: string, b: string, prefix: number): number {
  let i = 0;
  while (i < a.length - prefix && i < b.length - prefix && a[a.length - 1 - i] === b[b.length - 1 - i]) i++;
  return i;
}

/** `chunk` with quotes stripped lies within one of the version texts (or is empty). */
function withinVersion(chunk: string, v: ImageVersion): boolean {
  const bare = chunk.replace(/["']/g, '');
  if (bare === '') return true;
  return versionTexts(v).some((t) => t.includes(bare) || `:${t}`.includes(bare) || `@${t}`.includes(bare));
}

const KEY_LINE = /^\s*(?:newTag|digest): /;
const FLOW_PAIR = /^, (?:newTag|digest): /;

export function assertDiffConfined(
  before: string,
  after: string,
  from: ImageVersion,
  to: ImageVersion,
): void {
  const a = before.split('\n');
  const b = after.split('\n');
  const pre = commonPrefixLines(a, b);
  const suf = commonSuffixLines(a, b, pre);
  const removed = a.slice(pre, a.length - suf);
  const added = b.slice(pre, b.length - suf);
  // walk both sides: a changed line may differ only inside the version; a line
  // present on one side only must be a newTag/digest key (added or dropped)
  let i = 0;
  let j = 0;
  while (i < removed.length || j < added.length) {
    const line = removed[i];
    const other = added[j];
    if (line !== undefined && other !== undefined && lineChangeOk(line, other, from, to)) {
      i++;
      j++;
    } else if (added.length - j > removed.length - i && other !== undefined) {
      assert.match(other, KEY_LINE, `unexpected added line ${JSON.stringify(other)}`);
      j++;
    } else if (line !== undefined) {
      assert.match(
        line,
        KEY_LINE,
        `line ${pre + i + 1} changed outside the version: ${JSON.stringify(line)}`,
      );
      i++;
    } else {
      assert.fail(`unexpected added line ${JSON.stringify(other)}`);
    }
  }
}

function lineChangeOk(rawLine: string, rawOther: string, from: ImageVersion, to: ImageVersion): boolean {
  // a line gains its CR when a line is inserted after the last one of a file without a final newline
  const line = rawLine.replace(/\r$/, '');
  const other = rawOther.replace(/\r$/, '');
  const p = commonPrefix(line, other);
  const s = commonSuffix(line, other, p);
  const gone = line.slice(p, line.length - s);
  const come = other.slice(p, other.length - s);
  return (withinVersion(gone, from) && withinVersion(come, to)) || (gone === '' && FLOW_PAIR.test(come));
}

function commonPrefixLines(a: string[], b: string[]): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

function commonSuffixLines(a: string[], b: string[], prefix: number): number {
  let i = 0;
  while (i < a.length - prefix && i < b.length - prefix && a[a.length - 1 - i] === b[b.length - 1 - i]) i++;
  return i;
}
