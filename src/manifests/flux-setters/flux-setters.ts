/**
 * Flux setter markers, in any YAML file. A full-reference marker pins the
 * whole reference; a `:tag` (and `:digest`) marker pins a field whose image is
 * known from the same policy's `:name` marker, a full-reference marker, or a
 * sibling `repository`/`image`/`name` value equal to the image.
 */
import type { ManifestContext, ManifestFormat, Occurrence } from '../model.ts';
import { parseImageRef } from '../image-ref.ts';
import { digestFieldOccurrence, refOccurrence, tagFieldOccurrence } from '../occurrences.ts';
import { imageNameOf } from '../helm-values/helm-values.ts';
import { get, str } from '../yaml-nodes.ts';
import { findMarkers, type Marker } from './markers.ts';

const NAME = 'Flux setter';

function siblingImage(m: Marker): string | undefined {
  if (!m.parent) return undefined;
  return (
    imageNameOf(m.doc, m.parent) ??
    str(m.doc, get(m.doc, m.parent, 'image')) ??
    str(m.doc, get(m.doc, m.parent, 'name'))
  );
}

function policiesFor(markers: readonly Marker[], image: string): Set<string> {
  const policies = new Set<string>();
  for (const m of markers) {
    const named =
      (m.field === 'name' && m.slot.value === image) ||
      (m.field === 'ref' && parseImageRef(m.slot.value).repository === image) ||
      ((m.field === 'tag' || m.field === 'digest') && siblingImage(m) === image);
    if (named) policies.add(m.policy);
  }
  return policies;
}

function extract(ctx: ManifestContext): { occurrences: Occurrence[]; seen: string[] } {
  const markers = findMarkers(ctx);
  const policies = policiesFor(markers, ctx.image);
  const occurrences: Occurrence[] = [];
  const seen = markers.flatMap((m) =>
    m.field === 'name' ? [m.slot.value] : m.field === 'ref' ? [parseImageRef(m.slot.value).repository] : [],
  );
  for (const m of markers) {
    if (!policies.has(m.policy)) continue;
    const sameField = (field: string) => (o: Marker) =>
      o.field === field && o.policy === m.policy && o.parent === m.parent && o.doc === m.doc;
    if (m.field === 'ref' && parseImageRef(m.slot.value).repository === ctx.image) {
      occurrences.push(refOccurrence(ctx, NAME, m.slot));
    } else if (m.field === 'tag') {
      occurrences.push(tagFieldOccurrence(ctx, NAME, m.slot, markers.find(sameField('digest'))?.slot));
    } else if (m.field === 'digest' && !markers.some(sameField('tag'))) {
      occurrences.push(digestFieldOccurrence(ctx, NAME, m.slot));
    }
  }
  return { occurrences, seen };
}

export const fluxSetters: ManifestFormat = {
  name: NAME,
  detect: (ctx) => findMarkers(ctx).length > 0,
  extract,
};
