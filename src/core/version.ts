import type { ImageVersion } from './types.ts';

/** "v1.2.0", "sha256:…", or "v1.2.0@sha256:…": the reference suffix after the image name. */
export function formatVersion(v: ImageVersion): string {
  if (v.tag !== undefined && v.digest !== undefined) return `${v.tag}@${v.digest}`;
  return v.tag ?? v.digest ?? '';
}

/** Inverse of formatVersion (used for commit trailers). */
export function parseVersion(s: string): ImageVersion {
  const text = s.trim();
  const at = text.indexOf('@');
  if (at >= 0) return { tag: text.slice(0, at), digest: text.slice(at + 1) };
  if (/^sha256:[0-9a-f]{64}$/.test(text)) return { digest: text };
  return { tag: text };
}

export function versionsEqual(a: ImageVersion, b: ImageVersion): boolean {
  return a.tag === b.tag && a.digest === b.digest;
}

/** The version as it may appear in a branch name: a digest-only reference as `sha256-<first 12 hex>`. */
export function versionForRef(v: ImageVersion): string {
  if (v.tag !== undefined) return v.tag;
  const hex = (v.digest ?? '').replace(/^sha256:/, '');
  return `sha256-${hex.slice(0, 12)}`;
}

export function imageReference(image: string, v: ImageVersion): string {
  if (v.tag !== undefined && v.digest !== undefined) return `${image}:${v.tag}@${v.digest}`;
  if (v.digest !== undefined) return `${image}@${v.digest}`;
  return `${image}:${v.tag ?? ''}`;
}
