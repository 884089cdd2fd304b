#!/usr/bin/env node
// Node 20's test runner has no glob support: find the test files ourselves and
// run them through tsx. Arguments narrow the run to files whose path contains them.
// The tests need Redis: the one at $REDIS_URL when it answers, else one started
// here from redis-server on PATH (stopped at the end), else one line saying what
// to install, at once.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { register } from 'tsx/esm/api';

register();
const { hasRedisServer, noRedisLine, pingRedis, startRedis, stopRedis } =
  await import('../test/support/redis-server.ts');
const { freePort } = await import('../test/support/net.ts');

function walk(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'fixtures' ? [] : walk(p);
    return e.name.endsWith('.test.ts') ? [p] : [];
  });
}

const filters = process.argv.slice(2);
const files = walk('test')
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}

const env = { ...process.env, REDIS_URL: process.env.REDIS_URL || 'redis://127.0.0.1:6379' };
let redis = null;
let redisDir = null;
if (!(await pingRedis(env.REDIS_URL))) {
  if (!hasRedisServer) {
    console.error(noRedisLine(env.REDIS_URL));
    process.exit(1);
  }
  const port = await freePort();
  redisDir = mkdtempSync(join(tmpdir(), 'rewind-test-redis-'));
  redis = await startRedis(port, redisDir);
  env.REDIS_URL = `redis://127.0.0.1:${port}`;
  console.error(
    `no Redis answered at ${process.env.REDIS_URL || 'redis://127.0.0.1:6379'}: started redis-server on port ${port} for the tests`,
  );
}

async function stopOwnRedis() {
  if (redis) await stopRedis(redis);
  if (redisDir) rmSync(redisDir, { recursive: true, force: true });
  redis = null;
}

const reporter = process.env.TEST_REPORTER ?? 'spec';
const child = spawn(
  process.execPath,
  ['--import', 'tsx', '--test', `--test-reporter=${reporter}`, '--test-concurrency=2', ...files],
  { stdio: 'inherit', env },
);
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
const code = await new Promise((resolve) => child.on('exit', (c, s) => resolve(c ?? (s ? 1 : 0))));
await stopOwnRedis();
process.exit(code);
