/** The two shapes of occurrence shared by several formats. */
import { RewindError } from '../core/errors.ts';
import type { ImageVersion } from '../core/types.ts';
import { formatVersion } from '../core/version.ts';
import { parseImageRef, parseTagField, refSuffix } from './image-ref.ts';
import type { Edit, ManifestContext, Occurrence } from './model.ts';
import { lineAt, replaceSlot } from './text-edits.ts';
import type { Slot } from './yaml-nodes.ts';

/** A full reference `repo[:tag][@digest]`: the repository bytes stay, the suffix changes. */
export function refOccurrence(ctx: ManifestContext, format: string, slot: Slot): Occurrence {
  const { repository, version } = parseImageRef(slot.value);
  return {
    format,
    at: slot.start,
    spans: [[slot.start, slot.end]],
    version,
    edits: (to) => [replaceSlot(ctx, slot, repository + refSuffix(to))],
  };
}

/**
 * A tag field, with an optional sibling digest field (Helm's `image.digest`,
 * Flux's `:digest` setter). Without a digest field the tag field holds
 * "tag@digest" when both are pinned, as Helm templates "repo:{{ tag }}".
 */
export function tagFieldOccurrence(
  ctx: ManifestContext,
  format: string,
  tag: Slot,
  digest: Slot | undefined,
): Occurrence {
  const version: ImageVersion = parseTagField(tag.value);
  if (digest) {
    delete version.digest;
    if (digest.value !== '') version.digest = digest.value;
  }
  const edits = (to: ImageVersion): Edit[] => {
    if (digest) return [replaceSlot(ctx, tag, to.tag ?? ''), replaceSlot(ctx, digest, to.digest ?? '')];
    if (to.tag === undefined && to.digest !== undefined) {
      throw new RewindError(
        'manifest_unsupported',
        `${ctx.fileName}: the tag field at line ${lineAt(ctx.content, tag.start)} cannot pin a digest without a tag ` +
          `(${formatVersion(to)}); add a digest field next to it`,
      );
    }
    return [replaceSlot(ctx, tag, formatVersion(to))];
  };
  const spans = digest
    ? [[tag.start, tag.end] as const, [digest.start, digest.end] as const]
    : [[tag.start, tag.end] as const];
  return { format, at: tag.start, spans, version, edits };
}

/** A lone digest field (a Flux `:digest` setter without a `:tag` one). */
export function digestFieldOccurrence(ctx: ManifestContext, format: string, digest: Slot): Occurrence {
  const version: ImageVersion = digest.value === '' ? {} : { digest: digest.value };
  return {
    format,
    at: digest.start,
    spans: [[digest.start, digest.end]],
    version,
    edits: (to) => [replaceSlot(ctx, digest, to.digest ?? '')],
  };
}
