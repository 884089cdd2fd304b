import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse, stringify } from 'yaml';
import { freePort } from '../support/net.ts';
import { hasRedisServer, startRedis, stopRedis } from '../support/redis-server.ts';

// docker-compose.yml without Docker: the same programs and the same files
// (config/rewind.yaml, config/prometheus/*, config/alertmanager/alertmanager.yml,
// scripts/github-emulator.ts) as processes on loopback. Only what Docker would
// provide changes: service names become 127.0.0.1 and a free port, the token
// volume becomes a temp file, Prometheus evaluates every second.
// The trial alert must travel Prometheus → Alertmanager → rewind api → worker →
// a merged pull request in the emulator.

const have = (bin: string) => spawnSync(bin, ['--version']).status === 0;
const missing = ['prometheus', 'prometheus-alertmanager'].filter((b) => !have(b));
const skip = missing.length
  ? `${missing.join(', ')} not on PATH`
  : !hasRedisServer
    ? 'redis-server not on PATH'
    : false;

interface Service {
  command?: string[];
  environment?: Record<string, string>;
}
const compose = parse(readFileSync('docker-compose.yml', 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
};
const composeDefault = (v = '') => /^\$\{[A-Z_]+:-(.*)\}$/.exec(v)?.[1] ?? v;

type Proc = { child: ChildProcess; out: string; name: string };
function start(name: string, cmd: string, args: string[], env: Record<string, string> = {}): Proc {
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const p: Proc = { child, out: '', name };
  child.stdout?.on('data', (d) => (p.out += String(d)));
  child.stderr?.on('data', (d) => (p.out += String(d)));
  return p;
}

async function until<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  ms: number,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe(
  'the docker-compose stack as local processes: the trial alert becomes a merged rollback',
  { skip },
  () => {
    const procs: Proc[] = [];
    let redis: ChildProcess | undefined;
    let dir = '';
    let token = '';
    const ports: Record<string, number> = {};

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'rewind-stack-'));
      for (const s of ['redis', 'rewind-api', 'rewind-worker', 'github', 'prometheus', 'alertmanager'])
        ports[s] = await freePort();
      // compose service:port → loopback
      const local = (text: string) =>
        text
          .replaceAll('rewind-api:8080', `127.0.0.1:${ports['rewind-api']}`)
          .replaceAll('rewind-worker:8080', `127.0.0.1:${ports['rewind-worker']}`)
          .replaceAll('alertmanager:9093', `127.0.0.1:${ports.alertmanager}`)
          .replaceAll('github:9000', `127.0.0.1:${ports.github}`)
          .replaceAll('redis:6379', `127.0.0.1:${ports.redis}`);

      redis = await startRedis(ports.redis ?? 0, dir);
      token = randomBytes(32).toString('hex');
      writeFileSync(join(dir, 'webhook-token'), token);

      const gh = compose.services.github?.environment ?? {};
      procs.push(
        start('github', process.execPath, ['--import', 'tsx', 'scripts/github-emulator.ts'], {
          ...gh,
          EMULATOR_HOST: '127.0.0.1',
          EMULATOR_PORT: String(ports.github),
          EMULATOR_PUBLIC_URL: `http://127.0.0.1:${ports.github}`,
        }),
      );
      await until('the emulator', () => (procs[0]?.out.includes('seeded') ? true : undefined), 30_000);

      for (const name of ['rewind-api', 'rewind-worker']) {
        const svc = compose.services[name] ?? {};
        const env = Object.fromEntries(
          Object.entries(svc.environment ?? {}).map(([k, v]) => [k, local(composeDefault(v))]),
        );
        procs.push(
          start(name, process.execPath, ['bin/rewind.js', ...(svc.command ?? [])], {
            ...env,
            REWIND_CONFIG: 'config/rewind.yaml', // what the compose file mounts at /app/config/rewind.yaml
            REWIND_WEBHOOK_TOKEN_FILE: join(dir, 'webhook-token'),
            HOST: '127.0.0.1',
            PORT: String(ports[name]),
          }),
        );
      }

      const am = parse(local(readFileSync('config/alertmanager/alertmanager.yml', 'utf8'))) as {
        receivers: {
          name: string;
          webhook_configs?: { http_config: { authorization: { credentials_file: string } } }[];
        }[];
      };
      const hook = am.receivers.find((r) => r.name === 'rewind')?.webhook_configs?.[0];
      assert.ok(hook);
      hook.http_config.authorization.credentials_file = join(dir, 'webhook-token');
      writeFileSync(join(dir, 'alertmanager.yml'), stringify(am));
      procs.push(
        start('alertmanager', 'prometheus-alertmanager', [
          `--config.file=${join(dir, 'alertmanager.yml')}`,
          `--storage.path=${join(dir, 'am')}`,
          `--web.listen-address=127.0.0.1:${ports.alertmanager}`,
          '--cluster.listen-address=',
        ]),
      );

      const prom = parse(local(readFileSync('config/prometheus/prometheus.yml', 'utf8'))) as {
        global: Record<string, string>;
        rule_files: string[];
      };
      prom.global = { scrape_interval: '1s', evaluation_interval: '1s' };
      prom.rule_files = prom.rule_files.map((f) => resolve('config/prometheus', f));
      writeFileSync(join(dir, 'prometheus.yml'), stringify(prom));
      procs.push(
        start('prometheus', 'prometheus', [
          `--config.file=${join(dir, 'prometheus.yml')}`,
          `--storage.tsdb.path=${join(dir, 'prom')}`,
          `--web.listen-address=127.0.0.1:${ports.prometheus}`,
        ]),
      );
    });

    after(async () => {
      for (const p of procs.reverse()) p.child.kill('SIGTERM');
      if (redis) await stopRedis(redis);
    });

    test('Prometheus fires the trial alert, Alertmanager delivers it with the token file, rewind merges the rollback', async () => {
      const github = procs.find((p) => p.name === 'github');
      const logs = () => procs.map((p) => `--- ${p.name}\n${p.out.slice(-3000)}`).join('\n');
      // for: 30s on the trial rule, then Alertmanager's group_wait
      const merged = await until(
        'the rollback pull request to merge',
        () => /pull request #\d+ merged as [0-9a-f]{7}: (.*)/.exec(github?.out ?? '')?.[1],
        120_000,
      ).catch((err: unknown) => assert.fail(`${String(err)}\n${logs()}`));
      assert.match(
        merged,
        /^fix\(prod\): roll back checkout-prod to v1\.1\.0 \(rewind\/checkout-prod\/v1\.1\.0 → main\)$/,
      );

      const res = await fetch(`http://127.0.0.1:${ports['rewind-api']}/v1/remediations`, {
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(res.status, 200);
      const { remediations } = (await res.json()) as {
        remediations: { state: string; target: string; alerts: { labels: Record<string, string> }[] }[];
      };
      assert.equal(remediations.length, 1, 'one remediation, however often Alertmanager repeats');
      assert.equal(remediations[0]?.state, 'merged');
      assert.equal(remediations[0]?.alerts[0]?.labels.alertname, 'HighErrorRate');

      // both rewind processes are scraped, and rewind's own rules are loaded next to the trial alert
      const q = await fetch(`http://127.0.0.1:${ports.prometheus}/api/v1/query?query=up`);
      const up = (
        (await q.json()) as { data: { result: { metric: { job: string }; value: [number, string] }[] } }
      ).data.result;
      for (const job of ['rewind-api', 'rewind-worker'])
        assert.equal(up.find((r) => r.metric.job === job)?.value[1], '1', `${job} is up`);
      for (const p of procs) assert.ok(!p.out.includes(token), `${p.name} never logs the webhook token`);
      assert.doesNotMatch(procs.find((p) => p.name === 'alertmanager')?.out ?? '', /status code 4\d\d/);
    });
  },
);
