import type { ImageVersion } from '../core/types.ts';

export interface ImageRef {
  /** everything before the version suffix, e.g. "localhost:5000/app" */
  repository: string;
  version: ImageVersion;
}

/**
 * Split "repo[:tag][@digest]". The tag separator is the last ':' after the
 * last '/', so a registry port ("localhost:5000/app") is never read as a tag.
 */
export function parseImageRef(ref: string): ImageRef {
  const at = ref.indexOf('@');
  const name = at >= 0 ? ref.slice(0, at) : ref;
  const colon = name.lastIndexOf(':');
  const hasTag = colon > name.lastIndexOf('/');
  const version: ImageVersion = {};
  if (hasTag) version.tag = name.slice(colon + 1);
  if (at >= 0) version.digest = ref.slice(at + 1);
  return { repository: hasTag ? name.slice(0, colon) : name, version };
}

/** The suffix a reference carries after its repository: ":tag", "@digest", ":tag@digest" or "". */
export function refSuffix(v: ImageVersion): string {
  return (v.tag !== undefined ? `:${v.tag}` : '') + (v.digest !== undefined ? `@${v.digest}` : '');
}

/** A tag field that may hold "tag@digest" (Helm values, Flux tag setters). */
export function parseTagField(value: string): ImageVersion {
  const at = value.indexOf('@');
  const tag = at >= 0 ? value.slice(0, at) : value;
  const v: ImageVersion = {};
  if (tag !== '') v.tag = tag;
  if (at >= 0) v.digest = value.slice(at + 1);
  return v;
}
