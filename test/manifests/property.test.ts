/**
 * Property: for generated manifests of every format, replaceVersion changes
 * exactly the version tokens (the bytes between them are identical), each new
 * token reads back as the new value, and the file reads back as `to`.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { parse } from 'yaml';
import { extractVersion, replaceVersion, type ImageSpec } from '../../src/manifests/index.ts';
import { fluxArb, helmArb, kustomizeArb, workloadArb } from './property-formats.ts';
import { render, renderOptionsArb, token, type Generated, type SlotSpec } from './property-gen.ts';

const NUM_RUNS = 200;

/** The tokens the editor may write for a slot: its own quote style, or double quotes when plain would not read back. */
function candidates(slot: SlotSpec): string[] {
  const own = token(slot.after, slot.style);
  return slot.style === 'plain' ? [own, JSON.stringify(slot.after)] : [own];
}

/** Walk `after` through the known parts; between them must sit one acceptable token per slot. */
function assertOnlySlotsChanged(after: string, parts: readonly string[], slots: readonly SlotSpec[]): void {
  let pos = 0;
  parts.forEach((part, i) => {
    assert.equal(
      after.slice(pos, pos + part.length),
      part,
      `bytes outside the version changed near offset ${pos}`,
    );
    pos += part.length;
    const slot = slots[i];
    if (!slot) return;
    const next = parts[i + 1] ?? '';
    const tok = candidates(slot).find(
      (c) => after.startsWith(c, pos) && after.startsWith(next, pos + c.length),
    );
    assert.ok(tok !== undefined, `unexpected token at ${pos}: ${JSON.stringify(after.slice(pos, pos + 80))}`);
    if (tok === slot.after) {
      // a plain token must read back as the same string in YAML 1.2 and 1.1 readers
      assert.deepEqual(parse(`k: ${tok}`), { k: slot.after }, `plain ${tok} does not round-trip`);
      assert.deepEqual(parse(`k: ${tok}`, { version: '1.1' }), { k: slot.after });
    }
    pos += tok.length;
  });
  assert.equal(pos, after.length);
}

function check(g: Generated, options: Parameters<typeof render>[1]): void {
  const { text, parts } = render(g, options);
  const spec: ImageSpec = g.tagKey === undefined ? { image: g.image } : { image: g.image, tagKey: g.tagKey };
  assert.deepEqual(extractVersion(text, spec, 'gen.yaml'), g.from);
  const after = replaceVersion(text, spec, g.to, 'gen.yaml');
  assertOnlySlotsChanged(after, parts, g.slots);
  assert.deepEqual(extractVersion(after, spec, 'gen.yaml'), g.to);
}

const formats = {
  kustomize: kustomizeArb,
  'helm values': helmArb,
  workloads: workloadArb,
  'flux setters': fluxArb,
};
/** A plain YAML null written as the old version pins nothing (test/manifests/null-version.test.ts). */
const pinsEverySlot = (g: Generated): boolean =>
  g.slots.every((s) => s.style !== 'plain' || !/^(?:~|null|Null|NULL)$/.test(s.before));

for (const [name, arb] of Object.entries(formats)) {
  test(`${name}: only the version bytes change`, () => {
    fc.assert(
      fc.property(arb.filter(pinsEverySlot), renderOptionsArb, (g, o) => check(g, o)),
      { numRuns: NUM_RUNS },
    );
  });
}
