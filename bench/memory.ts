/**
 * Memory under sustained intake: `rewind api` (compiled) takes 100k webhooks of each kind (a storm of
 * one alert group repeated, then distinct incidents over 50 targets, 3 alerts each) from wrk at 32
 * connections; RSS (from /proc) and V8's used heap are read every 10k requests. Baselines in the same
 * run, under the same load and body: bare Fastify that parses the JSON and answers 202, and the same
 * plus one BullMQ add per request (the floor of durable intake).
 *
 * Growth is printed twice: from the process just started, and from the 10k mark. The first figure
 * carries start-up garbage V8 has not collected yet (an idle `rewind api` sits ~45 MiB above where its
 * first full GC leaves it, so it can even come out negative); the second is what a leak would show.
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
/** the goal (issue 9, goal 4): RSS growth over 100k webhooks */
const GOAL_MIB = 50;
/** one step of 10k takes seconds; this only bounds a step against a server that stopped answering */
const STEP_SECONDS = 300;
assertFreshBuild();
if (!hasWrk) {
  console.error('bench:memory needs wrk on PATH (Debian: apt-get install wrk)');
  process.exit(1);
}

const prefix = `rewind-bench:memory-${process.pid}`;
const MiB = 1024 * 1024;

interface Series {
  rss: number[];
  heap: number[];
  /** RSS growth from the first reading (just started) and from the first step on */
  fromStart: number;
  fromStep: number;
  heapFromStep: number;
  peak: number;
  errors: number;
}

/** V8's used heap in MiB: rewind's prom-client gauge, or the bare server's /memory route */
async function heapMiB(server: Server, rewind: boolean): Promise<number> {
  if (rewind) {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    const m = /^rewind_nodejs_heap_size_used_bytes (\S+)$/m.exec(text);
    return m ? Number(m[1]) / MiB : NaN;
  }
  const mem = (await (await fetch(`${server.url}/memory`)).json()) as { heapUsed: number };
  return mem.heapUsed / MiB;
}

async function series(name: string, server: Server, kind: BodyKind, rewind: boolean): Promise<Series> {
  const rss = [server.rssMiB()];
  const heap = [await heapMiB(server, rewind)];
  let done = 0;
  let errors = 0;
  while (done < REQUESTS) {
    const r = await runWrk({
      url: server.url,
      kind,
      token: BENCH_TOKEN,
      seconds: STEP_SECONDS,
      connections: 32,
      maxRequests: Math.min(STEP, REQUESTS - done),
    });
    // a server that died or stopped answering would otherwise keep this loop going forever
    if (server.child.exitCode !== null || server.child.signalCode !== null)
      throw new Error(`${name} exited during the ${kind} series (after ${done} requests)`);
    if (r.requests === 0) throw new Error(`${name} answered nothing in ${STEP_SECONDS} s (after ${done})`);
    done += r.requests;
    errors += r.errors;
    rss.push(server.rssMiB());
    heap.push(await heapMiB(server, rewind));
  }
  const s: Series = {
    rss,
    heap,
    fromStart: rss.at(-1)! - rss[0]!,
    fromStep: rss.at(-1)! - rss[1]!,
    heapFromStep: heap.at(-1)! - heap[1]!,
    peak: Math.max(...rss),
    errors,
  };
  const fmt = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(' ');
  console.log(
    `${name.padEnd(30)} ${kind.padEnd(8)} RSS MiB at 0, ${STEP / 1000}k, …: ${fmt(rss)}\n` +
      `${''.padEnd(30)} ${''.padEnd(8)} heap MiB:                ${fmt(heap)}\n` +
      `${''.padEnd(39)} RSS growth ${s.fromStart.toFixed(1)} MiB from start, ${s.fromStep.toFixed(1)} MiB from ${STEP / 1000}k; ` +
      `heap ${s.heapFromStep.toFixed(1)} MiB from ${STEP / 1000}k; peak ${s.peak.toFixed(0)} MiB` +
      `${errors ? `; ERRORS ${errors}` : ''}`,
  );
  return s;
}

console.log(`${REQUESTS} webhooks per kind, wrk 32 connections, Redis at ${REDIS_URL}\n`);
const table: string[] = [];
const growths: number[] = [];
const verdicts: string[] = [];
for (const kind of ['storm', 'distinct'] as const) {
  // fresh processes per kind, so each series starts from a process that has seen no load; one at a
  // time under load, the others idle (2 shared cores)
  const parse = await startServer(['bench/support/bare-webhook.mjs'], { BARE_MODE: 'parse' });
  const floor = await startServer(['bench/support/bare-webhook.mjs'], {
    BARE_MODE: 'bullmq',
    BARE_PREFIX: `${prefix}:bare`,
  });
  const rewind = await startServer(['bin/rewind.js', 'api'], {
    REWIND_CONFIG: benchConfig(`${prefix}:rewind-${kind}`),
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
  });
  try {
    const p = await series('bare Fastify (parse, 202)', parse, kind, false);
    const f = await series('bare Fastify + one BullMQ add', floor, kind, false);
    const r = await series('rewind api', rewind, kind, true);
    growths.push(r.fromStart, r.fromStep);
    verdicts.push(
      `rewind api, ${kind}: RSS growth ${r.fromStart.toFixed(1)} MiB from start (the floor's ${f.fromStart.toFixed(1)}: ` +
        `${(r.fromStart - f.fromStart).toFixed(1)} MiB more), ${r.fromStep.toFixed(1)} MiB from ${STEP / 1000}k`,
    );
    const row = (name: string, s: Series) =>
      `| ${kind} | ${name} | ${s.rss.map((x) => x.toFixed(0)).join(' | ')} | ${s.fromStart.toFixed(1)} | ${s.fromStep.toFixed(1)} | ${s.heapFromStep.toFixed(1)} |`;
    table.push(row('rewind api', r), row('bare + BullMQ add', f), row('bare parse', p));
  } finally {
    await Promise.all([parse.stop(), floor.stop(), rewind.stop()]);
  }
  console.log();
}
const redis = new Redis(REDIS_URL);
await dropPrefix(redis, prefix);
redis.disconnect();
const steps = Array.from(
  { length: Math.ceil(REQUESTS / STEP) },
  (_, i) => `${Math.min((i + 1) * STEP, REQUESTS) / 1000}k`,
);
console.log(
  `RSS in MiB after N webhooks; growth from start and from ${STEP / 1000}k; heap growth from ${STEP / 1000}k\n\n` +
    `| body | process | 0 | ${steps.join(' | ')} | growth | from ${STEP / 1000}k | heap from ${STEP / 1000}k |\n` +
    `| --- | --- |${' ---: |'.repeat(steps.length + 4)}\n${table.join('\n')}\n`,
);
const worst = Math.max(...growths);
console.log(verdicts.join('\n'));
console.log(
  `rewind api: worst RSS growth ${worst.toFixed(1)} MiB over ${REQUESTS / 1000}k webhooks; goal ≤ ${GOAL_MIB} MiB: ${worst <= GOAL_MIB ? 'met' : 'NOT met'}`,
);
