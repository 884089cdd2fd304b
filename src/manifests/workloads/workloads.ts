/** Workload manifests: `image:` of every container, init container and ephemeral container using the image. */
import { isMap, isSeq } from 'yaml';
import type { Doc, ManifestFormat, Occurrence } from '../model.ts';
import { parseImageRef } from '../image-ref.ts';
import { refOccurrence } from '../occurrences.ts';
import { get, getPath, resolve, rootMap, slotOf, str } from '../yaml-nodes.ts';

const NAME = 'workload';
const TEMPLATE = ['spec', 'template', 'spec'];
const POD_SPEC = new Map<string, readonly string[]>([
  ['Pod', ['spec']],
  ['Deployment', TEMPLATE],
  ['StatefulSet', TEMPLATE],
  ['DaemonSet', TEMPLATE],
  ['ReplicaSet', TEMPLATE],
  ['Job', TEMPLATE],
  ['Rollout', TEMPLATE],
  ['CronJob', ['spec', 'jobTemplate', 'spec', 'template', 'spec']],
]);
const CONTAINER_LISTS = ['containers', 'initContainers', 'ephemeralContainers'];

function podSpecPath(doc: Doc): readonly string[] | undefined {
  const root = rootMap(doc);
  const kind = root ? str(doc, get(doc, root, 'kind')) : undefined;
  const apiVersion = root ? str(doc, get(doc, root, 'apiVersion')) : undefined;
  if (kind === undefined || apiVersion === undefined) return undefined;
  // "Rollout" alone is too common a kind name; Argo's lives in argoproj.io
  if (kind === 'Rollout' && !apiVersion.startsWith('argoproj.io/')) return undefined;
  return POD_SPEC.get(kind);
}

export const workloads: ManifestFormat = {
  name: NAME,
  detect: (ctx) => ctx.docs.some((doc) => podSpecPath(doc) !== undefined),
  extract(ctx) {
    const occurrences: Occurrence[] = [];
    const seen: string[] = [];
    for (const doc of ctx.docs) {
      const path = podSpecPath(doc);
      const podSpec = path ? getPath(doc, doc.contents, path) : undefined;
      if (!isMap(podSpec)) continue;
      for (const list of CONTAINER_LISTS) {
        const containers = get(doc, podSpec, list);
        if (!isSeq(containers)) continue;
        for (const item of containers.items) {
          const slot = slotOf(doc, get(doc, resolve(doc, item), 'image'));
          if (!slot) continue;
          const { repository } = parseImageRef(slot.value);
          seen.push(repository);
          if (repository === ctx.image) occurrences.push(refOccurrence(ctx, NAME, slot));
        }
      }
    }
    return { occurrences, seen };
  },
};
