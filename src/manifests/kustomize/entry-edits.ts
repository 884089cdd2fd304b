/**
 * Adding or dropping a key of a Kustomization `images:` entry, written in the
 * entry's own layout: a new line at the entry's key indentation for block
 * style, `, key: value` for flow style.
 */
import { isNode } from 'yaml';
import type { Pair, YAMLMap } from 'yaml';
import { RewindError } from '../../core/errors.ts';
import type { Edit, ManifestContext } from '../model.ts';
import { encodeScalar, lineAt, lineEnd, lineStart, type QuoteStyle } from '../text-edits.ts';

function range(n: unknown): readonly [number, number] | undefined {
  return isNode(n) && n.range ? [n.range[0], n.range[1]] : undefined;
}

function pairStart(pair: Pair): number {
  return range(pair.key)?.[0] ?? 0;
}

function pairEnd(pair: Pair): number {
  return range(pair.value)?.[1] ?? range(pair.key)?.[1] ?? 0;
}

export function insertPairs(
  ctx: ManifestContext,
  entry: YAMLMap,
  pairs: ReadonlyArray<readonly [string, string]>,
  removed: ReadonlySet<Pair>,
  style: QuoteStyle,
): Edit {
  const kept = entry.items.filter((p) => !removed.has(p));
  const last = kept[kept.length - 1];
  const first = entry.items[0];
  if (!last || !first) {
    throw new RewindError('manifest_unsupported', `${ctx.fileName}: empty images entry`);
  }
  if (entry.flow) {
    const at = pairEnd(last);
    return { start: at, end: at, text: pairs.map(([k, v]) => `, ${k}: ${encodeScalar(v, style)}`).join('') };
  }
  const keyAt = pairStart(first);
  const indent = ' '.repeat(keyAt - lineStart(ctx.content, keyAt));
  const at = lineEnd(ctx.content, pairEnd(last));
  const text = pairs.map(([k, v]) => `${ctx.eol}${indent}${k}: ${encodeScalar(v, style)}`).join('');
  return { start: at, end: at, text };
}

export function removePair(ctx: ManifestContext, entry: YAMLMap, pair: Pair): Edit {
  const { content } = ctx;
  const idx = entry.items.indexOf(pair);
  if (entry.flow) {
    const prev = entry.items[idx - 1];
    const next = entry.items[idx + 1];
    if (prev) return { start: pairEnd(prev), end: pairEnd(pair), text: '' };
    return { start: pairStart(pair), end: next ? pairStart(next) : pairEnd(pair), text: '' };
  }
  const keyAt = pairStart(pair);
  const start = lineStart(content, keyAt);
  if (content.slice(start, keyAt).trim() !== '') {
    // the key shares its line with "- ": dropping the line would drop the entry
    throw new RewindError(
      'manifest_unsupported',
      `${ctx.fileName}: cannot remove the first key of the images entry at line ${lineAt(content, keyAt)}`,
    );
  }
  const end = lineEnd(content, pairEnd(pair));
  if (end === content.length) {
    // last line without a final newline: take the preceding line break instead
    const before = content[start - 2] === '\r' ? 2 : 1;
    return { start: Math.max(0, start - before), end, text: '' };
  }
  return { start, end: end + (content[end] === '\r' ? 2 : 1), text: '' };
}
