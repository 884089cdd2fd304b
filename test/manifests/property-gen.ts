/**
 * Generators for the property test: a manifest as lines of text and version
 * slots, rendered with random comments, blank lines, quoting, indentation and
 * line endings. The test knows every byte outside the slots, so it can check
 * that nothing else changed.
 */
import fc from 'fast-check';
import type { ImageVersion } from '../../src/core/types.ts';

export type Style = 'plain' | 'single' | 'double';
export type Seg = string | { slot: number };
export type Line = Seg[];

export interface SlotSpec {
  style: Style;
  before: string;
  after: string;
}

export interface Generated {
  image: string;
  tagKey?: string;
  from: ImageVersion;
  to: ImageVersion;
  lines: Line[];
  slots: SlotSpec[];
}

export interface Rendered {
  text: string;
  /** text between slots: text = parts[0] + token0 + parts[1] + ... */
  parts: string[];
}

export const tagArb = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,15}$/),
  fc.constantFrom(
    '1.10',
    '1.9',
    '2.0',
    '10',
    'true',
    'no',
    'null',
    '2024-01-02',
    '0x1F',
    '1e3',
    '007',
    'v1.2.3',
  ),
);
export const digestArb = fc.stringMatching(/^[0-9a-f]{64}$/).map((h) => `sha256:${h}`);
export const styleArb = fc.constantFrom<Style>('plain', 'single', 'double');
export const imageArb = fc.constantFrom(
  'registry.example.com/acme/checkout',
  'localhost:5000/app',
  'acme/checkout',
  'nginx',
);
export const indentArb = fc.constantFrom('  ', '    ');
export const commentArb = fc.stringMatching(/^[a-zA-Z0-9 .,:-]{0,20}$/).map((s) => `# ${s}`);
const trailingArb = fc.option(
  commentArb.map((c) => `  ${c}`),
  { nil: '' },
);

/** A tag-only, digest-only or tag+digest version. */
export const versionArb = fc.oneof(
  tagArb.map((tag): ImageVersion => ({ tag })),
  digestArb.map((digest): ImageVersion => ({ digest })),
  // fc.record builds null-prototype objects; deepEqual wants plain ones
  fc.tuple(tagArb, digestArb).map(([tag, digest]): ImageVersion => ({ tag, digest })),
);

export function token(value: string, style: Style): string {
  if (style === 'single') return `'${value.replaceAll("'", "''")}'`;
  if (style === 'double') return JSON.stringify(value);
  return value;
}

export const renderOptionsArb = fc.record({
  crlf: fc.boolean(),
  finalNewline: fc.boolean(),
  // extra comment or blank lines, placed before the line with this index
  extras: fc.array(fc.tuple(fc.nat(40), fc.oneof(commentArb, fc.constant(''))), { maxLength: 6 }),
  trailing: trailingArb,
});
export type RenderOptions = typeof renderOptionsArb extends fc.Arbitrary<infer T> ? T : never;

export function render(g: Generated, o: RenderOptions): Rendered {
  const eol = o.crlf ? '\r\n' : '\n';
  const parts: string[] = [''];
  let text = '';
  const push = (s: string): void => {
    parts[parts.length - 1] += s;
    text += s;
  };
  g.lines.forEach((line, i) => {
    for (const [at, extra] of o.extras) if (at % g.lines.length === i) push(extra + eol);
    for (const seg of line) {
      if (typeof seg === 'string') push(seg);
      else {
        const slot = g.slots[seg.slot];
        if (!slot) throw new Error('bad slot');
        text += token(slot.before, slot.style);
        parts.push('');
      }
    }
    if (typeof line[line.length - 1] === 'object') push(o.trailing);
    if (i < g.lines.length - 1 || o.finalNewline) push(eol);
  });
  return { text, parts };
}
