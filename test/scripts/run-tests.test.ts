import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { freePort } from '../support/net.ts';
import { hasRedisServer, pingRedis } from '../support/redis-server.ts';

// the runner run from inside a test must not think it is a nested node:test run
const { NODE_TEST_CONTEXT: _nested, ...ENV } = process.env;

/** A PATH holding node and nothing else (no redis-server). */
function pathWithoutRedis(): string {
  const dir = mkdtempSync(join(tmpdir(), 'rewind-path-'));
  symlinkSync(process.execPath, join(dir, 'node'));
  return dir;
}

describe('npm test without a Redis', () => {
  test('no Redis answers and redis-server is not on PATH: exits non-zero at once with one line saying what to install', async () => {
    const url = `redis://127.0.0.1:${await freePort()}`;
    const started = Date.now();
    const res = spawnSync(process.execPath, ['scripts/run-tests.mjs', 'test/core/targets.test.ts'], {
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...ENV, REDIS_URL: url, PATH: pathWithoutRedis() },
    });
    assert.equal(res.signal, null, 'the runner hung');
    assert.notEqual(res.status, 0);
    const lines = res.stderr.trim().split('\n');
    assert.equal(lines.length, 1, res.stderr);
    assert.match(lines[0]!, new RegExp(`no Redis answers at ${url}.*install.*redis-server`));
    assert.equal(res.stdout, '', 'no test ran');
    assert.ok(Date.now() - started < 30_000, `took ${Date.now() - started} ms`);
  });

  test(
    'no Redis answers but redis-server is on PATH: the runner starts its own, the tests use it, it is stopped at the end',
    { skip: !hasRedisServer },
    async () => {
      const url = `redis://127.0.0.1:${await freePort()}`;
      const res = spawnSync(process.execPath, ['scripts/run-tests.mjs', 'test/http/paging.test.ts'], {
        encoding: 'utf8',
        timeout: 120_000,
        env: { ...ENV, REDIS_URL: url, TEST_REPORTER: 'tap' },
      });
      assert.equal(res.status, 0, res.stdout + res.stderr);
      const port = /started redis-server on port (\d+)/.exec(res.stderr)?.[1];
      assert.ok(port, res.stderr);
      assert.match(res.stdout, /# pass [1-9]/);
      assert.match(res.stdout, /# fail 0/);
      assert.equal(await pingRedis(`redis://127.0.0.1:${port}`), false, 'its redis-server was stopped');
    },
  );
});
