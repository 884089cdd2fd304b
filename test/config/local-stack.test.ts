import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import { buildConfig } from '../../src/config/config.ts';
import { buildTargetIndex } from '../../src/core/targets.ts';
import { SAMPLE_PATH } from '../support/gitops-sample.ts';
import { freePort } from '../support/net.ts';

// docker-compose.yml cannot run here (no Docker engine): check that its pieces
// agree with each other the way the containers will see them, and run the real
// Prometheus and Alertmanager tools on the files it mounts.

interface Service {
  image?: string;
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  depends_on?: Record<string, { condition?: string }> | string[];
}
const compose = parse(readFileSync('docker-compose.yml', 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
};
const svc = (name: string): Service => {
  const s = compose.services[name];
  assert.ok(s, `service ${name} in docker-compose.yml`);
  return s;
};

/** A path inside a container → the host file (bind mount) or named volume entry that backs it. */
function backing(service: string, path: string): { volume: string; file: string } | { host: string } {
  const mounts = (svc(service).volumes ?? []).map((v) => {
    const [source = '', target = ''] = v.split(':');
    return { source, target };
  });
  const m = mounts
    .filter((x) => path === x.target || path.startsWith(`${x.target}/`))
    .sort((a, b) => b.target.length - a.target.length)[0];
  assert.ok(m, `${service}: nothing is mounted at ${path}`);
  const rest = posix.relative(m.target, path);
  if (m.source.startsWith('.')) return { host: posix.join(m.source, rest) };
  return { volume: m.source, file: rest };
}

/** `${NAME:-default}` → default */
function composeDefault(value: string | undefined): string {
  const m = /^\$\{[A-Z_]+:-(.*)\}$/.exec(value ?? '');
  return m ? (m[1] ?? '') : (value ?? '');
}

function flag(args: readonly string[] | undefined, name: string): string | undefined {
  return args?.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
}

const REWIND_SERVICES = Object.entries(compose.services)
  .filter(([, s]) => ['serve', 'api', 'worker'].includes(s.command?.[0] ?? ''))
  .map(([name]) => name);
const port = (s: Service) => Number(s.environment?.PORT ?? 8080);

const amConfigFile = backing(
  'alertmanager',
  flag(svc('alertmanager').command, 'config.file') ?? '/etc/alertmanager/alertmanager.yml',
);
const promConfigFile = backing(
  'prometheus',
  flag(svc('prometheus').command, 'config.file') ?? '/etc/prometheus/prometheus.yml',
);
assert.ok('host' in amConfigFile && 'host' in promConfigFile, 'both configs are files from the repository');
const amConfig = parse(readFileSync(amConfigFile.host, 'utf8')) as {
  receivers: {
    name: string;
    webhook_configs?: {
      url: string;
      send_resolved?: boolean;
      http_config?: { authorization?: { credentials_file?: string; credentials?: string } };
    }[];
  }[];
};
const promConfig = parse(readFileSync(promConfigFile.host, 'utf8')) as {
  rule_files: string[];
  alerting: { alertmanagers: { static_configs: { targets: string[] }[] }[] };
  scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
};

describe('docker-compose stack: the pieces agree', () => {
  test('Alertmanager posts to the rewind API service, on its port and webhook path', () => {
    const hook = amConfig.receivers.find((r) => r.name === 'rewind')?.webhook_configs?.[0];
    assert.ok(hook, 'a receiver named rewind with a webhook');
    const url = new URL(hook.url);
    const api = svc(url.hostname);
    assert.ok(['api', 'serve'].includes(api.command?.[0] ?? ''), `${url.hostname} runs the rewind API`);
    assert.equal(Number(url.port || 80), port(api));
    assert.equal(url.pathname, '/v1/alertmanager');
    assert.equal(hook.send_resolved, true, 'resolutions close PRs and record time to recovery');
  });

  test('Alertmanager sends the token from the file rewind reads, written once by the token job', () => {
    const hook = amConfig.receivers.find((r) => r.name === 'rewind')?.webhook_configs?.[0];
    const credFile = hook?.http_config?.authorization?.credentials_file;
    assert.ok(credFile, 'credentials_file, not an inline credential');
    assert.equal(hook?.http_config?.authorization?.credentials, undefined);
    const amSide = backing('alertmanager', credFile);
    assert.ok('volume' in amSide, 'the token lives in a volume, not in the repository');
    for (const name of REWIND_SERVICES) {
      const env = svc(name).environment ?? {};
      assert.equal(env.REWIND_WEBHOOK_TOKEN, undefined, `${name}: token comes from the file only`);
      assert.ok(env.REWIND_WEBHOOK_TOKEN_FILE, `${name}: REWIND_WEBHOOK_TOKEN_FILE`);
      assert.deepEqual(
        backing(name, env.REWIND_WEBHOOK_TOKEN_FILE),
        amSide,
        `${name} reads Alertmanager's file`,
      );
    }
    // the one-shot job writes that very file, and both sides wait for it
    const gen = svc('webhook-token');
    const written = /'(\/[^']+)'/.exec(gen.command?.join('\n') ?? '')?.[1];
    assert.ok(written, 'the token job names the file it writes');
    assert.deepEqual(backing('webhook-token', written), amSide);
    for (const name of [...REWIND_SERVICES, 'alertmanager']) {
      const deps = svc(name).depends_on as Record<string, { condition?: string }>;
      assert.equal(deps['webhook-token']?.condition, 'service_completed_successfully', name);
    }
  });

  test('Prometheus scrapes every rewind process, loads rewind rules and alerts the compose Alertmanager', () => {
    const targets = promConfig.scrape_configs.flatMap((s) => s.static_configs.flatMap((c) => c.targets));
    assert.ok(REWIND_SERVICES.length >= 2, 'api and worker run as separate services');
    for (const name of REWIND_SERVICES) assert.ok(targets.includes(`${name}:${port(svc(name))}`), name);
    const amPort = (flag(svc('alertmanager').command, 'web.listen-address') ?? ':9093').split(':').pop();
    assert.deepEqual(promConfig.alerting.alertmanagers[0]?.static_configs[0]?.targets, [
      `alertmanager:${amPort}`,
    ]);
    const promDir = posix.dirname(flag(svc('prometheus').command, 'config.file') ?? '');
    const ruleHosts = promConfig.rule_files.map((f) => backing('prometheus', posix.join(promDir, f)));
    for (const r of ruleHosts) assert.ok('host' in r && existsSync(r.host), JSON.stringify(r));
    assert.ok(ruleHosts.some((r) => 'host' in r && r.host === 'config/prometheus/rewind-rules.yaml'));
  });

  test('rewind runs against the GitHub emulator by default, with the token it accepts', () => {
    const emulator = svc('github').environment ?? {};
    for (const name of REWIND_SERVICES) {
      const env = svc(name).environment ?? {};
      const apiUrl = new URL(composeDefault(env.GITHUB_API_URL));
      assert.equal(apiUrl.hostname, 'github');
      assert.equal(apiUrl.port, emulator.EMULATOR_PORT);
      assert.equal(composeDefault(env.GITHUB_TOKEN), emulator.EMULATOR_TOKEN);
    }
    assert.equal(emulator.EMULATOR_HOST, '0.0.0.0', 'reachable from the other containers');
    assert.ok(svc('github').ports?.includes(`${emulator.EMULATOR_PORT}:${emulator.EMULATOR_PORT}`));
    const script = svc('github').entrypoint?.at(-1) ?? '';
    const mounted = backing('github', posix.join('/app', script));
    assert.ok('host' in mounted && existsSync(mounted.host), `${script} is mounted into the image`);
    assert.ok('host' in backing('github', '/app/test/support/github-emulator.ts'));
  });

  test('the trial alert matches exactly one target of the config rewind loads', () => {
    const rewind = svc(REWIND_SERVICES[0] ?? '');
    const configFile = backing(REWIND_SERVICES[0] ?? '', rewind.environment?.REWIND_CONFIG ?? '');
    assert.ok('host' in configFile);
    const dir = mkdtempSync(join(tmpdir(), 'rewind-compose-'));
    writeFileSync(join(dir, 'token'), 'x'.repeat(64));
    const config = buildConfig(readFileSync(configFile.host, 'utf8'), configFile.host, {
      ...Object.fromEntries(Object.entries(rewind.environment ?? {}).map(([k, v]) => [k, composeDefault(v)])),
      REWIND_WEBHOOK_TOKEN_FILE: join(dir, 'token'),
    });
    const trial = parse(readFileSync('config/prometheus/trial-alert.yaml', 'utf8')) as {
      groups: { rules: { alert: string; labels: Record<string, string> }[] }[];
    };
    const rule = trial.groups[0]?.rules[0];
    assert.ok(rule);
    const [target, ...more] = buildTargetIndex(config.targets).match({
      alertname: rule.alert,
      ...rule.labels,
    });
    assert.equal(more.length, 0);
    assert.equal(target?.name, 'checkout-prod');
    assert.equal(target?.path, SAMPLE_PATH, 'the file the emulator seeds');
    assert.equal(target?.repo, 'acme/gitops');
  });
});

const has = (bin: string, arg = '--version') => spawnSync(bin, [arg]).status === 0;
const run = (bin: string, args: string[]) => {
  const r = spawnSync(bin, args, { encoding: 'utf8' });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
};

describe('the real Prometheus and Alertmanager tools accept the stack files', () => {
  test(
    'promtool check config (with the rule files it loads)',
    { skip: !has('promtool') && 'promtool not on PATH' },
    () => {
      const r = run('promtool', ['check', 'config', promConfigFile.host ?? '']);
      assert.equal(r.status, 0, r.out);
      assert.match(r.out, /SUCCESS: 2 rule files found/);
    },
  );

  test(
    'promtool check rules and the rules unit tests',
    { skip: !has('promtool') && 'promtool not on PATH' },
    () => {
      const check = run('promtool', ['check', 'rules', 'config/prometheus/rewind-rules.yaml']);
      assert.equal(check.status, 0, check.out);
      const unit = run('promtool', ['test', 'rules', 'config/prometheus/rewind-rules.test.yaml']);
      assert.equal(unit.status, 0, unit.out);
      assert.match(unit.out, /SUCCESS/);
    },
  );

  test(
    'amtool check-config and where alerts are routed',
    { skip: !has('amtool') && 'amtool not on PATH' },
    () => {
      const file = 'host' in amConfigFile ? amConfigFile.host : '';
      const check = run('amtool', ['check-config', file]);
      assert.equal(check.status, 0, check.out);
      const route = (...labels: string[]) =>
        run('amtool', ['config', 'routes', 'test', `--config.file=${file}`, ...labels])
          .out.split('\n')[0]
          ?.trim();
      assert.equal(
        route('alertname=HighErrorRate', 'service=checkout', 'env=prod', 'severity=critical'),
        'rewind,people',
      );
      assert.equal(route('alertname=RewindNoWorker', 'component=rewind', 'severity=critical'), 'people');
      assert.equal(route('alertname=Watchdog', 'severity=none'), 'people');
    },
  );
});

test('the emulator entry script serves the seeded repository and stops on SIGTERM', async () => {
  const p = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/github-emulator.ts'], {
    env: { ...process.env, EMULATOR_PORT: String(p), EMULATOR_TOKEN: 'trial-token' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += String(d)));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    const end = Date.now() + 30_000;
    while (!out.includes('seeded')) {
      if (Date.now() > end) throw new Error(`emulator did not start: ${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const url = `http://127.0.0.1:${p}/repos/acme/gitops/contents/${SAMPLE_PATH}?ref=main`;
    const ok = await fetch(url, { headers: { authorization: 'Bearer trial-token' } });
    assert.equal(ok.status, 200);
    const body = (await ok.json()) as { content: string };
    assert.match(Buffer.from(body.content, 'base64').toString('utf8'), /newTag: v1\.2\.0/);
    assert.equal((await fetch(url, { headers: { authorization: 'Bearer wrong' } })).status, 401);
    assert.doesNotMatch(out, /trial-token/, 'the token is not printed');
  } finally {
    child.kill('SIGTERM');
  }
  assert.equal(await exited, 0);
});
