import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { parse, stringify } from 'yaml';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildConfig } from '../../src/config/config.ts';
import { redactUrl } from '../../src/observability/logger.ts';
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

  test('a recursive YAML alias is a config error naming the file, not a stack overflow', () => {
    const text = EXAMPLE.replace(/^targets:/m, 'loop: &loop\n  self: *loop\ntargets:');
    assert.match(configError(text), /^cfg\.yaml: .*(alias|recursive)/);
    const targetLoop = `targets: &t\n  - name: a\n    match: { service: *t }\n`;
    assert.match(configError(targetLoop), /^cfg\.yaml: .*(alias|recursive)/);
  });

  test('rewind check-config exits 78 on a recursive alias, naming the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rewind-cfg-'));
    const file = join(dir, 'loop.yaml');
    writeFileSync(file, `${EXAMPLE}\nloop: &loop\n  self: *loop\n`);
    const res = spawnSync(process.execPath, ['bin/rewind.js', 'check-config', '--config', file], {
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, REWIND_CONFIG: '' },
    });
    assert.equal(res.status, 78, res.stderr);
    assert.match(res.stderr, new RegExp(`${file}: .*(alias|recursive)`));
    assert.doesNotMatch(res.stderr, /RangeError|Maximum call stack/);
  });

  test('credentials inside config URLs are refused, without repeating them', () => {
    const withApi = (url: string) => variant((d) => (d.github = { ...d.github, apiUrl: url }));
    const m1 = configError(withApi('https://bot:s3cr3t@ghe.example.com/api/v3'));
    assert.match(m1, /^cfg\.yaml: github\.apiUrl: .*credentials/);
    assert.doesNotMatch(m1, /s3cr3t/);
    const m2 = configError(variant((d) => (d.redis = { url: 'redis://:s3cr3t@redis:6379' })));
    assert.match(m2, /^cfg\.yaml: redis\.url: .*REDIS_URL/);
    assert.doesNotMatch(m2, /s3cr3t/);
    const m3 = configError(EXAMPLE, {
      GITHUB_API_URL: 'https://x-access-token:s3cr3t@ghe.example.com/api/v3',
    });
    assert.match(m3, /GITHUB_API_URL: .*credentials/);
    assert.doesNotMatch(m3, /s3cr3t/);
    // the environment is where a Redis password belongs
    assert.equal(
      buildConfig(EXAMPLE, 'cfg.yaml', { REDIS_URL: 'redis://:s3cr3t@redis:6379' }).redis.url,
      'redis://:s3cr3t@redis:6379',
    );
  });

  test('userinfo is redacted from any URL that is logged', () => {
    assert.equal(redactUrl('redis://:s3cr3t@redis:6379/0'), 'redis://redacted@redis:6379/0');
    assert.equal(redactUrl('https://u:p@ghe.example.com/api/v3'), 'https://redacted@ghe.example.com/api/v3');
    assert.equal(redactUrl('https://api.github.com'), 'https://api.github.com');
    assert.equal(redactUrl('/repos/{owner}/{repo}'), '/repos/{owner}/{repo}');
    // the cluster and sentinel forms are no WHATWG URLs: still redacted (they were logged whole)
    assert.equal(
      redactUrl('redis+cluster://u:s3cr3t@h1:7000,h2:7000'),
      'redis+cluster://redacted@h1:7000,h2:7000',
    );
    assert.equal(
      redactUrl(
        'rediss+sentinel://:s3cr3t@s1:26379,s2:26379/mymaster/1?sentinelPassword=s3cr3t&sentinelUsername=w',
      ),
      'rediss+sentinel://redacted@s1:26379,s2:26379/mymaster/1?sentinelPassword=redacted&sentinelUsername=w',
    );
  });
});
