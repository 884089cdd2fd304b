// What a span costs: a plain async call (baseline) vs the same call inside
// withSpan with tracing off (no provider: the API's no-op tracer), then with
// tracing on (provider, batch processor, OTLP/HTTP exporter to a loopback
// receiver that accepts everything). A remediation makes about 20 spans.
//
//   npx tsx bench/tracing.ts [--iterations N]     (npm run bench:tracing)
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { SpanKind, startTracing, withSpan } from '../src/observability/tracing.ts';

const arg = process.argv.indexOf('--iterations');
const N = Math.min(Math.max(Number(arg >= 0 ? process.argv[arg + 1] : 200_000) || 200_000, 1_000), 2_000_000);
const SPANS_PER_REMEDIATION = 20;

let sink = 0;
const work = async () => {
  sink += 1;
};

async function measure(label: string, fn: () => Promise<void>): Promise<number> {
  for (let i = 0; i < 2_000; i++) await fn(); // warm-up
  const t0 = performance.now();
  for (let i = 0; i < N; i++) await fn();
  const ns = ((performance.now() - t0) * 1e6) / N;
  console.log(`${label.padEnd(34)} ${ns.toFixed(0).padStart(6)} ns/call`);
  return ns;
}

const opts = { kind: SpanKind.CLIENT, attributes: { 'http.request.method': 'GET' } };
console.log(`${N} calls each`);
const base = await measure('plain async call (baseline)', work);
const off = await measure('withSpan, tracing off', () => withSpan('bench', opts, work));

const receiver = createServer((req, res) => {
  req.resume();
  req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
});
await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
const tracing = await startTracing({
  OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`,
});
const on = await measure('withSpan, tracing on (OTLP/HTTP)', () => withSpan('bench', opts, work));
await tracing.shutdown();
receiver.close();

console.log(
  `off: +${(off - base).toFixed(0)} ns per span (${(off / base).toFixed(2)}x the bare call), ` +
    `${(((off - base) * SPANS_PER_REMEDIATION) / 1000).toFixed(1)} µs per remediation of ${SPANS_PER_REMEDIATION} spans`,
);
console.log(
  `on:  +${(on - base).toFixed(0)} ns per span (${(on / base).toFixed(2)}x), ` +
    `${(((on - base) * SPANS_PER_REMEDIATION) / 1000).toFixed(1)} µs per remediation`,
);
if (sink < 0) console.log(sink);
