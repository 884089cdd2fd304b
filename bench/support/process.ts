/** Servers the benchmarks start as processes of their own, next to each other in one process tree. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { freePort } from '../../test/support/net.ts';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
export const BENCH_TOKEN = 'bench-token-0123456789abcdef';

/**
 * The benchmarks measure the compiled build, as production runs it. bin/rewind.js would quietly run
 * src/ through tsx when dist/ is older than src/: refuse instead (`npm run bench:*` builds first).
 */
export function assertFreshBuild(): void {
  const newestSrc = Math.max(
    ...readdirSync('src', { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => statSync(`${e.parentPath}/${e.name}`).mtimeMs),
  );
  if (!existsSync('dist/main.js') || statSync('dist/main.js').mtimeMs < newestSrc) {
    console.error('dist/ is missing or older than src/: run `npm run build` first (npm run bench:* does)');
    process.exit(1);
  }
}

/** USER_HZ: 100 on every Linux architecture Node runs on */
const CLOCK_TICKS = 100;

export interface Server {
  url: string;
  child: ChildProcess;
  /** resident set size now, from /proc (MiB) */
  rssMiB(): number;
  /** CPU time (user + system) the process has used so far, in seconds: per request it stays
   * meaningful on a shared, busy machine where wall-clock throughput swings */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

/** A rewind config with `targets` targets svc-0..svc-N-1 (match service=svc-i, env=prod), under `prefix`. */
export function benchConfig(prefix: string, targets = 50): string {
  mkdirSync('.tmp', { recursive: true });
  const file = `.tmp/bench-${prefix.replace(/[^a-z0-9-]/gi, '-')}.yaml`;
  const yaml = [
    'redis:',
    `  prefix: "${prefix}"`,
    'targets:',
    ...Array.from({ length: targets }, (_, i) =>
      [
        `  - name: svc-${i}`,
        `    match: { service: svc-${i}, env: prod }`,
        '    repo: acme/gitops',
        '    branch: main',
        `    path: apps/svc-${i}/kustomization.yaml`,
        `    image: registry.example.com/acme/svc-${i}`,
        '    environment: prod',
      ].join('\n'),
    ),
  ].join('\n');
  writeFileSync(file, `${yaml}\n`);
  return file;
}

/** Spawn `node ...args` with PORT set, wait until GET /readyz answers 200. */
export async function startServer(
  args: string[],
  env: Record<string, string> = {},
  opts: { nodeArgs?: string[] } = {},
): Promise<Server> {
  const port = await freePort();
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), ...args], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      PATH: process.env.PATH,
      REDIS_URL,
      PORT: String(port),
      HOST: '127.0.0.1',
      REWIND_WEBHOOK_TOKEN: BENCH_TOKEN,
      GITHUB_TOKEN: 'ghp_bench_not_used',
      GITHUB_API_URL: 'http://127.0.0.1:9',
      ...env,
    },
  });
  const url = `http://127.0.0.1:${port}`;
  const until = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${args.join(' ')} exited with ${child.exitCode}`);
    if (Date.now() > until) throw new Error(`${args.join(' ')}: no /readyz after 60 s`);
    const ok = await fetch(`${url}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    url,
    child,
    rssMiB: () =>
      Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024,
    cpuSeconds: () => {
      // /proc/PID/stat: fields 14 and 15 (utime, stime) in clock ticks, after the parenthesised name
      const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8')
        .replace(/^.*\) /, '')
        .split(' ');
      return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
