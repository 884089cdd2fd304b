import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import { buildConfig, loadConfig } from '../../src/config/config.ts';
import { RewindError } from '../../src/core/errors.ts';

const EXAMPLE = readFileSync('config/rewind.yaml', 'utf8');

function configError(text: string, env: Record<string, string> = {}): string {
  try {
    buildConfig(text, 'cfg.yaml', env);
  } catch (err) {
    assert.ok(err instanceof RewindError);
    assert.equal(err.code, 'config_invalid');
    assert.equal(err.retryable, false);
    return err.message;
  }
  assert.fail('config was accepted');
}

describe('config', () => {
  test('the shipped example is valid and gets defaults', () => {
    const c = buildConfig(EXAMPLE, 'config/rewind.yaml', {});
    assert.equal(c.github.apiUrl, 'https://api.github.com');
    assert.equal(c.redis.url, 'redis://127.0.0.1:6379');
    assert.equal(c.server.port, 8080);
    assert.equal(c.server.host, '0.0.0.0');
    assert.equal(c.server.bodyLimit, 1024 * 1024);
    assert.equal(c.dryRun, false);
    assert.equal(c.github.auth.kind, 'none');
    assert.equal(c.targets[0]?.name, 'checkout-prod');
    assert.deepEqual(c.targets[0]?.reviewers, ['octocat']);
    assert.ok(Object.isFrozen(c.targets[0]));
  });

  test('the environment overrides the file and carries the secrets', () => {
    const c = buildConfig(EXAMPLE, 'x', {
      REDIS_URL: 'redis://redis:6380',
      GITHUB_API_URL: 'https://ghe.example.com/api/v3/',
      PORT: '9090',
      HOST: '127.0.0.1',
      REWIND_DRY_RUN: 'true',
      GITHUB_TOKEN: 'ghp_secret',
      REWIND_WEBHOOK_TOKEN: 'hook',
    });
    assert.equal(c.redis.url, 'redis://redis:6380');
    assert.equal(c.github.apiUrl, 'https://ghe.example.com/api/v3');
    assert.equal(c.server.port, 9090);
    assert.equal(c.server.host, '127.0.0.1');
    assert.equal(c.dryRun, true);
    assert.deepEqual(c.github.auth, { kind: 'token', token: 'ghp_secret' });
    assert.equal(c.server.webhookToken, 'hook');
  });

  test('Slack bot mode: SLACK_BOT_TOKEN (or _FILE) with slack.channel; the token alone is an error', () => {
    const withSlack = `slack:\n  channel: "#rewind"\n${EXAMPLE}`;
    const c = buildConfig(withSlack, 'x', { SLACK_BOT_TOKEN: 'xoxb-1' });
    assert.deepEqual(c.slack, { botToken: 'xoxb-1', channel: '#rewind', apiUrl: 'https://slack.com/api/' });
    assert.equal(buildConfig(EXAMPLE, 'x', {}).slack.botToken, null);
    assert.match(
      configError(EXAMPLE, { SLACK_BOT_TOKEN: 'xoxb-1' }),
      /^cfg\.yaml: slack\.channel: is required when SLACK_BOT_TOKEN is set$/,
    );
    assert.match(
      configError(`slack:\n  token: xoxb-1\n${EXAMPLE}`),
      /slack\.token: secrets are not read from the config file/,
    );
  });

  test('secrets can come from files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rewind-cfg-'));
    writeFileSync(join(dir, 'token'), 'from-file\n');
    const c = buildConfig(EXAMPLE, 'x', { REWIND_WEBHOOK_TOKEN_FILE: join(dir, 'token') });
    assert.equal(c.server.webhookToken, 'from-file');
  });

  test('every error names the file, the field and what is wrong', () => {
    const doc = parse(EXAMPLE) as { targets: Array<Record<string, unknown>> } & Record<string, unknown>;
    const variant = (f: (d: typeof doc) => void) => {
      const d = structuredClone(doc);
      f(d);
      return JSON.stringify(d);
    };
    assert.equal(
      configError(variant((d) => delete (d as Record<string, unknown>).targets)),
      'cfg.yaml: targets: is required',
    );
    assert.match(
      configError(variant((d) => (d.targets[0]!.name = 'Checkout_Prod'))),
      /^cfg\.yaml: targets\[0\]\.name: must match pattern/,
    );
    assert.equal(
      configError(variant((d) => d.targets.push({ ...d.targets[0] }))),
      'cfg.yaml: targets[1].name: duplicate target name "checkout-prod"',
    );
    assert.match(
      configError(variant((d) => (d.targets[0]!.match = { service: '~(unclosed' }))),
      /^cfg\.yaml: targets\[0\]\.match\.service: invalid regex/,
    );
    assert.equal(
      configError(variant((d) => (d.targets[0]!.imag = 'x'))),
      'cfg.yaml: targets[0].imag: unknown field',
    );
    assert.match(
      configError(variant((d) => (d.targets[0]!.repo = 'not-a-repo'))),
      /^cfg\.yaml: targets\[0\]\.repo: must match pattern/,
    );
    assert.equal(
      configError(variant((d) => (d.targets = []))),
      'cfg.yaml: targets: must not have fewer than 1 items',
    );
    assert.equal(
      configError(variant((d) => ((d.github as Record<string, unknown>).token = 'ghp_x'))),
      'cfg.yaml: github.token: secrets are not read from the config file; set them in the environment',
    );
    assert.match(configError('targets: [\n  - name: x\n'), /^cfg\.yaml: \(root\): not valid YAML/);
    assert.equal(
      configError(EXAMPLE, { PORT: 'eighty' }),
      'environment: PORT: "eighty" is not a port number',
    );
    assert.equal(
      configError(EXAMPLE, { REWIND_DRY_RUN: 'maybe' }),
      'environment: REWIND_DRY_RUN: "maybe" is not true or false',
    );
    assert.match(
      configError(EXAMPLE, { GITHUB_APP_ID: '1' }),
      /GitHub App auth needs GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY_FILE and GITHUB_APP_INSTALLATION_ID/,
    );
  });

  test('a missing file says which file and how to choose another', () => {
    assert.throws(
      () => loadConfig({}, 'nope/rewind.yaml'),
      /nope\/rewind\.yaml: file not found \(set REWIND_CONFIG or --config\)/,
    );
  });

  test('rewind check-config exits 0 on the example and 78 with a precise message on a bad file', () => {
    const ok = spawnSync(process.execPath, ['bin/rewind.js', 'check-config'], {
      encoding: 'utf8',
      env: { ...process.env, REWIND_CONFIG: 'config/rewind.yaml' },
    });
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /config\/rewind\.yaml: ok \(1 target: checkout-prod\)/);

    const dir = mkdtempSync(join(tmpdir(), 'rewind-cfg-'));
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, EXAMPLE.replace('environment: prod', 'environment: PROD!'));
    const res = spawnSync(process.execPath, ['bin/rewind.js', 'check-config', '--config', bad], {
      encoding: 'utf8',
    });
    assert.equal(res.status, 78);
    assert.match(
      res.stderr,
      new RegExp(
        `rewind: ${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: targets\\[0\\]\\.environment: must match pattern`,
      ),
    );
  });

  test('serve refuses to start without a webhook token, before touching anything', () => {
    const res = spawnSync(process.execPath, ['bin/rewind.js', 'serve'], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, REWIND_CONFIG: 'config/rewind.yaml', GITHUB_TOKEN: 'ghp_do_not_print' },
      timeout: 20_000,
    });
    assert.equal(res.status, 78);
    assert.match(res.stderr, /REWIND_WEBHOOK_TOKEN is not set/);
    assert.doesNotMatch(res.stderr + res.stdout, /ghp_do_not_print/);
  });

  test('serve exits (1, the reason on stderr) when its port is taken, instead of running on as a headless worker', async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const { port } = busy.address() as AddressInfo;
    const res = await serveUntilExit(EXAMPLE, { PORT: String(port) });
    busy.close();
    assert.equal(res.code, 1, `exit code (stderr: ${res.stderr})`);
    assert.match(res.stderr, /EADDRINUSE/);
  });

  test('serve exits (1, the reason on stderr) when the policy file cannot be loaded, instead of hanging on its Redis client', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rewind-cfg-'));
    const wasm = join(dir, 'policy.wasm');
    writeFileSync(wasm, 'not wasm');
    const res = await serveUntilExit(EXAMPLE.replace('wasm: policies/build/policy.wasm', `wasm: ${wasm}`), {
      PORT: '0',
    });
    assert.equal(res.code, 1, `exit code (stderr: ${res.stderr})`);
    assert.match(res.stderr, /policy could not be loaded/);
  });
});

/** `rewind serve` in dry run with `config` (own Redis prefix); resolves when it exits (null if killed after 20 s). */
async function serveUntilExit(config: string, env: Record<string, string>) {
  const dir = mkdtempSync(join(tmpdir(), 'rewind-cfg-'));
  const file = join(dir, 'rewind.yaml');
  writeFileSync(
    file,
    config.replace(/^redis:$/m, `redis:\n  prefix: "rewind-test:serve-exit-${process.pid}"`),
  );
  const child = spawn(process.execPath, ['bin/rewind.js', 'serve'], {
    env: {
      PATH: process.env.PATH,
      REWIND_CONFIG: file,
      REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      HOST: '127.0.0.1',
      REWIND_WEBHOOK_TOKEN: 'x'.repeat(32),
      REWIND_DRY_RUN: 'true',
      LOG_LEVEL: 'silent',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  clearTimeout(timer);
  return { code, stderr };
}
