/**
 * `npm run demo`: the whole loop on one machine, no GitHub account.
 * A GitHub API emulator seeded with a sample GitOps repo, a real Redis, rewind
 * itself (the same composition as `rewind serve`), one real Alertmanager
 * payload over HTTP, and a printout of the pull request that results; then an
 * Argo CD API emulator (its Application tracks the emulated repository) synced
 * right after the merge and the rollback verified, with the seconds of each step.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { buildConfig } from '../src/config/config.ts';
import type { Logger } from '../src/observability/logger.ts';
import { startRole } from '../src/server.ts';
import { startGitHubEmulator } from '../test/support/github-emulator.ts';
import { startArgoCdEmulator } from '../test/support/argocd-emulator/index.ts';
import { SAMPLE_PATH, seedSampleRepo } from '../test/support/gitops-sample.ts';
import { freePort } from '../test/support/net.ts';
import { hasRedisServer, pingRedis, startRedis, stopRedis } from '../test/support/redis-server.ts';

const TOKEN = 'demo-webhook-token';
const ARGOCD_TOKEN = 'demo-argocd-token';
/** how often rewind reads the Application while verifying (production default: 5 s) */
const VERIFY_POLL_MS = 250;
const started = Date.now();
const say = (s = '') => process.stdout.write(`${s}\n`);

/** The Redis at $REDIS_URL, else one started from redis-server on PATH, else a clear way out. */
async function ensureRedis(): Promise<{ url: string; child: ChildProcess | null; dir: string | null }> {
  const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  if (await pingRedis(url)) return { url, child: null, dir: null };
  if (!hasRedisServer) {
    throw new Error(
      `no Redis answers at ${url} and redis-server is not on PATH.\n` +
        '  Debian/Ubuntu: sudo apt-get install redis-server   macOS: brew install redis\n' +
        '  or point REDIS_URL at a running Redis.',
    );
  }
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'rewind-demo-redis-'));
  return { url: `redis://127.0.0.1:${port}`, child: await startRedis(port, dir), dir };
}

interface AuditView {
  state: string;
  steps: Record<string, string>;
  verification: { mergeCommit: string; result: string; reason: string | null; seconds: number | null } | null;
  decision: { allow: boolean; mode: string; reasons: string[] } | null;
  pullRequest: { number: number; url: string } | null;
  error: string | null;
  reason: string | null;
}

async function audit(base: string, id: string): Promise<AuditView> {
  const r = await fetch(`${base}/v1/remediations/${id}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  if (!r.ok) throw new Error(`GET /v1/remediations/${id}: HTTP ${r.status}`);
  return (await r.json()) as AuditView;
}

async function main() {
  const redis = await ensureRedis();
  say(`Redis:    ${redis.url}${redis.child ? ' (started for the demo)' : ''}`);
  const gh = await startGitHubEmulator();
  const now = new Date();
  seedSampleRepo(gh, new Date(now.getTime() - 30 * 60_000));
  say(
    `GitHub:   emulator at ${gh.url}, acme/gitops seeded (${SAMPLE_PATH}: v1.0.0 → v1.1.0 → v1.2.0, released 30 min ago)`,
  );

  const argocd = await startArgoCdEmulator({ github: gh, token: ARGOCD_TOKEN });
  argocd.addApp({
    name: 'checkout-prod',
    repo: { owner: 'acme', name: 'gitops' },
    branch: 'main',
    path: 'apps/checkout/overlays/prod',
    automated: true,
  });
  say(
    `Argo CD:  emulator at ${argocd.url}, Application checkout-prod (automated sync, no webhook: it would poll Git every 3 min)`,
  );

  const prefix = `rewind-demo:${process.pid}`;
  const config = buildConfig(
    `github:
  author: { name: rewind-bot, email: rewind-bot@users.noreply.github.com }
redis: { prefix: "${prefix}" }
policy: { wasm: policies/build/policy.wasm, data: policies/data.json }
targets:
  - name: checkout-prod
    match: { service: checkout, env: test }
    repo: acme/gitops
    branch: main
    path: ${SAMPLE_PATH}
    image: registry.example.com/acme/checkout
    environment: prod
    reviewers: [octocat]
    argocd: { app: checkout-prod }
    verify: { timeout: 2m }
`,
    'demo-config.yaml',
    {
      GITHUB_API_URL: gh.url,
      GITHUB_TOKEN: 'test-token',
      REDIS_URL: redis.url,
      REWIND_WEBHOOK_TOKEN: TOKEN,
      ARGOCD_SERVER: argocd.url,
      ARGOCD_AUTH_TOKEN: ARGOCD_TOKEN,
    },
  );
  const logger = pino({ level: process.env.LOG_LEVEL ?? 'warn' }) as unknown as Logger;
  const rewind = await startRole('serve', config, {
    logger,
    httpLogger: false,
    octokit: { spaceWrites: false, retries: 0 },
    verifyPollMs: VERIFY_POLL_MS,
  });
  const base = await rewind.app.listen({ host: '127.0.0.1', port: 0 });
  say(`rewind:   serving on ${base}`);

  // The real payload Alertmanager 0.25 sent, moved to "now" so the release
  // (30 min ago) precedes the alert, as it would in a real incident.
  const payload = JSON.parse(readFileSync('test/fixtures/alertmanager/a-firing-single.json', 'utf8')) as {
    alerts: Array<{ startsAt: string; labels: Record<string, string> }>;
  };
  for (const a of payload.alerts) a.startsAt = new Date(now.getTime() - 2 * 60_000).toISOString();
  const alert = payload.alerts[0];
  say(
    `Alert:    ${alert?.labels.alertname} (${alert?.labels.severity}) service=${alert?.labels.service} env=${alert?.labels.env}`,
  );

  const alertSentAt = Date.now();
  const res = await fetch(`${base}/v1/alertmanager`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify(payload),
  });
  const accepted = (await res.json()) as { remediations: Array<{ id: string }> };
  say(`Webhook:  HTTP ${res.status} ${JSON.stringify(accepted)}`);
  const id = accepted.remediations[0]?.id;
  if (!id) throw new Error('no remediation was created');

  let rec = await audit(base, id);
  let mergedAt = 0;
  let syncedAt = 0;
  let verdictAt = 0;
  // Watch the whole loop: merged on GitHub, synced in Argo CD, then rewind's verdict.
  for (
    let i = 0;
    i < 1200 && !['verified', 'unverified', 'failed', 'denied', 'noop', 'pr_opened'].includes(rec.state);
    i++
  ) {
    await new Promise((r) => setTimeout(r, 25));
    rec = await audit(base, id);
    // the recorded merge time, not when this poll noticed it (the refresh can come first)
    if (!mergedAt && rec.steps.merged) mergedAt = Date.parse(rec.steps.merged);
    const sha = rec.verification?.mergeCommit;
    const status = argocd.app('checkout-prod').status as { sync: { revision: string; status: string } };
    if (!syncedAt && sha && status.sync.revision === sha) syncedAt = Date.now();
  }
  verdictAt = Date.now();
  say('');
  say(`Remediation ${id}: ${rec.state}`);
  say(`Policy decision: ${rec.decision?.allow ? 'allow' : 'deny'}, mode ${rec.decision?.mode}`);
  for (const reason of rec.decision?.reasons ?? []) say(`  - ${reason}`);
  if (rec.error || rec.reason) say(`Note: ${rec.error ?? rec.reason}`);
  const prNumber = rec.pullRequest?.number;
  const pr = gh.pulls('acme', 'gitops').find((p) => p.number === prNumber);
  if (pr) {
    say('');
    say(`Pull request #${pr.number}: ${pr.title}`);
    say(
      `  branch ${pr.headRef} → ${pr.baseRef}, labels [${pr.labels.join(', ')}], reviewers [${pr.requestedReviewers.join(', ')}], ${pr.merged ? 'merged (squash)' : pr.state}`,
    );
    say('');
    say(pr.body ?? '');
    say('');
    say('Diff:');
    say(gh.diff('acme', 'gitops', pr.number));
    const [head] = gh.listCommits('acme', 'gitops', 'main');
    if (pr.merged && head) {
      say(`Commit on main ${head.sha.slice(0, 7)}:`);
      say(head.message.replace(/^/gm, '  '));
    }
  }
  if (rec.verification) {
    const secs = (a: number, b: number) => (a && b ? `${((b - a) / 1000).toFixed(2)} s` : 'n/a');
    const refresh = argocd.calls.find((c) => c.query.refresh === 'normal');
    say('');
    say(`Verification: ${rec.state} (${rec.verification.reason ?? ''})`);
    say('Loop, as watched by this demo:');
    say(`  alert → merged PR            ${secs(alertSentAt, mergedAt)}`);
    say(`  merged → Argo CD refreshed   ${secs(mergedAt, refresh?.at ?? 0)} (rewind asks; no 3-minute poll)`);
    say(`  merged → Argo CD synced      ${secs(mergedAt, syncedAt)}`);
    say(
      `  synced → verified            ${secs(syncedAt, verdictAt)} (Healthy after the health loop; poll every ${VERIFY_POLL_MS} ms)`,
    );
    say(`  alert → verified             ${secs(alertSentAt, verdictAt)}`);
    say(`  merge → verified (recorded)  ${rec.verification.seconds?.toFixed(2) ?? 'n/a'} s`);
  }
  say(`Done in ${((Date.now() - started) / 1000).toFixed(1)} s.`);

  await rewind.close();
  const admin = new Redis(redis.url);
  const keys = await admin.keys(`${prefix}:*`);
  if (keys.length) await admin.del(...keys);
  admin.disconnect();
  await gh.close();
  await argocd.close();
  if (redis.child) await stopRedis(redis.child);
  if (redis.dir) rmSync(redis.dir, { recursive: true, force: true });
  process.exitCode = pr && rec.state === 'verified' ? 0 : 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`demo failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
