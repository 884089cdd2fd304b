import * as k8s from '@kubernetes/client-node';

type TypeMap = { baseName: string; type: string }[];
const models = k8s as unknown as Record<string, { attributeTypeMap?: TypeMap } | undefined>;

/**
 * Fields the Kubernetes API types do not have, like `kubeconform -strict` or a
 * server-side apply with fieldValidation=Strict: a misspelt `readinessprobe`
 * passes schema validation (unknown fields are allowed there) and is silently
 * dropped by the API server. Uses the field lists of @kubernetes/client-node's
 * generated models. Returns the JSON paths of unknown fields; null when the
 * kind is not a built-in one.
 */
export function unknownFields(obj: { apiVersion: string; kind: string }): string[] | null {
  const version = obj.apiVersion.split('/').pop() ?? '';
  const type = `${version.charAt(0).toUpperCase()}${version.slice(1)}${obj.kind}`;
  if (!models[type]?.attributeTypeMap) return null;
  const found: string[] = [];
  walk(obj, type, '', found);
  return found;
}

function walk(value: unknown, type: string, path: string, found: string[]): void {
  if (value === null || value === undefined) return;
  const array = /^Array<(.+)>$/.exec(type);
  if (array) {
    if (Array.isArray(value)) value.forEach((v, i) => walk(v, array[1] ?? '', `${path}[${i}]`, found));
    return;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    if (typeof value === 'object')
      for (const [k, v] of Object.entries(value)) walk(v, map[1] ?? '', `${path}.${k}`, found);
    return;
  }
  const fields = models[type]?.attributeTypeMap;
  if (!fields || typeof value !== 'object') return; // string, number, IntOrString, Date, any, object
  const byName = new Map(fields.map((f) => [f.baseName, f.type]));
  for (const [k, v] of Object.entries(value)) {
    const t = byName.get(k);
    if (t === undefined) found.push(`${path}.${k}`);
    else walk(v, t, `${path}.${k}`, found);
  }
}
