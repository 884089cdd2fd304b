/**
 * Cold start of `rewind serve` to a 200 from /readyz, and RSS at idle, three ways side by side:
 * the compiled build (bin/rewind.js → dist/, production), the same code from src/ through tsx
 * (how bin/rewind.js ran before the build), and the floor: Fastify with one BullMQ Queue.
 * Alternated, medians over the rounds. Each process is spawned fresh (the OS file cache is warm
 * after the first round, as on a restart).
 *
 *   npm run bench:startup [-- --rounds N] [--idle-ms MS]
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { freePort } from '../test/support/net.ts';
import { assertFreshBuild } from './support/process.ts';
import { arg, median } from './support/stats.ts';

const ROUNDS = arg('--rounds', 5);
const IDLE_MS = arg('--idle-ms', 5_000);
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

assertFreshBuild();
mkdirSync('.tmp', { recursive: true });
const configFile = `.tmp/bench-startup-${process.pid}.yaml`;
writeFileSync(
  configFile,
  readFileSync('config/rewind.yaml', 'utf8').replace(
    /^redis:$/m,
    `redis:\n  prefix: "rewind-bench:startup-${process.pid}"`,
  ),
);

const variants: Record<string, string[]> = {
  'Fastify + BullMQ Queue (floor)': ['bench/support/bare-queue-app.mjs'],
  'rewind serve from src/ via tsx (before)': ['bench/support/from-source.mjs', 'serve'],
  'rewind serve from dist/ (bin/rewind.js)': ['bin/rewind.js', 'serve'],
};

async function once(args: string[]): Promise<{ readyMs: number; cpuMs: number; rssMiB: number }> {
  const port = await freePort();
  const t0 = performance.now();
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      PATH: process.env.PATH,
      REWIND_CONFIG: configFile,
      REDIS_URL,
      PORT: String(port),
      HOST: '127.0.0.1',
      REWIND_WEBHOOK_TOKEN: 'bench-token-0123456789abcdef',
      GITHUB_TOKEN: 'ghp_bench_not_used',
      GITHUB_API_URL: 'http://127.0.0.1:9',
      LOG_LEVEL: 'warn',
    },
  });
  try {
    let readyMs = 0;
    let cpuMs = 0;
    while (!readyMs) {
      if (child.exitCode !== null) throw new Error(`${args.join(' ')} exited with ${child.exitCode}`);
      if (performance.now() - t0 > 180_000) throw new Error(`${args.join(' ')}: no /readyz after 180 s`);
      const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ok) {
        readyMs = performance.now() - t0;
        // CPU used to get there: unlike wall time, barely moved by other load on the machine
        const f = readFileSync(`/proc/${child.pid}/stat`, 'utf8')
          .replace(/^.*\) /, '')
          .split(' ');
        cpuMs = (Number(f[11]) + Number(f[12])) * 10;
      } else await new Promise((r) => setTimeout(r, 10));
    }
    await new Promise((r) => setTimeout(r, IDLE_MS));
    const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
    const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
    return { readyMs, cpuMs, rssMiB: rssKiB / 1024 };
  } finally {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
}

const results = new Map<string, { readyMs: number[]; cpuMs: number[]; rssMiB: number[] }>();
for (const name of Object.keys(variants)) results.set(name, { readyMs: [], cpuMs: [], rssMiB: [] });
console.log(`${ROUNDS} rounds, alternated; RSS read from /proc ${IDLE_MS} ms after /readyz answered\n`);
for (let round = 1; round <= ROUNDS; round++) {
  for (const [name, args] of Object.entries(variants)) {
    const r = await once(args);
    results.get(name)!.readyMs.push(r.readyMs);
    results.get(name)!.rssMiB.push(r.rssMiB);
    results.get(name)!.cpuMs.push(r.cpuMs);
  }
}
const rows = [...results].map(([name, r]) => ({
  name,
  ready: median(r.readyMs),
  cpu: median(r.cpuMs),
  rss: median(r.rssMiB),
}));
const [floor, before, after] = rows as [(typeof rows)[0], (typeof rows)[0], (typeof rows)[0]];
for (const row of rows) {
  console.log(
    `${row.name.padEnd(42)} /readyz ${row.ready.toFixed(0).padStart(5)} ms (CPU ${row.cpu.toFixed(0).padStart(5)} ms)   RSS idle ${row.rss.toFixed(0).padStart(4)} MiB`,
  );
}
console.log(
  `\ndist/ vs src/ via tsx: start ${(after.ready / before.ready).toFixed(2)}x, CPU to ready ${(after.cpu / before.cpu).toFixed(2)}x, RSS ${(after.rss / before.rss).toFixed(2)}x` +
    `\ndist/ vs the floor:    start ${(after.ready / floor.ready).toFixed(2)}x, CPU to ready ${(after.cpu / floor.cpu).toFixed(2)}x, RSS ${(after.rss / floor.rss).toFixed(2)}x`,
);
