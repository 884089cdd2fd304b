import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startGitHubEmulator, type GitHubEmulator } from '../support/github-emulator.ts';
import { SAMPLE_PATH, kustomization, seedSampleRepo } from '../support/gitops-sample.ts';
import { TOKEN } from '../support/app.ts';
import { startStack } from '../support/stack.ts';
import { hasRedisServer, startRedis, stopRedis } from '../support/redis-server.ts';
import { freePort } from '../support/net.ts';

const AM = 'prometheus-alertmanager';
const haveAm = spawnSync(AM, ['--version']).status === 0;

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function startAlertmanager(rewindUrl: string, dir: string) {
  writeFileSync(
    join(dir, 'alertmanager.yml'),
    `route:
  receiver: rewind
  group_by: [alertname, service]
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 1h
receivers:
  - name: rewind
    webhook_configs:
      - url: ${rewindUrl}/v1/alertmanager
        send_resolved: true
        http_config:
          authorization: { credentials: ${TOKEN} }
`,
  );
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    AM,
    [
      `--config.file=${join(dir, 'alertmanager.yml')}`,
      `--storage.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const am = { child, url, log: '' };
  child.stderr?.on('data', (d) => (am.log += String(d)));
  await until('Alertmanager to be ready', async () => {
    const ok = await fetch(`${url}/-/ready`).then(
      (r) => r.ok,
      () => false,
    );
    return ok ? true : undefined;
  });
  return am;
}

async function pushAlert(amUrl: string, startsAt: Date, endsAt?: Date) {
  const res = await fetch(`${amUrl}/api/v2/alerts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify([
      {
        labels: { alertname: 'HighErrorRate', service: 'checkout', env: 'test', severity: 'critical' },
        annotations: { summary: 'Checkout 5xx above 5%' },
        startsAt: startsAt.toISOString(),
        ...(endsAt ? { endsAt: endsAt.toISOString() } : {}),
      },
    ]),
  });
  assert.equal(res.status, 200, await res.text());
}

/**
 * The real Alertmanager (Debian's 0.25) delivering to rewind: its bearer
 * credentials, its payloads, its grouping and its resolved notifications.
 */
describe('real Alertmanager → rewind → pull request', { skip: haveAm ? false : `${AM} not on PATH` }, () => {
  let gh: GitHubEmulator;
  let stack: Awaited<ReturnType<typeof startStack>>;
  let am: Awaited<ReturnType<typeof startAlertmanager>>;
  const startsAt = new Date(Date.now() - 60_000);

  before(async () => {
    gh = await startGitHubEmulator();
    seedSampleRepo(gh, new Date(Date.now() - 30 * 60_000));
    stack = await startStack({ githubUrl: gh.url });
    const rewindUrl = await stack.app.listen({ host: '127.0.0.1', port: 0 });
    am = await startAlertmanager(rewindUrl, mkdtempSync(join(tmpdir(), 'rewind-am-')));
  });
  after(async () => {
    am?.child.kill('SIGKILL');
    await stack?.stop();
    await gh?.close();
  });

  test('a firing alert becomes a merged rollback; its resolution records the time to recovery', async () => {
    await pushAlert(am.url, startsAt);
    const rec = await until('the rollback to merge', async () => {
      const [r] = await stack.runtime.store.list({ limit: 1 });
      return r && r.state === 'merged' ? r : undefined;
    });
    assert.equal(rec.alerts[0]?.labels.alertname, 'HighErrorRate');
    // Go formats fractional seconds without trailing zeros (.17Z where JS writes .170Z): compare instants
    assert.equal(Date.parse(rec.alerts[0]?.startsAt ?? ''), startsAt.getTime());
    assert.equal(gh.getFile('acme', 'gitops', 'main', SAMPLE_PATH), kustomization('v1.1.0'));
    assert.equal(gh.pulls('acme', 'gitops').length, 1);

    const resolvedAt = new Date();
    await pushAlert(am.url, startsAt, resolvedAt);
    const recovered = await until('the resolution', async () => {
      const r = await stack.runtime.store.get(rec.id);
      return r?.timeToRecoverySeconds !== null && r?.timeToRecoverySeconds !== undefined ? r : undefined;
    });
    const expected = (resolvedAt.getTime() - startsAt.getTime()) / 1000;
    assert.ok(Math.abs((recovered.timeToRecoverySeconds ?? 0) - expected) < 1);
    assert.equal(gh.pulls('acme', 'gitops').length, 1, 'no second PR from repeats or the resolution');
    gh.assertNoUnknownRequests();
    assert.doesNotMatch(am.log, /status code 4\d\d/, 'Alertmanager never got a 4xx from rewind');
  });
});

describe(
  'Redis down when the real Alertmanager delivers: 503, Alertmanager retries, nothing is lost',
  { skip: !haveAm ? `${AM} not on PATH` : !hasRedisServer ? 'redis-server not on PATH' : false },
  () => {
    let gh: GitHubEmulator;
    let stack: Awaited<ReturnType<typeof startStack>>;
    let am: Awaited<ReturnType<typeof startAlertmanager>>;
    let redis: ChildProcess;
    let port: number;
    let dir: string;

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'rewind-am-outage-'));
      port = await freePort();
      redis = await startRedis(port, dir);
      gh = await startGitHubEmulator();
      seedSampleRepo(gh, new Date(Date.now() - 30 * 60_000));
      stack = await startStack({ githubUrl: gh.url, env: { REDIS_URL: `redis://127.0.0.1:${port}` } });
      const rewindUrl = await stack.app.listen({ host: '127.0.0.1', port: 0 });
      am = await startAlertmanager(rewindUrl, dir);
    });
    after(async () => {
      am?.child.kill('SIGKILL');
      await stack?.stop();
      await gh?.close();
      if (redis) await stopRedis(redis);
    });

    test('the alert that arrived during the outage is rolled back once Redis is back', async () => {
      await stopRedis(redis);
      await pushAlert(am.url, new Date(Date.now() - 60_000));
      // Alertmanager's first attempts meet a 503 (it retries within the flush, ~7 times in 10 s)
      await until('a 503 to be answered', async () => {
        const text = await (await stack.app.inject('/metrics')).body;
        return /rewind_webhook_requests_total\{code="503"\} [1-9]/.test(text) ? true : undefined;
      });
      redis = await startRedis(port, dir);
      const rec = await until('the rollback to merge', async () => {
        const [r] = await stack.runtime.store.list({ limit: 1 }).catch(() => []);
        return r && r.state === 'merged' ? r : undefined;
      });
      assert.equal(rec.alerts.length, 1);
      const metrics = (await stack.app.inject('/metrics')).body;
      assert.match(metrics, /rewind_webhook_requests_total\{code="202"\} [1-9]/);
      assert.equal(gh.pulls('acme', 'gitops').length, 1);
      assert.equal(gh.getFile('acme', 'gitops', 'main', SAMPLE_PATH), kustomization('v1.1.0'));
    });
  },
);
