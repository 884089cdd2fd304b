import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startGitHubEmulator, type GitHubEmulator } from '../support/github-emulator.ts';
import { seedSampleRepo } from '../support/gitops-sample.ts';
import { sampleJson } from '../support/fixtures.ts';
import { dropPrefix, REDIS_URL, testRedis, uniquePrefix } from '../support/redis.ts';
import { CHECKOUT_TARGET, configYaml } from '../support/stack.ts';

const GITHUB_TOKEN = 'ghp_NEVER_LOG_THIS_0123456789';
const WEBHOOK_TOKEN = 'whk_NEVER_LOG_THIS_9876543210';

/** `rewind serve` as a user runs it: a real process, real HTTP, logs at trace level. */
describe('rewind serve as a process', () => {
  let gh: GitHubEmulator;
  let child: ChildProcess;
  let output = '';
  let base = '';
  const prefix = uniquePrefix('proc');
  const redis = testRedis();

  before(async () => {
    gh = await startGitHubEmulator({ token: GITHUB_TOKEN });
    // released 30 min before the alert, so the shipped policy merges
    seedSampleRepo(gh, new Date(Date.now() - 30 * 60_000));
    const dir = mkdtempSync(join(tmpdir(), 'rewind-proc-'));
    writeFileSync(join(dir, 'rewind.yaml'), configYaml({ prefix, targets: CHECKOUT_TARGET }));
    child = spawn(process.execPath, ['bin/rewind.js', 'serve'], {
      env: {
        PATH: process.env.PATH,
        REWIND_CONFIG: join(dir, 'rewind.yaml'),
        REDIS_URL,
        GITHUB_API_URL: gh.url,
        GITHUB_TOKEN,
        REWIND_WEBHOOK_TOKEN: WEBHOOK_TOKEN,
        SLACK_WEBHOOK_URL: 'http://127.0.0.1:9/services/T000/B000/SLACK_SECRET_PART',
        PORT: '0',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'trace',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (d) => (output += String(d)));
    child.stderr?.on('data', (d) => (output += String(d)));
    // generous: tsx compiles the whole tree at start, and a loaded CI machine is slow at that
    const until = Date.now() + 90_000;
    while (!base) {
      base = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1] ?? '';
      if (Date.now() > until) throw new Error(`rewind did not start:\n${output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  });
  after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
    await gh.close();
    await dropPrefix(redis, prefix);
    redis.disconnect();
  });

  test('rolls back over real HTTP and no secret reaches its logs or API', async () => {
    const payload = sampleJson('a-firing-single.json');
    (payload.alerts[0] as { startsAt: string }).startsAt = new Date(Date.now() - 60_000).toISOString();
    const res = await fetch(`${base}/v1/alertmanager`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${WEBHOOK_TOKEN}` },
      body: JSON.stringify(payload),
    });
    assert.equal(res.status, 202);
    const { remediations } = (await res.json()) as { remediations: Array<{ id: string }> };
    const id = remediations[0]?.id;
    let rec: { state: string; error: string | null } = { state: 'queued', error: null };
    // a real process spaces GitHub writes a second apart (Octokit throttling), so allow a minute
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && ['queued', 'deciding'].includes(rec.state)) {
      await new Promise((r) => setTimeout(r, 50));
      const r = await fetch(`${base}/v1/remediations/${id}`, {
        headers: { authorization: `Bearer ${WEBHOOK_TOKEN}` },
      });
      rec = (await r.json()) as typeof rec;
    }
    assert.equal(rec.state, 'merged', JSON.stringify(rec));
    // the count is an effect of the transition, run just after the state write (after Slack's attempt)
    const counted = /rewind_remediations_total\{target="checkout-prod",outcome="merged"\} 1/;
    let metrics = '';
    for (const until = Date.now() + 10_000; Date.now() < until;) {
      metrics = await (await fetch(`${base}/metrics`)).text();
      if (counted.test(metrics)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.match(metrics, counted);
    // Slack at a dead port: the failure is logged, the rollback still stands
    await new Promise((r) => setTimeout(r, 300));
    assert.match(output, /notification failed/);
    for (const secret of [GITHUB_TOKEN, WEBHOOK_TOKEN, 'SLACK_SECRET_PART']) {
      assert.ok(!output.includes(secret), `logs contain ${secret}`);
      assert.ok(!metrics.includes(secret), `metrics contain ${secret}`);
      assert.ok(!JSON.stringify(rec).includes(secret), `audit record contains ${secret}`);
    }
    assert.ok(output.length > 1000, 'trace logs were written');
  });

  test('SIGTERM shuts it down cleanly with exit code 0', async () => {
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    assert.equal(code, 0);
    assert.match(output, /shutting down/);
  });
});
