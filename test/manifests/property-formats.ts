/** One manifest generator per format, producing a Generated (lines + version slots). */
import fc from 'fast-check';
import type { ImageVersion } from '../../src/core/types.ts';
import {
  digestArb,
  imageArb,
  indentArb,
  styleArb,
  tagArb,
  versionArb,
  type Generated,
  type Line,
  type SlotSpec,
  type Style,
} from './property-gen.ts';

function suffix(v: ImageVersion): string {
  return (v.tag !== undefined ? `:${v.tag}` : '') + (v.digest !== undefined ? `@${v.digest}` : '');
}

/** Two versions of the same shape (the file's fields stay the same). */
const sameShapeArb = fc.oneof(
  fc.tuple(tagArb, tagArb).map(([a, b]): [ImageVersion, ImageVersion] => [{ tag: a }, { tag: b }]),
  fc
    .tuple(digestArb, digestArb)
    .map(([a, b]): [ImageVersion, ImageVersion] => [{ digest: a }, { digest: b }]),
  fc.tuple(tagArb, digestArb, tagArb, digestArb).map(([a, b, c, d]): [ImageVersion, ImageVersion] => [
    { tag: a, digest: b },
    { tag: c, digest: d },
  ]),
);

export const kustomizeArb = fc
  .record({
    image: imageArb,
    versions: sameShapeArb,
    ind: fc.constantFrom('', '  '),
    styles: fc.tuple(styleArb, styleArb),
    kind: fc.boolean(),
  })
  .map(({ image, versions: [from, to], ind, styles, kind }): Generated => {
    const slots: SlotSpec[] = [];
    const lines: Line[] = [];
    if (kind) lines.push(['apiVersion: kustomize.config.k8s.io/v1beta1'], ['kind: Kustomization']);
    lines.push(
      ['resources:'],
      [`${ind}- ../base`],
      ['images:'],
      [`${ind}- name: other/img`],
      [`${ind}  newTag: v0`],
    );
    lines.push([`${ind}- name: ${image}`]);
    if (from.tag !== undefined && to.tag !== undefined) {
      slots.push({ style: styles[0], before: from.tag, after: to.tag });
      lines.push([`${ind}  newTag: `, { slot: slots.length - 1 }]);
    }
    if (from.digest !== undefined && to.digest !== undefined) {
      slots.push({ style: styles[1], before: from.digest, after: to.digest });
      lines.push([`${ind}  digest: `, { slot: slots.length - 1 }]);
    }
    return { image, from, to, lines, slots };
  });

export const helmArb = fc
  .record({
    image: imageArb,
    tags: fc.tuple(tagArb, tagArb),
    digests: fc.option(fc.tuple(digestArb, digestArb), { nil: undefined }),
    w: indentArb,
    depth: fc.nat(2),
    styles: fc.tuple(styleArb, styleArb),
  })
  .map(({ image, tags, digests, w, depth, styles }): Generated => {
    const lines: Line[] = [['replicaCount: 2']];
    const parents = ['checkout', 'sub'].slice(0, depth);
    parents.forEach((p, i) => lines.push([`${w.repeat(i)}${p}:`]));
    const at = w.repeat(depth);
    const slots: SlotSpec[] = [{ style: styles[0], before: tags[0], after: tags[1] }];
    lines.push(
      [`${at}image:`],
      [`${at}${w}repository: ${image}`],
      [`${at}${w}pullPolicy: IfNotPresent`],
      [`${at}${w}tag: `, { slot: 0 }],
    );
    const from: ImageVersion = { tag: tags[0] };
    const to: ImageVersion = { tag: tags[1] };
    if (digests) {
      slots.push({ style: styles[1], before: digests[0], after: digests[1] });
      lines.push([`${at}${w}digest: `, { slot: 1 }]);
      from.digest = digests[0];
      to.digest = digests[1];
    }
    lines.push(['resources: {}']);
    return { image, from, to, lines, slots };
  });

const KINDS: ReadonlyArray<readonly [string, string, number]> = [
  ['apps/v1', 'Deployment', 2],
  ['apps/v1', 'StatefulSet', 2],
  ['apps/v1', 'DaemonSet', 2],
  ['batch/v1', 'Job', 2],
  ['batch/v1', 'CronJob', 4],
  ['argoproj.io/v1alpha1', 'Rollout', 2],
  ['v1', 'Pod', 0],
];

export const workloadArb = fc
  .record({
    image: imageArb,
    from: versionArb,
    to: versionArb,
    kind: fc.constantFrom(...KINDS),
    w: indentArb,
    // per container: uses the image?, quote style, in initContainers?
    containers: fc.array(fc.tuple(fc.boolean(), styleArb, fc.boolean()), { minLength: 1, maxLength: 4 }),
    serviceFirst: fc.boolean(),
  })
  .map(({ image, from, to, kind: [apiVersion, kind, depth], w, containers, serviceFirst }): Generated => {
    const lines: Line[] = [];
    if (serviceFirst)
      lines.push(['apiVersion: v1'], ['kind: Service'], ['metadata:'], [`${w}name: svc`], ['---']);
    lines.push([`apiVersion: ${apiVersion}`], [`kind: ${kind}`], ['metadata:'], [`${w}name: app`], ['spec:']);
    const path =
      kind === 'CronJob'
        ? ['jobTemplate:', 'spec:', 'template:', 'spec:']
        : depth
          ? ['template:', 'spec:']
          : [];
    path.forEach((p, i) => lines.push([`${w.repeat(i + 1)}${p}`]));
    const at = w.repeat(path.length + 1);
    const slots: SlotSpec[] = [];
    const withImage = containers.map((c, i) => (i === 0 ? ([true, c[1], c[2]] as const) : c));
    for (const list of ['initContainers', 'containers'] as const) {
      const mine = withImage.filter((c) => c[2] === (list === 'initContainers'));
      if (mine.length === 0 && list === 'initContainers') continue;
      lines.push([`${at}${list}:`]);
      if (mine.length === 0)
        lines.push([`${at}${w}- name: pause`], [`${at}${w}  image: registry.k8s.io/pause:3.9`]);
      mine.forEach(([uses, style]: readonly [boolean, Style, boolean], i) => {
        lines.push([`${at}${w}- name: c${i}`]);
        if (!uses) return void lines.push([`${at}${w}  image: ${image}-sidecar${suffix(from)}`]);
        slots.push({ style, before: image + suffix(from), after: image + suffix(to) });
        lines.push([`${at}${w}  image: `, { slot: slots.length - 1 }]);
      });
    }
    return { image, from, to, lines, slots };
  });

const TAG_MARKER = ' # {"$imagepolicy": "flux-system:app:tag"}';
export const fluxArb = fc
  .record({
    image: imageArb,
    tags: fc.tuple(tagArb, tagArb),
    versions: fc.tuple(versionArb, versionArb),
    style: styleArb,
    full: fc.boolean(),
  })
  .map(({ image, tags, versions, style, full }): Generated => {
    const lines: Line[] = [['apiVersion: example.com/v1'], ['kind: App'], ['spec:']];
    if (full) {
      const [from, to] = versions;
      lines.push(['  image: ', { slot: 0 }, ' # {"$imagepolicy": "flux-system:app"}']);
      return {
        image,
        from,
        to,
        lines,
        slots: [{ style, before: image + suffix(from), after: image + suffix(to) }],
      };
    }
    lines.push(
      [`  imageName: ${image} # {"$imagepolicy": "flux-system:app:name"}`],
      ['  imageTag: ', { slot: 0 }, TAG_MARKER],
    );
    const slots = [{ style, before: tags[0], after: tags[1] }];
    return { image, from: { tag: tags[0] }, to: { tag: tags[1] }, lines, slots };
  });
