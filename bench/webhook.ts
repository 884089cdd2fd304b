/**
 * Webhook admission throughput on loopback: a real Fastify server, a real
 * Redis, the real admission script and BullMQ enqueue. Baseline in the same
 * run: GET /healthz on the same server (HTTP + Fastify cost alone).
 *
 *   npx tsx bench/webhook.ts [--requests N] [--concurrency C]
 */
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { createAuditStore } from '../src/audit/store.ts';
import { buildTargetIndex } from '../src/core/targets.ts';
import { buildApp } from '../src/http/app.ts';
import { createMetrics } from '../src/observability/metrics.ts';
import { createRemediationQueue } from '../src/queue/queue.ts';

const arg = (name: string, d: number) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : d;
};
const REQUESTS = arg('--requests', 4000);
const CONCURRENCY = arg('--concurrency', 32);
const TOKEN = 'bench-token';
const prefix = `rewind-bench:${process.pid}`;

async function run(label: string, make: (i: number) => { url: string; init: RequestInit }) {
  const latencies: number[] = [];
  let next = 0;
  let errors = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < REQUESTS) {
        const i = next++;
        const { url, init } = make(i);
        const s = performance.now();
        const res = await fetch(url, init);
        await res.arrayBuffer();
        if (res.status >= 300) errors++;
        latencies.push(performance.now() - s);
      }
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0;
  const row = { label, rps: REQUESTS / secs, p50: q(0.5), p99: q(0.99), errors };
  console.log(
    `${label.padEnd(44)} ${row.rps.toFixed(0).padStart(7)} req/s  p50 ${row.p50.toFixed(2)} ms  p99 ${row.p99.toFixed(2)} ms  errors ${errors}`,
  );
  return row;
}

async function main() {
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', {
    enableOfflineQueue: true,
    maxRetriesPerRequest: 1,
  });
  const queue = createRemediationQueue({ connection: redis, prefix });
  const targets = Array.from({ length: 50 }, (_, i) => ({
    name: `svc-${i}`,
    match: { service: `svc-${i}`, env: 'prod' },
    repo: 'acme/gitops',
    branch: 'main',
    path: `apps/svc-${i}/kustomization.yaml`,
    image: `registry.example.com/acme/svc-${i}`,
    environment: 'prod',
    reviewers: [],
  }));
  const app = await buildApp({
    targets: buildTargetIndex(targets),
    store: createAuditStore({ redis, prefix }),
    queue,
    metrics: createMetrics({ defaultMetrics: false }),
    clock: { now: () => new Date() },
    dryRun: false,
    webhookToken: TOKEN,
    bodyLimit: 1024 * 1024,
    checks: { redis: async () => true, policy: () => true },
  });
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  const sample = JSON.parse(readFileSync('test/fixtures/alertmanager/a-firing-single.json', 'utf8')) as {
    alerts: Array<Record<string, unknown> & { labels: Record<string, string> }>;
  };
  const body = (svc: number, fp: string, startsAt = '2026-11-26T00:32:08.699Z') => {
    const p = structuredClone(sample);
    const a = p.alerts[0]!;
    a.labels = { ...a.labels, service: `svc-${svc}`, env: 'prod' };
    a.fingerprint = fp;
    a.startsAt = startsAt;
    return JSON.stringify(p);
  };
  const post = (payload: string) => ({
    url: `${base}/v1/alertmanager`,
    init: {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: payload,
    },
  });
  console.log(
    `${REQUESTS} requests, ${CONCURRENCY} concurrent, loopback, Redis at ${redis.options.host}:${redis.options.port}\n`,
  );
  const same = body(0, '45b5a9c303a85250');
  const baseline = await run('baseline: GET /healthz', () => ({ url: `${base}/healthz`, init: {} }));
  const storm = await run('storm: one alert repeated (seen again)', () => post(same));
  const distinct = await run('distinct incidents over 50 targets', (i) =>
    post(
      body(
        i % 50,
        (0x1000000000000000n + BigInt(i)).toString(16),
        new Date(Date.UTC(2026, 10, 26, 0, 0, i)).toISOString(),
      ),
    ),
  );
  const counts = await queue.counts();
  console.log(
    `\nratios to baseline: storm ${(storm.rps / baseline.rps).toFixed(2)}x, distinct ${(distinct.rps / baseline.rps).toFixed(2)}x throughput`,
  );
  console.log(
    `jobs enqueued: ${counts.waiting ?? 0} waiting (expected 50: one per target, whatever the number of alerts)`,
  );
  await app.close();
  await queue.close();
  const keys = await redis.keys(`${prefix}:*`);
  for (let i = 0; i < keys.length; i += 500) await redis.del(...keys.slice(i, i + 500));
  redis.disconnect();
}

await main();
