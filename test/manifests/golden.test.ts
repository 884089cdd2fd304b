/**
 * Golden fixtures: test/fixtures/manifests/<case>/{before.yaml,after.yaml,case.json}.
 * The after files are written by hand, so a change in the editor's output
 * shows up as a byte difference here. negative/cases.json holds the files
 * that must be refused, with the error code.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { RewindError, type ErrorCode } from '../../src/core/errors.ts';
import type { ImageVersion } from '../../src/core/types.ts';
import { extractVersion, replaceVersion, type ImageSpec } from '../../src/manifests/index.ts';
import { assertDiffConfined } from './golden-diff.ts';

const ROOT = join(import.meta.dirname, '..', 'fixtures', 'manifests');

interface GoldenCase {
  image: string;
  tagKey?: string;
  from: ImageVersion;
  to: ImageVersion;
}

interface NegativeCase {
  file: string;
  image: string;
  tagKey?: string;
  code: ErrorCode;
  /** text the message must contain besides the file name */
  mentions?: string;
  /** "replace": the file reads fine, only the edit is refused */
  phase?: 'replace';
  to?: ImageVersion;
}

function specOf(c: { image: string; tagKey?: string }): ImageSpec {
  return c.tagKey === undefined ? { image: c.image } : { image: c.image, tagKey: c.tagKey };
}

const cases = readdirSync(ROOT, { withFileTypes: true })
  .filter((e) => e.isDirectory() && e.name !== 'negative')
  .map((e) => e.name)
  .sort();

describe('manifest goldens', () => {
  test('there are at least 30 cases', () => {
    assert.ok(cases.length >= 30, `only ${cases.length} golden cases`);
  });

  for (const name of cases) {
    test(name, () => {
      const dir = join(ROOT, name);
      const c = JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8')) as GoldenCase;
      const before = readFileSync(join(dir, 'before.yaml'), 'utf8');
      const after = readFileSync(join(dir, 'after.yaml'), 'utf8');
      const file = `${name}/before.yaml`;
      assert.deepEqual(extractVersion(before, specOf(c), file), c.from);
      const out = replaceVersion(before, specOf(c), c.to, file);
      assert.equal(out, after);
      assert.deepEqual(extractVersion(out, specOf(c), file), c.to);
      assertDiffConfined(before, out, c.from, c.to);
    });
  }
});

describe('manifests that are refused', () => {
  const table = JSON.parse(readFileSync(join(ROOT, 'negative', 'cases.json'), 'utf8')) as NegativeCase[];
  for (const c of table) {
    test(`${c.file}: ${c.code}`, () => {
      const content = readFileSync(join(ROOT, 'negative', c.file), 'utf8');
      const check = (err: unknown): boolean => {
        assert.ok(err instanceof RewindError);
        assert.equal(err.code, c.code, err.message);
        assert.equal(err.retryable, false);
        assert.ok(err.message.includes(c.file), err.message);
        if (c.mentions !== undefined) assert.ok(err.message.includes(c.mentions), err.message);
        return true;
      };
      if (c.phase === 'replace') assert.doesNotThrow(() => extractVersion(content, specOf(c), c.file));
      else assert.throws(() => extractVersion(content, specOf(c), c.file), check);
      assert.throws(() => replaceVersion(content, specOf(c), c.to ?? { tag: 'v9' }, c.file), check);
    });
  }
});
