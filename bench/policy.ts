// Policy evaluation: the in-process Wasm engine rewind uses vs the same policy,
// data and inputs behind `opa run --server` on loopback (what a sidecar would
// cost). Bounded iteration counts; opa is killed at the end.
//
//   npx tsx bench/policy.ts [--iterations N]     (npm run bench:policy)
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from '../test/support/net.ts';
import { performance } from 'node:perf_hooks';
import { isDeepStrictEqual } from 'node:util';
import { createPolicyEngine } from '../src/policy/engine.ts';
import type { Decision, PolicyInput } from '../src/policy/types.ts';
import {
  DATA_PATH,
  REGO_PATH,
  WASM_PATH,
  deepMerge,
  findOpa,
  loadCases,
  memoryLogger,
} from '../test/policy/support.ts';

const arg = process.argv.indexOf('--iterations');
const ITERATIONS = Math.min(
  Math.max(Number(arg >= 0 ? process.argv[arg + 1] : 20_000) || 20_000, 100),
  200_000,
);
const REST_ITERATIONS = Math.max(100, Math.floor(ITERATIONS / 10));
const CONCURRENCY = 16;
const WARMUP = 200;

interface Row {
  name: string;
  iterations: number;
  perSecond: number;
  p50: number;
  p99: number;
}

function percentile(sortedMs: number[], p: number): number {
  return sortedMs[Math.min(sortedMs.length - 1, Math.floor((p / 100) * sortedMs.length))] ?? NaN;
}

/** Run `fn` n times, `concurrency` at a time; per-call latency and overall rate. */
async function measure(
  name: string,
  n: number,
  concurrency: number,
  fn: (i: number) => Promise<unknown>,
): Promise<Row> {
  for (let i = 0; i < Math.min(WARMUP, n); i++) await fn(i);
  const latencies: number[] = [];
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        const i = next++;
        const t = performance.now();
        await fn(i);
        latencies.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    name,
    iterations: n,
    perSecond: n / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  };
}

async function startOpa(opa: string): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(
    opa,
    ['run', '--server', '--addr', `127.0.0.1:${port}`, '--log-level', 'error', REGO_PATH, DATA_PATH],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  // opa's stderr only matters when it fails to start (it warns about running as root otherwise)
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => void (stderr = (stderr + b.toString()).slice(-2000)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`opa exited with ${child.exitCode}: ${stderr}`);
    try {
      if ((await fetch(`${url}/health`)).ok) return { url, child };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill();
  throw new Error('opa did not become healthy within 15 s');
}

function inputs(): PolicyInput[] {
  // Every case of the policy suite: the mix of allows, pull requests and denies a real service sees.
  const { baseInput, all } = loadCases();
  return all.map((c) => deepMerge(baseInput, c.input));
}

const fmtMs = (ms: number): string => (ms < 1 ? `${(ms * 1000).toFixed(1)} µs` : `${ms.toFixed(2)} ms`);

async function main(): Promise<void> {
  const set = inputs();
  const pick = (i: number): PolicyInput => set[i % set.length] as PolicyInput;
  const engine = await createPolicyEngine({
    wasmPath: WASM_PATH,
    dataPath: DATA_PATH,
    logger: memoryLogger(),
  });
  const rows: Row[] = [await measure('wasm (in-process)', ITERATIONS, 1, (i) => engine.evaluate(pick(i)))];

  const opa = findOpa();
  let child: ChildProcess | undefined;
  const stop = (): void => void child?.kill();
  process.once('SIGINT', () => (stop(), process.exit(130)));
  try {
    if (opa === null) {
      console.log('opa not found on PATH or in ~/go/bin: REST rows skipped');
    } else {
      const started = await startOpa(opa);
      child = started.child;
      const endpoint = `${started.url}/v1/data/rewind/rollback/decision`;
      const rest = async (input: PolicyInput): Promise<Decision> => {
        const res = await fetch(endpoint, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ input }),
        });
        if (!res.ok) throw new Error(`opa answered ${res.status}`);
        return ((await res.json()) as { result: Decision }).result;
      };
      // Same policy, same answers: otherwise the timing comparison means nothing.
      for (const input of set) {
        const [a, b] = [await engine.evaluate(input), await rest(input)];
        if (!isDeepStrictEqual(a, b))
          throw new Error(
            `decisions differ for ${JSON.stringify(input)}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`,
          );
      }
      rows.push(await measure('opa REST, loopback, sequential', REST_ITERATIONS, 1, (i) => rest(pick(i))));
      rows.push(
        await measure(`opa REST, loopback, ${CONCURRENCY} in flight`, REST_ITERATIONS, CONCURRENCY, (i) =>
          rest(pick(i)),
        ),
      );
    }
  } finally {
    stop();
    await engine.close();
  }

  console.log(
    `\npolicy evaluation, ${set.length} distinct inputs (policies/cases.json), node ${process.version}\n`,
  );
  console.log('| engine | iterations | evals/s | p50 | p99 |');
  console.log('| --- | ---: | ---: | ---: | ---: |');
  for (const r of rows)
    console.log(
      `| ${r.name} | ${r.iterations} | ${Math.round(r.perSecond).toLocaleString('en-US')} | ${fmtMs(r.p50)} | ${fmtMs(r.p99)} |`,
    );
  const [wasm, seq, conc] = rows;
  if (wasm && seq) {
    console.log(
      `\nwasm vs REST sequential: ${(wasm.perSecond / seq.perSecond).toFixed(1)}x the throughput, p50 ${(seq.p50 / wasm.p50).toFixed(1)}x lower`,
    );
  }
  if (wasm && conc)
    console.log(
      `wasm (one thread) vs REST with ${CONCURRENCY} in flight: ${(wasm.perSecond / conc.perSecond).toFixed(1)}x the throughput`,
    );
}

await main();
