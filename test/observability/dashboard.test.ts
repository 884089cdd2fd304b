import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TOKEN } from '../support/app.ts';
import { sampleJson } from '../support/fixtures.ts';
import { startArgoCdEmulator, type ArgoCdEmulator } from '../support/argocd-emulator/index.ts';
import { startGitHubEmulator, type GitHubEmulator } from '../support/github-emulator.ts';
import { SAMPLE_PATH, seedSampleRepo } from '../support/gitops-sample.ts';
import { freePort } from '../support/net.ts';
import { startStack } from '../support/stack.ts';

// The Grafana dashboard against a real Prometheus (Debian's) scraping a real
// rewind on loopback: after a few remediations, every panel query must parse
// and return data. Prometheus also loads rewind's alert rules, so a rule file
// the server refuses fails here too.

const haveProm = spawnSync('prometheus', ['--version']).status === 0;
const DASHBOARD = 'deploy/grafana/rewind-dashboard.json';

interface Panel {
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  targets?: { expr: string; refId: string; instant?: boolean }[];
}
const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
  uid: string;
  panels: Panel[];
  templating: { list: { name: string; type: string }[] };
};
const queryPanels = dashboard.panels.filter((p) => p.type !== 'row');

// Grafana's variables, as Grafana would fill them for a short range on a 1 s scrape
const grafanaVars = (expr: string) =>
  expr.replaceAll('$__rate_interval', '15s').replaceAll('$__range', '10m').replaceAll('$__interval', '1s');

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function alertPayload(
  labels: Record<string, string>,
  startsAt: Date,
  status: 'firing' | 'resolved' = 'firing',
) {
  const p = sampleJson('a-firing-single.json');
  const fingerprint = Buffer.from(JSON.stringify(labels)).toString('hex').slice(-16);
  const alert = {
    ...p.alerts[0],
    status,
    labels: { alertname: 'HighErrorRate', ...labels },
    startsAt: startsAt.toISOString(),
    endsAt: status === 'resolved' ? new Date().toISOString() : '0001-01-01T00:00:00Z',
    fingerprint,
  };
  return {
    ...p,
    status,
    alerts: [alert],
    commonLabels: alert.labels,
    groupLabels: { alertname: 'HighErrorRate' },
  };
}

const TARGETS = ['checkout', 'cart', 'search', 'ghost']
  .map(
    (name) => `  - name: ${name}-prod
    match: { service: ${name}, env: prod }
    repo: acme/gitops-${name}
    branch: main
    path: ${SAMPLE_PATH}
    image: registry.example.com/acme/checkout
    environment: prod
${name === 'checkout' ? '    argocd: { app: checkout-prod }\n' : ''}`,
  )
  .join('');
const ARGOCD_TOKEN = 'argocd-token-for-the-dashboard';

describe(
  'Grafana dashboard against a real Prometheus scraping rewind',
  { skip: !haveProm && 'prometheus not on PATH' },
  () => {
    let gh: GitHubEmulator;
    let argo: ArgoCdEmulator;
    let stack: Awaited<ReturnType<typeof startStack>>;
    let prom: ChildProcess;
    let promUrl = '';
    let promLog = '';
    let rewindUrl = '';
    const startedAt = Date.now();

    const query = async (expr: string) => {
      const u = new URL(`${promUrl}/api/v1/query_range`);
      u.search = new URLSearchParams({
        query: expr,
        start: String(startedAt / 1000 - 5),
        end: String(Date.now() / 1000),
        step: '1',
      }).toString();
      const res = await fetch(u);
      return (await res.json()) as {
        status: string;
        error?: string;
        data?: { result: { metric: Record<string, string>; values: [number, string][] }[] };
      };
    };
    /** series with at least one finite sample (NaN is what an empty histogram rate gives: no data) */
    const withData = (r: Awaited<ReturnType<typeof query>>) =>
      (r.data?.result ?? []).filter((s) => s.values.some(([, v]) => Number.isFinite(Number(v))));

    before(async () => {
      gh = await startGitHubEmulator();
      const releasedAt = new Date(Date.now() - 30 * 60_000);
      for (const name of ['checkout', 'cart', 'search'])
        seedSampleRepo(gh, releasedAt, 'acme', `gitops-${name}`);
      // checkout is deployed by Argo CD (automated sync): its merged rollback gets verified
      argo = await startArgoCdEmulator({ github: gh, token: ARGOCD_TOKEN });
      argo.addApp({
        name: 'checkout-prod',
        repo: { owner: 'acme', name: 'gitops-checkout' },
        branch: 'main',
        path: SAMPLE_PATH.replace(/\/kustomization\.yaml$/, ''),
        automated: true,
      });
      // acme/gitops-ghost does not exist: its remediation fails (404, not retryable)
      stack = await startStack({
        githubUrl: gh.url,
        targets: TARGETS,
        env: { ARGOCD_SERVER: argo.url, ARGOCD_AUTH_TOKEN: ARGOCD_TOKEN },
      });
      rewindUrl = await stack.app.listen({ host: '127.0.0.1', port: 0 });

      const dir = mkdtempSync(join(tmpdir(), 'rewind-prom-'));
      writeFileSync(
        join(dir, 'prometheus.yml'),
        `global: { scrape_interval: 1s, evaluation_interval: 1s }
rule_files: ['${resolve('config/prometheus/rewind-rules.yaml')}']
scrape_configs:
  - job_name: rewind
    static_configs: [{ targets: ['${new URL(rewindUrl).host}'] }]
`,
      );
      const port = await freePort();
      promUrl = `http://127.0.0.1:${port}`;
      prom = spawn(
        'prometheus',
        [
          `--config.file=${join(dir, 'prometheus.yml')}`,
          `--storage.tsdb.path=${join(dir, 'data')}`,
          `--web.listen-address=127.0.0.1:${port}`,
        ],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      prom.stderr?.on('data', (d) => (promLog += String(d)));
      await until('Prometheus to be ready', async () =>
        (await fetch(`${promUrl}/-/ready`).then(
          (r) => r.ok,
          () => false,
        ))
          ? true
          : undefined,
      );
    });
    after(async () => {
      prom?.kill('SIGTERM');
      await stack?.stop();
      await argo?.close();
      await gh?.close();
    });

    test('rewind is scraped and its alert rules load in the real server', async () => {
      const up = await until('the first scrape', async () => {
        const r = await query('up{job="rewind"}');
        return withData(r).length > 0 ? r : undefined;
      });
      assert.equal(up.data?.result[0]?.values.at(-1)?.[1], '1', promLog);
      const rules = (await (await fetch(`${promUrl}/api/v1/rules`)).json()) as {
        data: { groups: { name: string; rules: { name: string; health: string }[] }[] };
      };
      const group = rules.data.groups.find((g) => g.name === 'rewind');
      assert.ok(group && group.rules.length >= 9, promLog);
    });

    test('after a few remediations every panel query parses and returns data', async () => {
      // as Alertmanager does, a 503 (Redis slow to answer on a loaded machine) is retried
      const post = (body: unknown) =>
        until('the webhook to accept', async () => {
          const res = await fetch(`${rewindUrl}/v1/alertmanager`, {
            method: 'POST',
            headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
            body: JSON.stringify(body),
          });
          return res.status === 503 ? undefined : res;
        });
      /** the final state, polling through transient Redis timeouts */
      const settled = (id: string) =>
        until(`remediation ${id} to finish`, async () => {
          const rec = await stack.runtime.store.get(id).catch(() => undefined);
          return rec && !['queued', 'deciding'].includes(rec.state) ? rec.state : undefined;
        });
      const startsAt = new Date(Date.now() - 60_000);
      // GitHub's primary rate limit answers one of cart's requests (403, remaining 0): retried, then fine
      gh.failNext({
        pathPattern: '/repos/acme/gitops-cart/',
        status: 403,
        body: { message: 'API rate limit exceeded for installation ID 1.' },
        headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(Math.ceil(Date.now() / 1000)) },
      });
      const firing = [
        alertPayload({ service: 'checkout', env: 'prod', severity: 'critical' }, startsAt), // merged
        alertPayload({ service: 'cart', env: 'prod', severity: 'critical' }, startsAt), // merged after a rate limit
        alertPayload({ service: 'search', env: 'prod', severity: 'warning' }, startsAt), // pull request for review
        alertPayload({ service: 'ghost', env: 'prod', severity: 'critical' }, startsAt), // failed: no such repo
        alertPayload({ service: 'unknown', env: 'prod', severity: 'critical' }, startsAt), // ignored
      ];
      const ids: string[] = [];
      for (const body of firing) {
        const res = await post(body);
        assert.equal(res.status, 202);
        ids.push(...((await res.json()) as { remediations: { id: string }[] }).remediations.map((r) => r.id));
      }
      assert.equal((await post(firing[0])).status, 202, 'a repeat: seen again');
      const states = await Promise.all(ids.map(settled));
      // checkout's may already be verified by Argo CD when first read
      assert.deepEqual(
        states.map((s) => (s === 'verified' ? 'merged' : s)),
        ['merged', 'merged', 'pr_opened', 'failed'],
      );
      await until('Argo CD to verify checkout', async () => {
        const rec = await stack.runtime.store.get(ids[0] ?? '').catch(() => undefined);
        return rec?.state === 'verified' ? true : undefined;
      });
      // checkout recovers: its resolution records the time to recovery
      assert.equal(
        (
          await post(
            alertPayload({ service: 'checkout', env: 'prod', severity: 'critical' }, startsAt, 'resolved'),
          )
        ).status,
        202,
      );
      await until('the time to recovery', async () => {
        const rec = await stack.runtime.store.get(ids[0] ?? '').catch(() => undefined);
        return rec?.timeToRecoverySeconds != null ? true : undefined;
      });
      assert.ok(
        gh.requests.some((r) => r.path.includes('gitops-cart')),
        'the rate limit hit a real request',
      );

      // Prometheus has seen the last of it once the recovery histogram shows up
      await until('Prometheus to scrape the results', async () => {
        const r = await query('rewind_time_to_recovery_seconds_count > 0');
        return withData(r).length > 0 ? true : undefined;
      });
      await new Promise((r) => setTimeout(r, 3000)); // a few more scrapes so every rate() has two points after the change

      const failures: string[] = [];
      for (const panel of queryPanels) {
        assert.equal(panel.datasource?.uid, '${datasource}', `${panel.title}: uses the datasource variable`);
        assert.ok(panel.targets?.length, `${panel.title}: has a query`);
        for (const t of panel.targets ?? []) {
          const r = await query(grafanaVars(t.expr));
          assert.equal(r.status, 'success', `${panel.title} ${t.refId}: ${r.error ?? ''} in ${t.expr}`);
          if (withData(r).length === 0) failures.push(`${panel.title} ${t.refId}: no data for ${t.expr}`);
        }
      }
      assert.deepEqual(failures, [], promLog);

      // the first event of each series counts (series exist at 0 before it): exact figures
      const latest = async (expr: string) => {
        const r = await query(grafanaVars(expr));
        return Object.fromEntries(
          withData(r).map((s) => [
            Object.values(s.metric).join(' '),
            Math.round(Number(s.values.at(-1)?.[1])),
          ]),
        );
      };
      const byTitle = (title: string) => queryPanels.find((p) => p.title === title)?.targets?.[0]?.expr ?? '';
      const outcomes = await latest(byTitle('Remediations by outcome'));
      assert.deepEqual(
        {
          merged: outcomes.merged,
          pr_opened: outcomes.pr_opened,
          failed: outcomes.failed,
          denied: outcomes.denied,
        },
        { merged: 2, pr_opened: 1, failed: 1, denied: 0 },
      );
      assert.deepEqual(await latest(byTitle('Verifications')), { verified: 1, unverified: 0 });
      assert.deepEqual(await latest(byTitle('GitHub rejections (rate limit, credentials)')), {
        '401': 0,
        '403': 1,
        '429': 0,
      });
    });

    test('the dashboard is importable: unique ids, a Prometheus datasource variable, a stable uid', () => {
      assert.equal(dashboard.uid, 'rewind');
      assert.ok(dashboard.templating.list.some((v) => v.name === 'datasource' && v.type === 'datasource'));
      const ids = dashboard.panels.map((p) => (p as unknown as { id: number }).id);
      assert.equal(new Set(ids).size, ids.length);
      assert.ok(queryPanels.length >= 15);
    });
  },
);
