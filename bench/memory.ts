/**
 * Memory under sustained intake: `rewind api` (compiled) takes 100k webhooks of each kind (a storm of
 * one alert group repeated, then distinct incidents over 50 targets, 3 alerts each) from wrk at 32
 * connections; RSS is read from /proc every 10k requests. Baseline in the same run:
 * RSS right after start, and the bare-Fastify + BullMQ floor under the same load.
 *
 *   npm run bench:memory [-- --requests N] [--step N]
 */
import { Redis } from 'ioredis';
import { dropPrefix } from '../test/support/redis.ts';
import {
  BENCH_TOKEN,
  REDIS_URL,
  assertFreshBuild,
  benchConfig,
  startServer,
  type Server,
} from './support/process.ts';
import { arg } from './support/stats.ts';
import { hasWrk, runWrk, type BodyKind } from './support/wrk.ts';

const REQUESTS = arg('--requests', 100_000);
const STEP = arg('--step', 10_000);
assertFreshBuild();
if (!hasWrk) {
  console.error('bench:memory needs wrk on PATH (Debian: apt-get install wrk)');
  process.exit(1);
}

const prefix = `rewind-bench:memory-${process.pid}`;

async function series(name: string, server: Server, kind: BodyKind) {
  const rss = [server.rssMiB()];
  let done = 0;
  let errors = 0;
  while (done < REQUESTS) {
    const r = await runWrk({
      url: server.url,
      kind,
      token: BENCH_TOKEN,
      seconds: 600,
      connections: 32,
      maxRequests: STEP,
    });
    done += r.requests;
    errors += r.errors;
    rss.push(server.rssMiB());
  }
  const growth = rss.at(-1)! - rss[0]!;
  const peak = Math.max(...rss);
  console.log(
    `${name.padEnd(34)} ${kind.padEnd(8)} RSS MiB every ${STEP / 1000}k: ${rss.map((x) => x.toFixed(0)).join(' ')}` +
      `  → growth ${growth.toFixed(1)} MiB, peak ${peak.toFixed(0)} MiB${errors ? `, ERRORS ${errors}` : ''}`,
  );
  return growth;
}

console.log(`${REQUESTS} webhooks per kind, wrk 32 connections, Redis at ${REDIS_URL}\n`);
const rows: string[] = [];
for (const kind of ['storm', 'distinct'] as const) {
  // a fresh process per kind, so each series starts from a process that has seen no load
  const floor = await startServer(['bench/support/bare-webhook.mjs'], {
    BARE_MODE: 'bullmq',
    BARE_PREFIX: `${prefix}:bare`,
  });
  const rewind = await startServer(['bin/rewind.js', 'api'], {
    REWIND_CONFIG: benchConfig(`${prefix}:rewind-${kind}`),
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
  });
  try {
    const f = await series('bare Fastify + one BullMQ add', floor, kind);
    const r = await series('rewind api', rewind, kind);
    rows.push(`| ${kind} | ${r.toFixed(1)} MiB | ${f.toFixed(1)} MiB |`);
  } finally {
    await floor.stop();
    await rewind.stop();
  }
}
const redis = new Redis(REDIS_URL);
await dropPrefix(redis, prefix);
redis.disconnect();
console.log(
  `\n| body | rewind RSS growth over ${REQUESTS / 1000}k | floor's growth |\n| --- | ---: | ---: |\n${rows.join('\n')}`,
);
