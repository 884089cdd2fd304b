/**
 * Golden fixtures for the hold: test/fixtures/hold/<case>/{before.yaml,held.yaml,case.json}.
 * held.yaml is written by hand: the rollback commit's version of the file.
 * Release must give back before.yaml's marker / ignore list byte for byte.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import { RewindError } from '../../src/core/errors.ts';
import { extractVersion, replaceVersion } from '../../src/manifests/index.ts';
import { countHeldMarkers, holdMarkers, releaseMarkers } from '../../src/manifests/hold/markers.ts';
import { addIgnoredTag, heldTags, releaseIgnoredTags } from '../../src/manifests/hold/ignore-list.ts';

const ROOT = join(import.meta.dirname, '..', 'fixtures', 'hold');
const read = (c: string, f: string) => readFileSync(join(ROOT, c, f), 'utf8');

interface HoldCase {
  kind: 'markers' | 'ignore-list';
  image: string;
  from: string;
  to: string;
}

for (const name of readdirSync(ROOT).sort()) {
  const c = JSON.parse(read(name, 'case.json')) as HoldCase;
  const before = read(name, 'before.yaml');
  const held = read(name, 'held.yaml');
  describe(`hold golden: ${name}`, () => {
    if (c.kind === 'markers') {
      test('the rollback commit changes the tag and holds the marker on that line only', () => {
        const rolled = replaceVersion(before, { image: c.image }, { tag: c.to }, name);
        const out = holdMarkers(before, rolled);
        assert.equal(out.content, held);
        assert.equal(out.held, 1);
        assert.ok(!held.split('\n').some((l) => l.includes(c.to) && l.includes('"$imagepolicy"')));
        // rewind still reads the held line, so a second rollback of the same target works
        assert.deepEqual(extractVersion(held, { image: c.image }, name), { tag: c.to });
        assert.equal(countHeldMarkers(held), 1);
      });
      test('release restores the marker byte for byte (the tag stays rolled back)', () => {
        const rolled = replaceVersion(before, { image: c.image }, { tag: c.to }, name);
        assert.equal(releaseMarkers(held).content, rolled);
        assert.equal(releaseMarkers(rolled).released, 0);
      });
    } else {
      test('the bad tag is added to the image ignore list, the rest byte for byte', () => {
        const out = addIgnoredTag(before, c.image, c.from, name);
        assert.equal(out, held);
        assert.deepEqual(parse(out) !== null, true);
        assert.ok(heldTags(out).includes(c.from));
      });
      test('release removes exactly what the hold added', () => {
        assert.equal(releaseIgnoredTags(held).content, before);
      });
      test('a second hold on the same file survives with the first, and one release lifts both', () => {
        const twice = addIgnoredTag(held, c.image, 'v1.3.0', name);
        assert.deepEqual(
          heldTags(twice).filter((t) => t.startsWith('v')),
          [c.from, 'v1.3.0'],
        );
        assert.equal(
          addIgnoredTag(twice, c.image, 'v1.3.0', name),
          twice,
          'holding a held tag again changes nothing',
        );
        assert.equal(releaseIgnoredTags(twice).content, before);
      });
    }
  });
}

describe('hold: refused shapes', () => {
  test("a flow ignoreTags list on the image or the team's own ignore-tags annotation is refused, not rewritten", () => {
    const flow = read('updater-block', 'before.yaml').replace(
      /ignoreTags:\n\s+- "\*-rc\*" # release candidates\n\s+- latest/,
      'ignoreTags: ["*-rc*", latest]',
    );
    assert.throws(
      () => addIgnoredTag(flow, 'registry.example.com/acme/checkout', 'v1.2.0', 'u.yaml'),
      (e: unknown) => e instanceof RewindError && /not a block list/.test(e.message),
    );
    const own = read('application', 'before.yaml').replace(
      'update-strategy: semver',
      'update-strategy: semver\n    argocd-image-updater.argoproj.io/checkout.ignore-tags: latest',
    );
    assert.throws(
      () => addIgnoredTag(own, 'registry.example.com/acme/checkout', 'v1.2.0', 'a.yaml'),
      /team's own/,
    );
    assert.throws(
      () => addIgnoredTag('kind: ConfigMap\n', 'registry.example.com/acme/checkout', 'v1.2.0', 'c.yaml'),
      /no ImageUpdater image/,
    );
  });
});
