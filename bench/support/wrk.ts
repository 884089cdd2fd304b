/**
 * Load from wrk (Debian: apt-get install wrk): a C load generator that takes far less of a shared
 * CPU than a Node one, so the server under test keeps most of the machine. One thread, C connections.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';

export const hasWrk = spawnSync('wrk', ['--version']).error === undefined;

export type BodyKind = 'storm' | 'distinct';

export interface WrkResult {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  /** non-2xx answers plus socket errors */
  errors: number;
}

/**
 * The Lua script for one kind of 3-alert Alertmanager notification:
 * - storm: one alert group (3 pods of svc-0 firing) repeated verbatim, as Alertmanager re-sends it
 * - distinct: every request a new incident (3 new fingerprints) for svc-(n mod 50)
 * `run` makes fingerprints unique across runs, so a later round never repeats an earlier one.
 */
function script(kind: BodyKind, token: string, run: number, maxRequests: number): string {
  const alert = (k: number) =>
    `{"status":"firing","labels":{"alertname":"HighErrorRate","service":"svc-SVC","env":"prod","namespace":"shop","pod":"svc-SVC-${k}","severity":"critical"},` +
    `"annotations":{"summary":"5xx ratio above 5% for 5 minutes","description":"error ratio 0.12 on svc-SVC"},` +
    `"startsAt":"2026-11-26T00:32:08.699Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":"http://prometheus:9090/graph?g0.expr=rate","fingerprint":"FP${k}"}`;
  const body =
    `{"receiver":"rewind","status":"firing","alerts":[${[0, 1, 2].map(alert).join(',')}],` +
    `"groupLabels":{"alertname":"HighErrorRate"},"commonLabels":{"alertname":"HighErrorRate","env":"prod"},"commonAnnotations":{},` +
    `"externalURL":"http://alertmanager:9093","version":"4","groupKey":"{}:{alertname=\\"HighErrorRate\\"}","truncatedAlerts":0}`;
  return `
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer ${token}"
local template = [[${body}]]
local kind = "${kind}"
local n = 0
local function fill(svc, base)
  local b = template:gsub("SVC", tostring(svc))
  for k = 0, 2 do b = b:gsub("FP" .. k, string.format("%016x", base * 4 + k)) end
  return b
end
local storm = fill(0, 1)
request = function()
  if kind == "storm" then return wrk.format(nil, "/v1/alertmanager", nil, storm) end
  n = n + 1
  return wrk.format(nil, "/v1/alertmanager", nil, fill(n % 50, ${run} * 100000000 + n))
end
local limit = ${maxRequests}
local answered = 0
if limit > 0 then
  -- only when asked: a Lua call per response costs the load generator CPU
  response = function()
    answered = answered + 1
    -- wrk keeps waiting for its duration after thread:stop(); runWrk interrupts it on this line
    if answered == limit then wrk.thread:stop(); io.write("LIMIT_REACHED\\n"); io.flush() end
  end
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %d %d %d %f %f\\n", summary.requests, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.duration, latency:percentile(50), latency:percentile(99)))
end
`;
}

let runs = 0;

export async function runWrk(opts: {
  url: string;
  kind: BodyKind;
  token: string;
  seconds: number;
  connections: number;
  /** stop after this many answers (wrk has no request count of its own); `seconds` still bounds the run */
  maxRequests?: number;
}): Promise<WrkResult> {
  mkdirSync('.tmp', { recursive: true });
  const run = (Date.now() % 100000) * 100 + ++runs;
  const file = `.tmp/wrk-${process.pid}-${run}.lua`;
  writeFileSync(file, script(opts.kind, opts.token, run, opts.maxRequests ?? 0));
  const child = spawn('wrk', [
    '-t1',
    `-c${opts.connections}`,
    `-d${opts.seconds}s`,
    '--timeout',
    '10s',
    '-s',
    file,
    opts.url,
  ]);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    // SIGINT ends wrk's wait early; it still prints its summary (and runs done)
    if (stdout.includes('LIMIT_REACHED') && child.exitCode === null) child.kill('SIGINT');
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  await new Promise((resolve) => child.once('close', resolve));
  const res = { stdout, stderr };
  const m = /RESULT (\d+) (\d+) (\d+) (\d+) ([\d.]+) ([\d.]+)/.exec(res.stdout);
  if (!m) throw new Error(`wrk: no result\n${res.stdout}\n${res.stderr}`);
  const [requests, status, socket, durationUs, p50, p99] = m.slice(1).map(Number) as number[];
  return {
    requests: requests!,
    rps: requests! / (durationUs! / 1e6),
    p50Ms: p50! / 1000,
    p99Ms: p99! / 1000,
    errors: status! + socket!,
  };
}
