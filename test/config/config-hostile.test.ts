import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { parse, stringify } from 'yaml';
import { buildConfig } from '../../src/config/config.ts';
import { RewindError } from '../../src/core/errors.ts';

const EXAMPLE = readFileSync('config/rewind.yaml', 'utf8');

function configError(text: string, env: Record<string, string> = {}): string {
  try {
    buildConfig(text, 'cfg.yaml', env);
  } catch (err) {
    assert.ok(err instanceof RewindError, String(err));
    assert.equal(err.code, 'config_invalid');
    return err.message;
  }
  assert.fail('config was accepted');
}

type Doc = Record<string, Record<string, unknown>> & { targets: Record<string, unknown>[] };
function variant(edit: (d: Doc) => void): string {
  const d = parse(EXAMPLE) as Doc;
  edit(d);
  return stringify(d);
}

describe('config with hostile input', () => {
  test('a regex RE2 cannot run in linear time (backreference, lookaround) is refused at load', () => {
    assert.match(
      configError(variant((d) => (d.targets[0]!.match = { service: '~(a)\\1' }))),
      /^cfg\.yaml: targets\[0\]\.match\.service: invalid regex/,
    );
    assert.match(
      configError(variant((d) => (d.targets[0]!.match = { service: '~(?=a)a' }))),
      /^cfg\.yaml: targets\[0\]\.match\.service: invalid regex/,
    );
  });
});
