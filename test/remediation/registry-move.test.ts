/**
 * A registry migration: the target's Kustomize entry gains `newName` (or a
 * Helm chart's `repository` changes under an explicit tagKey). A tag of the
 * old registry may not exist in the new one, or be another build: a candidate
 * must come from a revision of the repository the head pins.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analyzeHistory } from '../../src/core/rollback.ts';
import type { FileCommit, Target } from '../../src/core/types.ts';
import { extractImage, type ImageSpec } from '../../src/manifests/index.ts';
import { revisionVersion } from '../../src/remediation/decide.ts';

const IMAGE = 'registry.example.com/acme/checkout';

const kustomization = (tag: string, newName?: string): string =>
  `images:\n  - name: ${IMAGE}\n${newName ? `    newName: ${newName}\n` : ''}    newTag: ${tag}\n`;

const helm = (repository: string, tag: string): string =>
  `app:\n  image:\n    repository: ${repository}\n    tag: ${tag}\n`;

async function* commits(contents: string[]): AsyncGenerator<FileCommit> {
  for (const [i, content] of contents.entries())
    yield { sha: `c${i}`, message: `change ${i}`, committedAt: '2026-11-26T00:00:00Z', content };
}

/** What the remediation does: the head's repository, and each revision's version with its repository. */
async function target(newestFirst: string[], spec: ImageSpec, path: string) {
  const head = extractImage(newestFirst[0] ?? '', spec, path);
  const t: Target = {
    name: 'checkout-prod',
    match: {},
    repo: 'acme/gitops',
    branch: 'main',
    path,
    image: spec.image,
    environment: 'prod',
    reviewers: [],
    ...(spec.tagKey !== undefined ? { tagKey: spec.tagKey } : {}),
  };
  return analyzeHistory(commits(newestFirst), (c) => revisionVersion(c, t), head.version, {
    image: spec.image,
    repository: head.repository,
  });
}

describe('registry migrations', () => {
  it('Kustomize newName: a tag of the old registry is never proposed for the new one', async () => {
    const a = await target(
      [kustomization('v1.2.0', 'ghcr.io/acme/checkout'), kustomization('v1.1.0'), kustomization('v1.0.0')],
      { image: IMAGE },
      'kustomization.yaml',
    );
    assert.equal(a.candidate, null);
    assert.match(a.reason ?? '', /no earlier version/);
    assert.equal(a.current.commit, 'c0', 'the current release began with the move');
  });

  it('Kustomize newName: same tag, new registry ends the current release; newer tags of the new registry stay candidates', async () => {
    const a = await target(
      [
        kustomization('v1.3.0', 'ghcr.io/acme/checkout'),
        kustomization('v1.2.0', 'ghcr.io/acme/checkout'),
        kustomization('v1.2.0'),
        kustomization('v1.1.0'),
      ],
      { image: IMAGE },
      'kustomization.yaml',
    );
    assert.deepEqual(a.candidate, { to: { tag: 'v1.2.0' }, toCommit: 'c1' });
    const moved = await target(
      [kustomization('v1.2.0', 'ghcr.io/acme/checkout'), kustomization('v1.2.0'), kustomization('v1.1.0')],
      { image: IMAGE },
      'kustomization.yaml',
    );
    assert.equal(moved.current.commit, 'c0');
    assert.equal(moved.candidate, null);
  });

  it('Helm values with an explicit tagKey: the repository beside it must match', async () => {
    const spec = { image: IMAGE, tagKey: 'app.image.tag' };
    const a = await target(
      [helm('ghcr.io/acme/checkout', 'v2'), helm('ghcr.io/acme/checkout', 'v1'), helm(IMAGE, 'v0')],
      spec,
      'values.yaml',
    );
    assert.deepEqual(a.candidate?.to, { tag: 'v1' });
    const b = await target([helm('ghcr.io/acme/checkout', 'v1'), helm(IMAGE, 'v0')], spec, 'values.yaml');
    assert.equal(b.candidate, null);
  });

  it('workloads match the image by repository: an old registry ends the history', async () => {
    const deploy = (image: string) =>
      `apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: checkout }\nspec:\n  template:\n    spec:\n      containers:\n        - name: app\n          image: ${image}\n`;
    const a = await target(
      [deploy(`${IMAGE}:v2`), deploy(`${IMAGE}:v1`), deploy('old.example.com/checkout:v0')],
      { image: IMAGE },
      'deploy.yaml',
    );
    assert.deepEqual(a.candidate?.to, { tag: 'v1' });
    assert.equal(a.commitsRead, 3);
  });
});
