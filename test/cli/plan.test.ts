import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { startGitHubEmulator, type GitHubEmulator } from '../support/github-emulator.ts';
import { seedSampleRepo } from '../support/gitops-sample.ts';
import { samplePayload } from '../support/fixtures.ts';
import { CHECKOUT_TARGET, configYaml } from '../support/stack.ts';

const run = promisify(execFile);

describe('rewind plan --alert FILE', () => {
  let gh: GitHubEmulator;
  let dir: string;
  before(async () => {
    gh = await startGitHubEmulator();
    // released long before the sample alert fired
    seedSampleRepo(gh, new Date('2026-11-20T00:00:00Z'));
    dir = mkdtempSync(join(tmpdir(), 'rewind-plan-'));
    writeFileSync(join(dir, 'rewind.yaml'), configYaml({ prefix: 'unused', targets: CHECKOUT_TARGET }));
    writeFileSync(join(dir, 'alert.json'), samplePayload('a-firing-single.json'));
  });
  after(async () => gh.close());

  test('prints the target, the candidate and the full decision, and writes nothing', async () => {
    const { stdout } = await run(
      process.execPath,
      ['bin/rewind.js', 'plan', '--alert', join(dir, 'alert.json'), '--config', join(dir, 'rewind.yaml')],
      {
        env: {
          PATH: process.env.PATH,
          GITHUB_API_URL: gh.url,
          GITHUB_TOKEN: 'test-token',
          REDIS_URL: 'redis://127.0.0.1:1',
        },
      },
    );
    assert.match(stdout, /1 alert\(s\), 1 target\(s\) firing, 0 resolution\(s\), 0 ignored/);
    assert.match(
      stdout,
      /== checkout-prod \(acme\/gitops:main\/apps\/checkout\/overlays\/prod\/kustomization\.yaml\)/,
    );
    assert.match(stdout, /current: {3}v1\.2\.0 \(since [0-9a-f]{7}, 2026-11-20T00:00:00Z\)/);
    assert.match(stdout, /candidate: v1\.1\.0 \([0-9a-f]{7}\)/);
    // a critical alert, but the release is six days old: review required
    assert.match(stdout, /decision: {2}allow, mode pull_request/);
    assert.match(stdout, /would open rewind\/checkout-prod\/v1\.1\.0/);
    const writes = gh.requests.filter((r) => r.method !== 'GET' && r.path !== '/graphql');
    assert.deepEqual(writes, []);
    gh.assertNoUnknownRequests();
  });

  test('a file that is not an Alertmanager payload is a clear error', async () => {
    writeFileSync(join(dir, 'bad.json'), '{"alerts": "no"}');
    await assert.rejects(
      run(
        process.execPath,
        ['bin/rewind.js', 'plan', '--alert', join(dir, 'bad.json'), '--config', join(dir, 'rewind.yaml')],
        {
          env: { PATH: process.env.PATH, GITHUB_API_URL: gh.url },
        },
      ),
      (err: { code: number; stderr: string }) => {
        assert.equal(err.code, 78);
        assert.match(err.stderr, /bad\.json: not an Alertmanager v4 payload: \/alerts/);
        return true;
      },
    );
  });
});
