/**
 * The edited kustomization.yaml is what kustomize itself renders: build the
 * overlay before and after replaceVersion and compare the rendered output.
 * Skipped when kustomize is not installed.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { test } from 'node:test';
import type { ImageVersion } from '../../src/core/types.ts';
import { imageReference } from '../../src/core/version.ts';
import { replaceVersion } from '../../src/manifests/index.ts';

const IMAGE = 'registry.example.com/acme/checkout';
const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'ab'.repeat(32)}`;

function goBin(): string | undefined {
  const res = spawnSync('go', ['env', 'GOPATH'], { encoding: 'utf8' });
  const gopath = res.status === 0 ? res.stdout.trim() : '';
  return gopath ? join(gopath.split(delimiter)[0] ?? gopath, 'bin') : undefined;
}

function findKustomize(): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), goBin(), '/root/go/bin'];
  return dirs
    .filter((d): d is string => !!d)
    .map((d) => join(d, 'kustomize'))
    .find((p) => existsSync(p));
}

const BASE_DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: checkout
spec:
  selector:
    matchLabels: {app: checkout}
  template:
    metadata:
      labels: {app: checkout}
    spec:
      initContainers:
        - name: migrate
          image: ${IMAGE}:base
      containers:
        - name: app
          image: ${IMAGE}:base
        - name: proxy
          image: envoyproxy/envoy:v1.30.0
`;

interface BuildCase {
  name: string;
  images: string;
  /** the version kustomize renders before the edit (the base's tag when the overlay pins none) */
  from: ImageVersion;
  to: ImageVersion;
}

const cases: BuildCase[] = [
  {
    name: 'newTag',
    images: `  # pinned by CI\n  - name: ${IMAGE}\n    newTag: v1.2.0 # current\n`,
    from: { tag: 'v1.2.0' },
    to: { tag: 'v1.1.0' },
  },
  {
    name: 'added newTag (flow)',
    images: `  - {name: ${IMAGE}}\n`,
    from: { tag: 'base' },
    to: { tag: 'v1.1.0' },
  },
  {
    name: 'digest',
    images: `  - name: ${IMAGE}\n    digest: ${D1}\n`,
    from: { digest: D1 },
    to: { digest: D2 },
  },
  {
    name: 'numeric tag',
    images: `  - name: ${IMAGE}\n    newTag: "1.10"\n`,
    from: { tag: '1.10' },
    to: { tag: '1.9' },
  },
];

const kustomize = findKustomize();

function build(dir: string): string {
  const res = spawnSync(kustomize ?? 'kustomize', ['build', dir], { encoding: 'utf8' });
  assert.equal(res.status, 0, res.stderr);
  return res.stdout;
}

for (const c of cases) {
  test(`kustomize build renders the edited overlay: ${c.name}`, (t) => {
    if (kustomize === undefined) {
      t.skip('kustomize not on PATH');
      return;
    }
    const root = mkdtempSync(join(tmpdir(), 'rewind-kustomize-'));
    t.after(() => rmSync(root, { recursive: true, force: true }));
    mkdirSync(join(root, 'base'));
    mkdirSync(join(root, 'overlay'));
    writeFileSync(join(root, 'base', 'deployment.yaml'), BASE_DEPLOYMENT);
    writeFileSync(join(root, 'base', 'kustomization.yaml'), 'resources:\n  - deployment.yaml\n');
    const overlay = join(root, 'overlay', 'kustomization.yaml');
    writeFileSync(
      overlay,
      `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ../base\nimages:\n${c.images}`,
    );

    const before = build(join(root, 'overlay'));
    const fromRef = imageReference(IMAGE, c.from);
    assert.equal(before.split(`image: ${fromRef}\n`).length - 1, 2, before);

    writeFileSync(
      overlay,
      replaceVersion(readFileSync(overlay, 'utf8'), { image: IMAGE }, c.to, 'kustomization.yaml'),
    );
    const after = build(join(root, 'overlay'));
    // the only change in the rendered output: both containers now use the new version
    assert.equal(after, before.replaceAll(`image: ${fromRef}\n`, `image: ${imageReference(IMAGE, c.to)}\n`));
    assert.notEqual(after, before);
  });
}
