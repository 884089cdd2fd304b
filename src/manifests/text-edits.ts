/** Byte-level editing of the original text: encoding a scalar in its own style, splicing, line geometry. */
import { parse } from 'yaml';
import { RewindError } from '../core/errors.ts';
import type { Edit, ManifestContext } from './model.ts';
import type { Slot } from './yaml-nodes.ts';

const PLAIN_CHARS = /^[A-Za-z0-9_][A-Za-z0-9._\-/:@+]*$/;

/**
 * A value may stay plain only if every YAML reader the GitOps tools use
 * (YAML 1.2 core in Argo CD/kustomize's kyaml, 1.1 in Helm's go-yaml v2)
 * reads it back as the same string: "1.10", "true" or "2024-01-02" must be quoted.
 */
export function plainSafe(value: string): boolean {
  if (!PLAIN_CHARS.test(value) || value.endsWith(':')) return false;
  try {
    return parse(value, { schema: 'core' }) === value && parse(value, { version: '1.1' }) === value;
  } catch {
    return false;
  }
}

export type QuoteStyle = 'PLAIN' | 'QUOTE_SINGLE' | 'QUOTE_DOUBLE';

/** The value as a scalar token; a plain value that would not read back as this string gets double quotes. */
export function encodeScalar(value: string, style: QuoteStyle): string {
  // single quotes cannot carry a line break or control character without folding it away
  const singleOk = !/[\u0000-\u001f\u007f]/.test(value);
  if (style === 'QUOTE_SINGLE' && singleOk) return `'${value.replaceAll("'", "''")}'`;
  if (style === 'QUOTE_DOUBLE' || !plainSafe(value)) return JSON.stringify(value);
  return value;
}

/** Replace a scalar's token, keeping its quote style. */
export function replaceSlot(ctx: ManifestContext, slot: Slot, value: string): Edit {
  const style = slot.type;
  if (style !== 'PLAIN' && style !== 'QUOTE_SINGLE' && style !== 'QUOTE_DOUBLE') {
    throw new RewindError(
      'manifest_unsupported',
      `${ctx.fileName}: cannot edit the ${String(style)} scalar at line ${lineAt(ctx.content, slot.start)}; use a plain or quoted value`,
    );
  }
  let text = encodeScalar(value, style);
  // An empty plain value (`newTag:`) has a zero-width token right after the colon.
  if (slot.start === slot.end && !/\s/.test(ctx.content[slot.start - 1] ?? ' ')) text = ` ${text}`;
  return { start: slot.start, end: slot.end, text };
}

export function applyEdits(ctx: ManifestContext, edits: readonly Edit[]): string {
  const sorted = [...edits].sort((a, b) => a.start - b.start || a.end - b.end);
  const unique = sorted.filter(
    (e, i) =>
      i === 0 ||
      !(e.start === sorted[i - 1]?.start && e.end === sorted[i - 1]?.end && e.text === sorted[i - 1]?.text),
  );
  let out = '';
  let pos = 0;
  for (const e of unique) {
    if (e.start < pos) {
      throw new RewindError(
        'edit_not_confirmed',
        `${ctx.fileName}: overlapping edits at line ${lineAt(ctx.content, e.start)}`,
      );
    }
    out += ctx.content.slice(pos, e.start) + e.text;
    pos = e.end;
  }
  return out + ctx.content.slice(pos);
}

export function lineAt(content: string, offset: number): number {
  let line = 1;
  for (let i = content.indexOf('\n'); i >= 0 && i < offset; i = content.indexOf('\n', i + 1)) line++;
  return line;
}

export function lineStart(content: string, offset: number): number {
  return content.lastIndexOf('\n', offset - 1) + 1;
}

/** Offset of the line break ending the line that holds `offset` (before a CR), or the end of the text. */
export function lineEnd(content: string, offset: number): number {
  const nl = content.indexOf('\n', offset);
  if (nl < 0) return content.length;
  return content[nl - 1] === '\r' ? nl - 1 : nl;
}

export function detectEol(content: string): string {
  return content.includes('\r\n') ? '\r\n' : '\n';
}
