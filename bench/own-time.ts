/**
 * rewind's own time per remediation: alert received (the record's createdAt) → PR merged (its
 * `merged` step), minus the time at least one GitHub request was in flight (the emulator stamps when
 * each request arrived and was answered). Run against the GitHub API emulator with no latency and
 * with 100 ms per request (a typical api.github.com round trip), one auto-merged rollback after
 * another, each on its own repo (the shipped policy allows one rollback per target an hour).
 * The full service as `rewind serve` composes it, in this process: real Redis, BullMQ, Wasm policy.
 * Write spacing (1 s between GitHub writes in production) is off: it is a deliberate wait, not work.
 *
 *   npm run bench:own-time [-- --remediations N]
 */
import { sampleJson } from '../test/support/fixtures.ts';
import { post } from '../test/support/app.ts';
import { startGitHubEmulator, type RecordedRequest } from '../test/support/github-emulator.ts';
import { SAMPLE_IMAGE, SAMPLE_PATH, seedSampleRepo } from '../test/support/gitops-sample.ts';
import { startStack } from '../test/support/stack.ts';
import { arg, quantile } from './support/stats.ts';

const N = arg('--remediations', 20);

/** Milliseconds within [from, to] covered by at least one request's [receivedAt, answeredAt]. */
function waitingMs(requests: RecordedRequest[], from: number, to: number): number {
  const spans = requests
    .map((r) => [Math.max(from, r.receivedAt ?? 0), Math.min(to, r.answeredAt ?? 0)] as const)
    .filter(([a, b]) => b > a)
    .sort((x, y) => x[0] - y[0]);
  let total = 0;
  let end = -Infinity;
  for (const [a, b] of spans) {
    if (b <= end) continue;
    total += b - Math.max(a, end);
    end = b;
  }
  return total;
}

async function measure(latencyMs: number) {
  const gh = await startGitHubEmulator({ latencyMs });
  const released = new Date(Date.now() - 30 * 60_000);
  // remediation 0 warms up (JIT, connections, policy) and is not counted
  for (let i = 0; i <= N; i++) seedSampleRepo(gh, released, 'acme', `gitops-${i}`);
  const targets = Array.from(
    { length: N + 1 },
    (_, i) => `  - name: checkout-${i}
    match: { service: checkout-${i}, env: test }
    repo: acme/gitops-${i}
    branch: main
    path: ${SAMPLE_PATH}
    image: ${SAMPLE_IMAGE}
    environment: prod
`,
  ).join('');
  const stack = await startStack({ githubUrl: gh.url, targets });
  const own: number[] = [];
  const total: number[] = [];
  const calls: number[] = [];
  const cpu: number[] = [];
  try {
    for (let i = 0; i <= N; i++) {
      const body = sampleJson('a-firing-single.json');
      const alert = body.alerts[0] as Record<string, unknown> & { labels: Record<string, string> };
      alert.labels = { ...alert.labels, service: `checkout-${i}` };
      alert.fingerprint = (0xabc0000000000000n + BigInt(i)).toString(16);
      alert.startsAt = new Date(Date.now() - 5 * 60_000).toISOString();
      const cpu0 = process.cpuUsage();
      const res = await post(stack.app, body);
      const id = (res.json().remediations as Array<{ id: string }>)[0]?.id;
      if (!id) throw new Error(`no remediation: ${res.body}`);
      const rec = await stack.settled(id, 120_000);
      if (rec.state !== 'merged')
        throw new Error(`remediation ${i}: ${rec.state} ${rec.reason ?? rec.error ?? ''}`);
      const used = process.cpuUsage(cpu0);
      if (i === 0) continue;
      cpu.push((used.user + used.system) / 1000);
      const from = Date.parse(rec.createdAt);
      const to = Date.parse(rec.steps.merged ?? '');
      const mine = gh.requests.filter((r) => (r.receivedAt ?? 0) >= from && (r.answeredAt ?? 0) <= to);
      total.push(to - from);
      own.push(to - from - waitingMs(gh.requests, from, to));
      calls.push(mine.length);
    }
  } finally {
    await stack.stop();
    await gh.close();
  }
  return { own, total, calls, cpu };
}

console.log(`${N} auto-merged rollbacks per setting, one after another\n`);
console.log(
  '| GitHub latency | own time p50 | own time p99 | alert → merged p50 | CPU p50 (process, emulator included) | GitHub requests each |',
);
console.log('| ---: | ---: | ---: | ---: | ---: | ---: |');
for (const latency of [0, 100]) {
  const r = await measure(latency);
  console.log(
    `| ${latency} ms | ${quantile(r.own, 0.5).toFixed(0)} ms | ${quantile(r.own, 0.99).toFixed(0)} ms | ${quantile(r.total, 0.5).toFixed(0)} ms | ${quantile(r.cpu, 0.5).toFixed(0)} ms | ${quantile(r.calls, 0.5)} |`,
  );
}
