/** Finding Flux image-automation setter markers: `# {"$imagepolicy": "ns:name[:tag|:name|:digest]"}` on a value's line. */
import { isMap, visit } from 'yaml';
import type { YAMLMap } from 'yaml';
import type { Doc, ManifestContext } from '../model.ts';
import { lineEnd } from '../text-edits.ts';
import { slotOf, type Slot } from '../yaml-nodes.ts';

// Only whitespace may separate the value from the marker, as Flux reads it as the field's line comment.
// A marker rewind holds (hold/markers.ts) still tells rewind which field pins the image.
const MARKER = /^[ \t]*#\s*(?:rewind-hold )?\{\s*"(?:\$imagepolicy|imagepolicy-held)"\s*:\s*"([^"]*)"\s*\}/;

export type MarkerField = 'ref' | 'tag' | 'name' | 'digest';

export interface Marker {
  /** "ns:name" */
  policy: string;
  field: MarkerField;
  slot: Slot;
  doc: Doc;
  /** the mapping holding the value, to find sibling fields */
  parent: YAMLMap | undefined;
}

function fieldOf(suffix: string | undefined): MarkerField | undefined {
  if (suffix === undefined) return 'ref';
  return suffix === 'tag' || suffix === 'name' || suffix === 'digest' ? suffix : undefined;
}

export function findMarkers(ctx: ManifestContext): Marker[] {
  if (!ctx.content.includes('$imagepolicy') && !ctx.content.includes('imagepolicy-held')) return [];
  const markers: Marker[] = [];
  for (const doc of ctx.docs) {
    visit(doc, {
      Scalar(key, node, path) {
        if (key === 'key') return;
        const slot = slotOf(doc, node);
        if (!slot) return;
        const m = MARKER.exec(ctx.content.slice(slot.end, lineEnd(ctx.content, slot.end)));
        const parts = m?.[1]?.split(':') ?? [];
        const [ns, name, suffix] = parts;
        const field = fieldOf(suffix);
        if (ns === undefined || name === undefined || parts.length > 3 || field === undefined) return;
        const parent = path[path.length - 2];
        markers.push({
          policy: `${ns}:${name}`,
          field,
          slot,
          doc,
          parent: isMap(parent) ? parent : undefined,
        });
      },
    });
  }
  return markers;
}
