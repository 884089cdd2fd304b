/**
 * Holding a tag in Argo CD Image Updater, so it never re-applies the release
 * rewind rolled back from while newer good releases still flow:
 *
 * - an `ImageUpdater` resource (argocd-image-updater.argoproj.io/v1alpha1): the
 *   image's `commonUpdateSettings.ignoreTags` glob list. A per-image list replaces
 *   the inherited one, so when rewind creates it, it copies the patterns the image
 *   inherited (its applicationRef's, else the spec's) first.
 * - an Argo CD `Application` with Image Updater annotations: the image's alias
 *   from `argocd-image-updater.argoproj.io/image-list` gets an
 *   `argocd-image-updater.argoproj.io/<alias>.ignore-tags` annotation.
 *
 * rewind only adds whole lines, each ending in `# rewind-hold`; release deletes
 * exactly those lines, so the file returns byte for byte. Lists rewind cannot
 * extend with whole lines (a flow `[a, b]` list, an ignore-tags annotation the
 * team wrote) are refused with a reason instead of being rewritten.
 */
import { isMap, isScalar, isSeq, type Node, type YAMLMap, type YAMLSeq } from 'yaml';
import { RewindError } from '../../core/errors.ts';
import { parseImageRef } from '../image-ref.ts';
import { detectEol, encodeScalar, lineEnd, lineStart } from '../text-edits.ts';
import { get, parseDocs, rootMap, str } from '../yaml-nodes.ts';
import type { Doc } from '../model.ts';

export const HOLD_COMMENT = '# rewind-hold';
const ANNOTATION = 'argocd-image-updater.argoproj.io';

interface Insert {
  at: number;
  lines: string[];
}

function refuse(fileName: string, why: string): never {
  throw new RewindError('edit_not_confirmed', `${fileName}: cannot hold the tag: ${why}`);
}

const indentOf = (content: string, offset: number) =>
  /^[ \t]*/.exec(content.slice(lineStart(content, offset)))?.[0] ?? '';
const seqStrings = (doc: Doc, n: Node | undefined) =>
  isSeq(n) ? n.items.map((i) => str(doc, i)).filter((s): s is string => s !== undefined) : [];
const item = (indent: string, value: string) => `${indent}- ${encodeScalar(value, 'PLAIN')} ${HOLD_COMMENT}`;

/** Offset right after the line holding the node's last value byte. */
function afterNode(content: string, node: Node): number {
  const end = node.range?.[1] ?? 0;
  const eolAt = lineEnd(content, Math.max(0, end - 1));
  return content[eolAt] === '\r' ? eolAt + 2 : content[eolAt] === '\n' ? eolAt + 1 : eolAt;
}

interface Found {
  inserts: Insert[];
  /** places for the image, whether or not the tag was already held there */
  matched: number;
}

function imageUpdaterInserts(
  content: string,
  doc: Doc,
  root: YAMLMap,
  image: string,
  tag: string,
  fileName: string,
): Found {
  const inserts: Insert[] = [];
  let matched = 0;
  const spec = get(doc, root, 'spec');
  const specIgnore = seqStrings(doc, get(doc, get(doc, spec, 'commonUpdateSettings'), 'ignoreTags'));
  const refs = get(doc, spec, 'applicationRefs');
  for (const ref of isSeq(refs) ? refs.items : []) {
    const refSettings = get(doc, ref, 'commonUpdateSettings');
    const inherited = refSettings ? seqStrings(doc, get(doc, refSettings, 'ignoreTags')) : specIgnore;
    const images = get(doc, ref, 'images');
    for (const img of isSeq(images) ? images.items : []) {
      if (!isMap(img) || parseImageRef(str(doc, get(doc, img, 'imageName')) ?? '').repository !== image)
        continue;
      matched += 1;
      const settings = get(doc, img, 'commonUpdateSettings');
      const ignore = get(doc, settings, 'ignoreTags');
      if (ignore !== undefined) {
        if (!isSeq(ignore) || ignore.flow || ignore.items.length === 0)
          refuse(fileName, `ignoreTags at offset ${ignore.range?.[0]} is not a block list (- item per line)`);
        if (seqStrings(doc, ignore).includes(tag)) continue;
        const last = (ignore as YAMLSeq).items[ignore.items.length - 1] as Node;
        inserts.push({
          at: afterNode(content, last),
          lines: [item(indentOf(content, last.range?.[0] ?? 0), tag)],
        });
        continue;
      }
      const list = [...inherited.filter((t) => t !== tag), tag];
      if (settings !== undefined) {
        if (!isMap(settings) || settings.flow || settings.items.length === 0)
          refuse(fileName, 'commonUpdateSettings is not a block mapping');
        const key = indentOf(content, (settings.items[0]?.key as Node).range?.[0] ?? 0);
        inserts.push({
          at: afterNode(content, settings),
          lines: [`${key}ignoreTags: ${HOLD_COMMENT}`, ...list.map((t) => item(`${key}  `, t))],
        });
        continue;
      }
      const key = indentOf(content, (img.items[img.items.length - 1]?.key as Node).range?.[0] ?? 0);
      inserts.push({
        at: afterNode(content, img),
        lines: [
          `${key}commonUpdateSettings: ${HOLD_COMMENT}`,
          `${key}  ignoreTags: ${HOLD_COMMENT}`,
          ...list.map((t) => item(`${key}    `, t)),
        ],
      });
    }
  }
  return { inserts, matched };
}

function applicationInserts(
  content: string,
  doc: Doc,
  root: YAMLMap,
  image: string,
  tag: string,
  fileName: string,
): Found {
  const annotations = get(doc, get(doc, root, 'metadata'), 'annotations');
  if (!isMap(annotations) || annotations.flow) return { inserts: [], matched: 0 };
  const list = str(doc, get(doc, annotations, `${ANNOTATION}/image-list`)) ?? '';
  const inserts: Insert[] = [];
  let matched = 0;
  for (const entry of list.split(',').map((e) => e.trim())) {
    const eq = entry.indexOf('=');
    if (eq <= 0 || parseImageRef(entry.slice(eq + 1)).repository !== image) continue;
    matched += 1;
    const key = `${ANNOTATION}/${entry.slice(0, eq)}.ignore-tags`;
    const pair = annotations.items.find((p) => isScalar(p.key) && p.key.value === key);
    let value = tag;
    if (pair) {
      const line = content.slice(
        lineStart(content, (pair.key as Node).range?.[0] ?? 0),
        lineEnd(content, (pair.key as Node).range?.[0] ?? 0),
      );
      if (!line.trimEnd().endsWith(HOLD_COMMENT))
        refuse(fileName, `${key} is the team's own annotation; add ${tag} to it by hand`);
      const held = (str(doc, pair.value) ?? '')
        .split(',')
        .map((t) => t.trim())
        .filter(Boolean);
      if (held.includes(tag)) continue;
      value = [...held, tag].join(', ');
      // rewind's own line: rewritten whole, still marked, so release still deletes it
      const start = lineStart(content, (pair.key as Node).range?.[0] ?? 0);
      inserts.push({
        at: -start - 1,
        lines: [line.replace(/:\s.*$/, `: ${encodeScalar(value, 'PLAIN')} ${HOLD_COMMENT}`)],
      });
      continue;
    }
    const last = annotations.items[annotations.items.length - 1];
    const indent = indentOf(content, (last?.key as Node).range?.[0] ?? 0);
    inserts.push({
      at: afterNode(content, last?.value as Node),
      lines: [`${indent}${key}: ${encodeScalar(value, 'PLAIN')} ${HOLD_COMMENT}`],
    });
  }
  return { inserts, matched };
}

/** The hold file with `tag` ignored for `image`; refuses files where the image is not found. */
export function addIgnoredTag(content: string, image: string, tag: string, fileName: string): string {
  const { docs, error } = parseDocs(content);
  if (error !== undefined) refuse(fileName, `not valid YAML (${error})`);
  const eol = detectEol(content);
  let found = false;
  const inserts: Insert[] = [];
  for (const doc of docs) {
    const root = rootMap(doc);
    if (!root) continue;
    const kind = str(doc, get(doc, root, 'kind'));
    const edits =
      kind === 'ImageUpdater'
        ? imageUpdaterInserts(content, doc, root, image, tag, fileName)
        : kind === 'Application'
          ? applicationInserts(content, doc, root, image, tag, fileName)
          : { inserts: [], matched: 0 };
    found ||= edits.matched > 0;
    inserts.push(...edits.inserts);
  }
  if (!found) refuse(fileName, `no ImageUpdater image or Application image-list alias for ${image}`);
  let out = content;
  for (const ins of [...inserts].sort((a, b) => Math.abs(b.at) - Math.abs(a.at))) {
    if (ins.at < 0) {
      const start = -ins.at - 1;
      const end = lineEnd(out, start);
      out = out.slice(0, start) + (ins.lines[0] ?? '') + out.slice(end);
      continue;
    }
    const needsEol = ins.at === out.length && out.length > 0 && !out.endsWith('\n');
    const text = ins.lines.map((l) => `${l}${eol}`).join('');
    out = needsEol
      ? `${out}${eol}${text.slice(0, -eol.length)}`
      : out.slice(0, ins.at) + text + out.slice(ins.at);
  }
  if (!heldTags(out).includes(tag) || parseDocs(out).error !== undefined)
    refuse(fileName, 'the edited file does not read back with the tag held');
  return out;
}

/** Tags rewind holds in the file (its marked lines), in file order. */
export function heldTags(content: string): string[] {
  const tags: string[] = [];
  for (const line of content.split(/\r?\n/)) {
    if (!line.trimEnd().endsWith(HOLD_COMMENT)) continue;
    const m =
      /^\s*-\s*(.+?)\s+# rewind-hold\s*$/.exec(line) ?? /ignore-tags:\s*(.+?)\s+# rewind-hold\s*$/.exec(line);
    if (m?.[1]) tags.push(...m[1].split(',').map((t) => t.trim().replace(/^["']|["']$/g, '')));
  }
  return [...new Set(tags)];
}

/** Deletes every line rewind added. */
export function releaseIgnoredTags(content: string): { content: string; released: string[] } {
  const released = heldTags(content);
  const parts = content.match(/[^\n]*\n|[^\n]+$/g) ?? [];
  const kept = parts.filter(
    (l) =>
      !l
        .replace(/\r?\n$/, '')
        .trimEnd()
        .endsWith(HOLD_COMMENT),
  );
  let out = kept.join('');
  // a held line was the file's last and had no line break: the line before it had none either
  const last = parts[parts.length - 1] ?? '';
  if (!last.endsWith('\n') && !kept.includes(last)) out = out.replace(/\r?\n$/, '');
  return { content: out, released };
}
