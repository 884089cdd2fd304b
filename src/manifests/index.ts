/**
 * Manifest editing: find where a file pins an image's version and change only
 * those bytes (Renovate's auto-replace, then confirm by reading it back).
 * The format is detected from the content; every format that recognises the
 * file contributes occurrences, and they must all agree.
 */
import { isScalar, isSeq, visit } from 'yaml';
import { errorMessage, RewindError } from '../core/errors.ts';
import type { ImageVersion } from '../core/types.ts';
import { formatVersion, versionsEqual } from '../core/version.ts';
import { fluxSetters } from './flux-setters/flux-setters.ts';
import { helmValues } from './helm-values/helm-values.ts';
import { kustomize } from './kustomize/kustomize.ts';
import type { Doc, ManifestContext, ManifestFormat, Occurrence } from './model.ts';
import { applyEdits, detectEol, lineAt } from './text-edits.ts';
import { get, parseDocs, rootMap, str } from './yaml-nodes.ts';
import { workloads } from './workloads/workloads.ts';

export interface ImageSpec {
  image: string;
  tagKey?: string;
}

const FORMATS: readonly ManifestFormat[] = [kustomize, helmValues, workloads, fluxSetters];

interface Analysis {
  ctx: ManifestContext;
  occurrences: Occurrence[];
  version: ImageVersion;
  repository: string;
}

function describeDocs(docs: readonly Doc[]): string {
  if (docs.length === 0) return 'no YAML documents';
  const found = docs.map((doc) => {
    const root = rootMap(doc);
    if (root) {
      const kind = str(doc, get(doc, root, 'kind'));
      return kind === undefined ? 'a mapping' : `kind ${kind}`;
    }
    if (doc.contents === null) return 'an empty document';
    return isSeq(doc.contents) ? 'a sequence' : 'a scalar';
  });
  return [...new Set(found)].join(', ');
}

/** An occurrence found by two formats (a workload image with a Flux marker) counts once. */
function dedupe(all: readonly Occurrence[]): Occurrence[] {
  const key = (s: readonly [number, number]): string => `${s[0]}-${s[1]}`;
  const covers = (a: Occurrence, b: Occurrence): boolean => {
    const keys = new Set(a.spans.map(key));
    return b.spans.every((s) => keys.has(key(s)));
  };
  return all.filter(
    (o, i) => !all.some((p, j) => j !== i && covers(p, o) && (p.spans.length > o.spans.length || j < i)),
  );
}

function analyze(content: string, spec: ImageSpec, fileName: string): Analysis {
  const { docs, error } = parseDocs(content);
  if (error !== undefined) {
    throw new RewindError('manifest_unsupported', `${fileName}: not valid YAML (${error})`);
  }
  const ctx: ManifestContext = {
    content,
    docs,
    image: spec.image,
    tagKey: spec.tagKey,
    fileName,
    eol: detectEol(content),
  };
  const formats = FORMATS.filter((f) => f.detect(ctx));
  if (formats.length === 0) {
    throw new RewindError(
      'manifest_unsupported',
      `${fileName}: not a supported manifest (found ${describeDocs(docs)}; expected a Kustomization, Helm values, ` +
        `a workload (Deployment, StatefulSet, DaemonSet, Job, CronJob, Argo Rollout, Pod) or a Flux $imagepolicy marker)`,
    );
  }
  const extractions = formats.map((f) => f.extract(ctx));
  const occurrences = dedupe(extractions.flatMap((e) => e.occurrences)).sort((a, b) => a.at - b.at);
  const first = occurrences[0];
  if (first === undefined) {
    const seen = [...new Set(extractions.flatMap((e) => e.seen))];
    const where = spec.tagKey !== undefined ? ` at tagKey ${spec.tagKey}` : '';
    throw new RewindError(
      'image_not_found',
      `${fileName}: image ${spec.image}${where} not found in the ${formats.map((f) => f.name).join(' / ')} file` +
        (seen.length > 0
          ? ` (images found: ${seen.slice(0, 10).join(', ')}${seen.length > 10 ? ', …' : ''})`
          : ''),
    );
  }
  const distinct = occurrences.filter((o) => !versionsEqual(o.version, first.version));
  if (distinct.length > 0) {
    const list = occurrences
      .map((o) => `${formatVersion(o.version) || '(none)'} at line ${lineAt(content, o.at)} (${o.format})`)
      .join(', ');
    throw new RewindError(
      'manifest_ambiguous',
      `${fileName}: image ${spec.image} is pinned to different versions: ${list}`,
    );
  }
  return { ctx, occurrences, version: { ...first.version }, repository: first.repository ?? spec.image };
}

const PROBE = '-rewind-alias-probe';

/** The images (by name) whose pinned version reads `probe`, the target first. */
function probeReaders(content: string, spec: ImageSpec, fileName: string): string[] {
  const { docs, error } = parseDocs(content);
  if (error !== undefined) return [];
  const base = { content, docs, fileName, eol: detectEol(content) };
  const reads = (ctx: ManifestContext): boolean =>
    FORMATS.filter((f) => f.detect(ctx)).some((f) =>
      f.extract(ctx).occurrences.some((o) => formatVersion(o.version).includes(PROBE)),
    );
  if (reads({ ...base, image: spec.image, tagKey: spec.tagKey })) return [spec.image];
  const plain = { ...base, tagKey: undefined };
  const names = new Set(
    FORMATS.flatMap((f) =>
      f.detect({ ...plain, image: '' }) ? f.extract({ ...plain, image: '' }).seen : [],
    ),
  );
  return [...names].filter((name) => name !== spec.image && reads({ ...plain, image: name }));
}

/**
 * A version scalar the edit changes may carry an anchor that other places alias. Aliases read by the
 * same image (one anchor for the app and its init container) or by no image at all are fine; an
 * alias in another image's tag field would silently roll that image back too, so the edit is refused.
 */
function checkSharedAnchors(a: Analysis, spec: ImageSpec): void {
  const { content, fileName } = a.ctx;
  const edited = a.occurrences.flatMap((o) => o.spans);
  for (const doc of a.ctx.docs) {
    visit(doc, {
      Alias(_key, alias) {
        const source = alias.resolve(doc);
        if (!isScalar(source) || !source.range || !alias.range) return;
        const [start, end] = source.range;
        if (!edited.some(([s, e]) => start >= s && end <= e)) return;
        // Replace just this alias by a marked copy of its value and see whose version it is.
        const probe = JSON.stringify(`${String(source.value)}${PROBE}`);
        const text = content.slice(0, alias.range[0]) + probe + content.slice(alias.range[1]);
        const readers = probeReaders(text, spec, fileName);
        // read by the target itself, or by no image (a version label, an env var): it follows the release
        if (readers.length === 0 || readers[0] === spec.image) return;
        throw new RewindError(
          'edit_not_confirmed',
          `${fileName}: the version of ${spec.image} at line ${lineAt(content, start)} is a YAML anchor that ` +
            `${readers.join(', ')} also uses (line ${lineAt(content, alias.range[0])}); the edit would change it too`,
        );
      },
    });
  }
}

/** The version the file pins for `spec.image` (`{}` when an entry names the image but pins nothing). */
export function extractVersion(content: string, spec: ImageSpec, fileName: string): ImageVersion {
  return analyze(content, spec, fileName).version;
}

/** The version and the repository the file pins for `spec.image` (the repository differs after a registry move). */
export function extractImage(
  content: string,
  spec: ImageSpec,
  fileName: string,
): { version: ImageVersion; repository: string } {
  const { version, repository } = analyze(content, spec, fileName);
  return { version, repository };
}

/** Same content with only the bytes of the tag/digest changed to `to`, at every occurrence of the image. */
export function replaceVersion(content: string, spec: ImageSpec, to: ImageVersion, fileName: string): string {
  const before = analyze(content, spec, fileName);
  checkSharedAnchors(before, spec);
  const { ctx, occurrences } = before;
  const out = applyEdits(
    ctx,
    occurrences.flatMap((o) => o.edits(to)),
  );
  let check: Analysis;
  try {
    check = analyze(out, spec, fileName);
  } catch (err) {
    const reason = errorMessage(err).replace(`${fileName}: `, '');
    throw new RewindError(
      'edit_not_confirmed',
      `${fileName}: the edited file does not read back (${reason})`,
      {
        cause: err,
      },
    );
  }
  if (!versionsEqual(check.version, to) || check.occurrences.length !== occurrences.length) {
    throw new RewindError(
      'edit_not_confirmed',
      `${fileName}: after the edit ${spec.image} reads ${formatVersion(check.version)} at ${check.occurrences.length} places, ` +
        `expected ${formatVersion(to)} at ${occurrences.length}`,
    );
  }
  return out;
}
