/**
 * Webhook intake throughput: `rewind api` (compiled, as in production) against two baselines
 * measured in the same run, each a process of its own next to the others:
 *   - bare Fastify that parses the same JSON body and answers 202 (the HTTP + JSON ceiling)
 *   - bare Fastify plus one BullMQ `add` per request (the floor of durable intake: one Redis round trip)
 * The same 3-alert Alertmanager notifications for all three: a storm (one alert group repeated
 * verbatim) and distinct incidents over 50 targets. Load from wrk, 32 connections; servers and bodies
 * alternated, several rounds, medians. rewind runs at LOG_LEVEL=info (the default).
 *
 *   npm run bench:webhook [-- --seconds S] [--rounds R] [--connections C]
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
import { arg, median } from './support/stats.ts';
import { hasWrk, runWrk, type BodyKind, type WrkResult } from './support/wrk.ts';

const SECONDS = arg('--seconds', 10);
const ROUNDS = arg('--rounds', 3);
const CONNECTIONS = arg('--connections', 32);

assertFreshBuild();
if (!hasWrk) {
  console.error('bench:webhook needs wrk on PATH (Debian: apt-get install wrk)');
  process.exit(1);
}

const prefix = `rewind-bench:webhook-${process.pid}`;
const servers: Record<string, () => Promise<Server>> = {
  'bare Fastify (parse JSON, 202)': () =>
    startServer(['bench/support/bare-webhook.mjs'], { BARE_MODE: 'parse' }),
  'bare Fastify + one BullMQ add': () =>
    startServer(['bench/support/bare-webhook.mjs'], { BARE_MODE: 'bullmq', BARE_PREFIX: `${prefix}:bare` }),
  'rewind api': () =>
    startServer(['bin/rewind.js', 'api'], {
      REWIND_CONFIG: benchConfig(`${prefix}:rewind`),
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
    }),
};
const kinds: BodyKind[] = ['storm', 'distinct'];

const started: Record<string, Server> = {};
const results = new Map<string, Array<WrkResult & { cpuUs: number }>>();
try {
  for (const [name, start] of Object.entries(servers)) {
    started[name] = await start();
    // warm-up: JIT, connection pools, Lua script cache
    await runWrk({
      url: started[name].url,
      kind: 'distinct',
      token: BENCH_TOKEN,
      seconds: 2,
      connections: CONNECTIONS,
    });
  }
  console.log(
    `wrk, 1 thread, ${CONNECTIONS} connections, ${SECONDS} s per run, ${ROUNDS} rounds alternated; Redis at ${REDIS_URL}\n`,
  );
  for (let round = 1; round <= ROUNDS; round++) {
    for (const kind of kinds) {
      for (const [name, server] of Object.entries(started)) {
        const cpu0 = server.cpuSeconds();
        const w = await runWrk({
          url: server.url,
          kind,
          token: BENCH_TOKEN,
          seconds: SECONDS,
          connections: CONNECTIONS,
        });
        const r = { ...w, cpuUs: ((server.cpuSeconds() - cpu0) * 1e6) / w.requests };
        const key = `${kind}|${name}`;
        results.set(key, [...(results.get(key) ?? []), r]);
        console.log(
          `round ${round}  ${kind.padEnd(8)} ${name.padEnd(32)} ${r.rps.toFixed(0).padStart(6)} req/s  p50 ${r.p50Ms.toFixed(1)} ms  p99 ${r.p99Ms.toFixed(1)} ms  CPU ${r.cpuUs.toFixed(0)} µs/req${r.errors ? `  ERRORS ${r.errors}` : ''}`,
        );
      }
    }
  }
} finally {
  for (const s of Object.values(started)) await s.stop();
  const redis = new Redis(REDIS_URL);
  await dropPrefix(redis, prefix);
  redis.disconnect();
}

const med = (kind: BodyKind, name: string) => {
  const rs = results.get(`${kind}|${name}`) ?? [];
  return {
    rps: median(rs.map((r) => r.rps)),
    p99: median(rs.map((r) => r.p99Ms)),
    cpuUs: median(rs.map((r) => r.cpuUs)),
    errors: rs.reduce((a, r) => a + r.errors, 0),
  };
};
const [bare, floor, rewind] = Object.keys(servers) as [string, string, string];
console.log(
  `\nmedians of ${ROUNDS} rounds. Throughput swings with whatever else runs on the machine; CPU per request ` +
    `(the server process' user + system time / requests) does much less, and its ratio is the throughput ` +
    `ratio on a machine with a core to spare for each.\n`,
);
console.log(
  '| body | bare Fastify | + one BullMQ add (floor) | rewind api | rewind / bare | floor / bare | rewind p99 | CPU/req bare · floor · rewind | CPU bare / rewind | errors |',
);
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const kind of kinds) {
  const b = med(kind, bare);
  const f = med(kind, floor);
  const r = med(kind, rewind);
  console.log(
    `| ${kind === 'storm' ? 'storm: one alert group repeated' : 'distinct incidents over 50 targets'} | ${b.rps.toFixed(0)} req/s | ${f.rps.toFixed(0)} req/s | ${r.rps.toFixed(0)} req/s | ${(r.rps / b.rps).toFixed(3)} | ${(f.rps / b.rps).toFixed(3)} | ${r.p99.toFixed(1)} ms | ${b.cpuUs.toFixed(0)} · ${f.cpuUs.toFixed(0)} · ${r.cpuUs.toFixed(0)} µs | ${(b.cpuUs / r.cpuUs).toFixed(3)} | ${b.errors + f.errors + r.errors} |`,
  );
}
