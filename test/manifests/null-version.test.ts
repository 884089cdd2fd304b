/**
 * A plain YAML null (`tag: ~`, `tag: null`, `newTag: Null`) pins no version: Helm and kustomize read
 * it as unset, never as the tag "null", so it must not become a version to roll back to or from.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { extractVersion, replaceVersion } from '../../src/manifests/index.ts';

const image = 'registry.example.com/acme/checkout';

for (const word of ['~', 'null', 'Null', 'NULL']) {
  test(`Helm tag: ${word} pins nothing`, () => {
    const before = `image:\n  repository: ${image}\n  tag: ${word} # chart appVersion\n`;
    assert.deepEqual(extractVersion(before, { image }, 'values.yaml'), {});
    assert.equal(
      replaceVersion(before, { image }, { tag: 'v1.1.0' }, 'values.yaml'),
      `image:\n  repository: ${image}\n  tag: v1.1.0 # chart appVersion\n`,
    );
  });
}

test('kustomize newTag: null pins nothing; a quoted "null" is a tag', () => {
  const file = (tag: string): string => `images:\n  - name: ${image}\n    newTag: ${tag}\n`;
  assert.deepEqual(extractVersion(file('null'), { image }, 'kustomization.yaml'), {});
  assert.deepEqual(extractVersion(file('"null"'), { image }, 'kustomization.yaml'), { tag: 'null' });
});
