/**
 * Helm values: any mapping with `repository` (optionally split off a
 * `registry`) and `tag`, at any depth (sub-charts, a HelmRelease's
 * `spec.values`, kustomize `valuesInline`), or an explicit `tagKey` path.
 */
import { isMap, type YAMLMap } from 'yaml';
import type { Doc, Extraction, ManifestContext, ManifestFormat, Occurrence } from '../model.ts';
import { tagFieldOccurrence } from '../occurrences.ts';
import { allMaps, get, getPath, pairOf, rootMap, slotOf, str } from '../yaml-nodes.ts';

const NAME = 'Helm values';

/** A values file is a mapping that is not a Kubernetes object (some charts do have a `kind:` value). */
function isValuesDoc(doc: Doc): boolean {
  const root = rootMap(doc);
  if (root === undefined || get(doc, root, 'apiVersion') !== undefined) return false;
  const kind = str(doc, get(doc, root, 'kind'));
  return kind !== 'Kustomization' && kind !== 'Component';
}

/** `registry/repository` (or `repository` alone) of a mapping that also has a `tag` key. */
export function imageNameOf(doc: Doc, map: YAMLMap): string | undefined {
  const repository = str(doc, get(doc, map, 'repository'));
  if (repository === undefined || repository === '' || !pairOf(map, 'tag')) return undefined;
  const registry = str(doc, get(doc, map, 'registry'));
  return registry ? `${registry.replace(/\/+$/, '')}/${repository}` : repository;
}

function byTagKey(ctx: ManifestContext, tagKey: string): Extraction {
  const path = tagKey.split('.');
  const occurrences: Occurrence[] = [];
  for (const doc of ctx.docs) {
    const tag = slotOf(doc, getPath(doc, doc.contents, path));
    if (!tag) continue;
    // the repository is not checked: the target named the field explicitly
    const parent = getPath(doc, doc.contents, path.slice(0, -1));
    const occurrence = tagFieldOccurrence(ctx, NAME, tag, slotOf(doc, get(doc, parent, 'digest')));
    const repository = isMap(parent) ? imageNameOf(doc, parent) : undefined;
    occurrences.push(repository === undefined ? occurrence : { ...occurrence, repository });
  }
  return { occurrences, seen: [] };
}

export const helmValues: ManifestFormat = {
  name: NAME,
  detect: (ctx) =>
    ctx.docs.some(
      (doc) =>
        isValuesDoc(doc) ||
        allMaps(doc).some((m) => imageNameOf(doc, m) !== undefined) ||
        (ctx.tagKey !== undefined && getPath(doc, doc.contents, ctx.tagKey.split('.')) !== undefined),
    ),
  extract(ctx) {
    if (ctx.tagKey !== undefined) return byTagKey(ctx, ctx.tagKey);
    const occurrences: Occurrence[] = [];
    const seen: string[] = [];
    for (const doc of ctx.docs) {
      for (const map of allMaps(doc)) {
        const name = imageNameOf(doc, map);
        if (name === undefined) continue;
        seen.push(name);
        const tag = slotOf(doc, get(doc, map, 'tag'));
        if (name !== ctx.image || !tag) continue;
        occurrences.push(tagFieldOccurrence(ctx, NAME, tag, slotOf(doc, get(doc, map, 'digest'))));
      }
    }
    return { occurrences, seen };
  },
};
