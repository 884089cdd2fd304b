/**
 * Read-only helpers over documents parsed with the failsafe schema: every
 * scalar is the string written in the source, so a plain `tag: 1.10` reads as
 * "1.10", never as the number 1.1.
 */
import { isAlias, isMap, isScalar, isSeq, parseAllDocuments, visit } from 'yaml';
import type { Node, Pair, Scalar, YAMLMap } from 'yaml';
import type { Doc } from './model.ts';

export function parseDocs(content: string): { docs: Doc[]; error?: string } {
  const docs = Array.from(parseAllDocuments(content, { schema: 'failsafe' }));
  for (const doc of docs) {
    const err = doc.errors[0];
    if (err) return { docs, error: (err.message.split('\n')[0] ?? err.code).replace(/:$/, '') };
  }
  return { docs };
}

/** The node itself, or the anchored node an alias points to. */
export function resolve(doc: Doc, node: unknown): Node | undefined {
  if (isAlias(node)) return node.resolve(doc) ?? undefined;
  return isMap(node) || isSeq(node) || isScalar(node) ? node : undefined;
}

export function pairOf(map: YAMLMap, key: string): Pair | undefined {
  return map.items.find((p) => isScalar(p.key) && p.key.value === key);
}

export function get(doc: Doc, node: unknown, key: string): Node | undefined {
  const map = resolve(doc, node);
  if (!isMap(map)) return undefined;
  const pair = pairOf(map, key);
  return pair ? resolve(doc, pair.value) : undefined;
}

/** Follow a path of map keys and (numeric) sequence indexes. */
export function getPath(doc: Doc, node: unknown, path: readonly string[]): Node | undefined {
  let cur = resolve(doc, node);
  for (const seg of path) {
    if (isSeq(cur) && /^\d+$/.test(seg)) cur = resolve(doc, cur.items[Number(seg)]);
    else cur = get(doc, cur, seg);
    if (cur === undefined) return undefined;
  }
  return cur;
}

/** The string a scalar holds, or undefined for anything else. */
export function str(doc: Doc, node: unknown): string | undefined {
  const n = resolve(doc, node);
  if (!isScalar(n)) return undefined;
  return typeof n.value === 'string' ? n.value : String(n.value ?? '');
}

/** Every map in a document, aliases not followed (their targets are visited where they are defined). */
export function allMaps(doc: Doc): YAMLMap[] {
  const maps: YAMLMap[] = [];
  visit(doc, {
    Map(_key, node) {
      maps.push(node);
    },
  });
  return maps;
}

/** A scalar as it sits in the source: the byte range of its token (quotes included) and its style. */
export interface Slot {
  start: number;
  end: number;
  value: string;
  type: Scalar.Type | undefined;
}

const YAML_NULL = /^(?:~|null|Null|NULL)$/;

export function slotOf(doc: Doc, node: unknown): Slot | undefined {
  const n = resolve(doc, node);
  if (!isScalar(n) || !n.range) return undefined;
  const raw = typeof n.value === 'string' ? n.value : String(n.value ?? '');
  // A plain null is "unset" to Helm and kustomize (go-yaml), not the string "null".
  const value = n.type === 'PLAIN' && YAML_NULL.test(raw) ? '' : raw;
  return { start: n.range[0], end: n.range[1], value, type: n.type };
}

/** The root map of a Kubernetes-style document, if it is one. */
export function rootMap(doc: Doc): YAMLMap | undefined {
  return isMap(doc.contents) ? doc.contents : undefined;
}
