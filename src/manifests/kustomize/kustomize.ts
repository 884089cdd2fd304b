/** Kustomization `images:` entries: `newTag`, `digest`, or both; a missing key is added. */
import { isMap, isSeq } from 'yaml';
import type { Pair, YAMLMap } from 'yaml';
import type { ImageVersion } from '../../core/types.ts';
import type { Doc, Edit, ManifestContext, ManifestFormat, Occurrence } from '../model.ts';
import { replaceSlot, type QuoteStyle } from '../text-edits.ts';
import { get, pairOf, resolve, rootMap, slotOf, str } from '../yaml-nodes.ts';
import { insertPairs, removePair } from './entry-edits.ts';

const NAME = 'Kustomization';
const KINDS = new Set(['Kustomization', 'Component']);
// kustomization.yaml often omits apiVersion/kind; these list fields give it away
const LIST_KEYS = ['images', 'resources', 'bases', 'components'];

function kustomizationRoot(doc: Doc): YAMLMap | undefined {
  const root = rootMap(doc);
  if (!root) return undefined;
  const kind = str(doc, get(doc, root, 'kind'));
  if (kind !== undefined) return KINDS.has(kind) ? root : undefined;
  if (get(doc, root, 'apiVersion') !== undefined) return undefined;
  return LIST_KEYS.some((k) => isSeq(get(doc, root, k))) ? root : undefined;
}

function quoteStyleOf(doc: Doc, entry: YAMLMap): QuoteStyle {
  const type = slotOf(doc, get(doc, entry, 'newName') ?? get(doc, entry, 'name'))?.type;
  return type === 'QUOTE_SINGLE' || type === 'QUOTE_DOUBLE' ? type : 'PLAIN';
}

function entryEdits(ctx: ManifestContext, doc: Doc, entry: YAMLMap, to: ImageVersion): Edit[] {
  const edits: Edit[] = [];
  const inserts: Array<readonly [string, string]> = [];
  const removed = new Set<Pair>();
  for (const [key, value] of [
    ['newTag', to.tag],
    ['digest', to.digest],
  ] as const) {
    const pair = pairOf(entry, key);
    const slot = pair ? slotOf(doc, pair.value) : undefined;
    if (pair && slot && value !== undefined) edits.push(replaceSlot(ctx, slot, value));
    else if (pair && value === undefined) {
      edits.push(removePair(ctx, entry, pair));
      removed.add(pair);
    } else if (value !== undefined) inserts.push([key, value]);
  }
  if (inserts.length > 0) edits.push(insertPairs(ctx, entry, inserts, removed, quoteStyleOf(doc, entry)));
  return edits;
}

function entryOccurrence(ctx: ManifestContext, doc: Doc, entry: YAMLMap, repository: string): Occurrence {
  const tag = slotOf(doc, pairOf(entry, 'newTag')?.value);
  const digest = slotOf(doc, pairOf(entry, 'digest')?.value);
  const version: ImageVersion = {};
  if (tag && tag.value !== '') version.tag = tag.value;
  if (digest && digest.value !== '') version.digest = digest.value;
  const at = entry.range?.[0] ?? 0;
  const spans = [tag, digest].flatMap((s) => (s ? [[s.start, s.end] as const] : []));
  return {
    format: NAME,
    repository,
    at,
    spans: spans.length > 0 ? spans : [[at, entry.range?.[1] ?? at]],
    version,
    edits: (to) => entryEdits(ctx, doc, entry, to),
  };
}

export const kustomize: ManifestFormat = {
  name: NAME,
  detect: (ctx) => ctx.docs.some((doc) => kustomizationRoot(doc) !== undefined),
  extract(ctx) {
    const occurrences: Occurrence[] = [];
    const seen: string[] = [];
    for (const doc of ctx.docs) {
      const root = kustomizationRoot(doc);
      const images = root ? get(doc, root, 'images') : undefined;
      if (!isSeq(images)) continue;
      for (const item of images.items) {
        const entry = resolve(doc, item);
        if (!isMap(entry)) continue;
        const name = str(doc, get(doc, entry, 'name'));
        const newName = str(doc, get(doc, entry, 'newName'));
        seen.push(...[name, newName].filter((n): n is string => n !== undefined));
        if (name === ctx.image || newName === ctx.image)
          occurrences.push(entryOccurrence(ctx, doc, entry, newName ?? name ?? ctx.image));
      }
    }
    return { occurrences, seen };
  },
};
