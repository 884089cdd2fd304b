/**
 * CPU profile of `rewind api` (compiled) under load from wrk: starts it with `node --cpu-prof`,
 * drives a storm (or distinct incidents) for S seconds, stops it (the profile is written on exit)
 * and prints the functions with the most self time, with the share of the process' samples.
 * The .cpuprofile stays in .tmp/profile/ for Chrome DevTools or speedscope.
 *
 *   npm run bench:profile [-- --seconds S] [--distinct]
 */
import { mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { dropPrefix } from '../test/support/redis.ts';
import { BENCH_TOKEN, REDIS_URL, assertFreshBuild, benchConfig, startServer } from './support/process.ts';
import { arg } from './support/stats.ts';
import { hasWrk, runWrk } from './support/wrk.ts';

const SECONDS = arg('--seconds', 15);
const TOP = arg('--top', 25);
const kind = process.argv.includes('--distinct') ? 'distinct' : 'storm';
assertFreshBuild();
if (!hasWrk) {
  console.error('bench:profile needs wrk on PATH (Debian: apt-get install wrk)');
  process.exit(1);
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

const dir = '.tmp/profile';
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const prefix = `rewind-bench:profile-${process.pid}`;
const server = await startServer(
  ['bin/rewind.js', 'api'],
  { REWIND_CONFIG: benchConfig(prefix), LOG_LEVEL: process.env.LOG_LEVEL ?? 'info' },
  { nodeArgs: ['--cpu-prof', '--cpu-prof-dir', dir] },
);
const r = await runWrk({ url: server.url, kind, token: BENCH_TOKEN, seconds: SECONDS, connections: 32 });
await server.stop();
const redis = new Redis(REDIS_URL);
await dropPrefix(redis, prefix);
redis.disconnect();

const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
if (!file) throw new Error('no .cpuprofile written');
const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { nodes: ProfileNode[] };
const self = new Map<string, number>();
let total = 0;
for (const n of profile.nodes) {
  const hits = n.hitCount ?? 0;
  total += hits;
  const { functionName, url, lineNumber } = n.callFrame;
  const where = url
    ? `${url.replace(/^file:\/\/.*?\/node_modules\//, '').replace(/^file:\/\/.*\/(dist|src)\//, '$1/')}:${lineNumber + 1}`
    : '';
  const key = `${functionName || '(anonymous)'} ${where}`.trim();
  self.set(key, (self.get(key) ?? 0) + hits);
}
console.log(
  `rewind api, ${kind}, ${SECONDS} s: ${r.rps.toFixed(0)} req/s, p99 ${r.p99Ms.toFixed(1)} ms; profile ${join(dir, file)}\n`,
);
console.log('self %  function');
for (const [name, hits] of [...self].sort((a, b) => b[1] - a[1]).slice(0, TOP)) {
  console.log(`${((100 * hits) / total).toFixed(1).padStart(6)}  ${name}`);
}
