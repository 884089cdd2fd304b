/**
 * The one interface every manifest format implements. A format finds the
 * places (occurrences) that pin a version of the image; the caller checks they
 * agree and splices the edits into the original text, so formats never
 * re-stringify a document.
 */
import type { Document } from 'yaml';
import type { ImageVersion } from '../core/types.ts';

export type Doc = Document.Parsed;

/** Replace content[start, end) with text (start === end inserts). */
export interface Edit {
  start: number;
  end: number;
  text: string;
}

export interface Occurrence {
  /** format that found it, for messages */
  format: string;
  /** offset the occurrence starts at, for messages */
  at: number;
  /** source ranges it reads; a format that finds a subset of another's ranges found the same thing */
  spans: ReadonlyArray<readonly [number, number]>;
  version: ImageVersion;
  /**
   * The image repository the runtime pulls at this place, where the format can
   * name one other than the target's image (Kustomize `newName`, a Helm
   * `repository` beside an explicit tagKey); a version of another repository
   * is not a version of this image.
   */
  repository?: string;
  /** the edits that make this occurrence pin `to` */
  edits(to: ImageVersion): Edit[];
}

export interface ManifestContext {
  content: string;
  docs: readonly Doc[];
  image: string;
  tagKey: string | undefined;
  fileName: string;
  /** the file's line ending, used when a line is inserted */
  eol: string;
}

export interface Extraction {
  occurrences: Occurrence[];
  /** image names the format saw, to say what was found when the image is absent */
  seen: string[];
}

export interface ManifestFormat {
  /** human name for messages, e.g. "Kustomization" */
  name: string;
  detect(ctx: ManifestContext): boolean;
  extract(ctx: ManifestContext): Extraction;
}
