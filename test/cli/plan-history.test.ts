import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createAuditStore } from '../../src/audit/store.ts';
import { runPlan } from '../../src/cli/plan.ts';
import { buildConfig } from '../../src/config/config.ts';
import { startGitHubEmulator, type GitHubEmulator } from '../support/github-emulator.ts';
import { seedSampleRepo } from '../support/gitops-sample.ts';
import { samplePayload } from '../support/fixtures.ts';
import { freePort } from '../support/net.ts';
import { REDIS_URL, dropPrefix, testRedis, uniquePrefix } from '../support/redis.ts';
import { CHECKOUT_TARGET, configYaml } from '../support/stack.ts';

const redis = testRedis();
const prefix = uniquePrefix('plan');
let gh: GitHubEmulator;
const NOW = new Date('2026-11-26T00:40:00Z');

before(async () => {
  gh = await startGitHubEmulator();
  // released 30 minutes before: a critical alert would be merged, unless the target flaps
  seedSampleRepo(gh, new Date('2026-11-26T00:10:00Z'));
});
after(async () => {
  await gh.close();
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

async function plan(redisUrl: string): Promise<{ code: number; out: string }> {
  const config = buildConfig(configYaml({ prefix, targets: CHECKOUT_TARGET }), 'rewind.yaml', {
    GITHUB_API_URL: gh.url,
    GITHUB_TOKEN: 'test-token',
    REDIS_URL: redisUrl,
  });
  const lines: string[] = [];
  const code = await runPlan(
    config,
    samplePayload('a-firing-single.json'),
    'alert.json',
    (s) => void lines.push(s),
    {
      now: NOW,
    },
  );
  return { code, out: lines.join('\n') };
}

describe('rewind plan reads the real rollback history', () => {
  test('a rollback recorded in Redis 10 minutes ago shows as flapping, and the output says where the history came from', async () => {
    await createAuditStore({ redis, prefix }).recordRollback(
      'checkout-prod',
      'rem_earlier',
      new Date(NOW.getTime() - 10 * 60_000),
    );
    const { code, out } = await plan(REDIS_URL);
    assert.equal(code, 0, out);
    assert.match(out, /history: {3}1 rollback\(s\) in the last hour, 1 in the last day \(from Redis\)/);
    assert.match(out, /decision: {2}deny/);
    assert.match(out, /flapping: 1 rollback\(s\) of this target in the last hour/);
  });

  test('Redis does not answer: the plan still runs and says the history was counted as empty', async () => {
    const started = Date.now();
    const { code, out } = await plan(`redis://127.0.0.1:${await freePort()}`);
    assert.equal(code, 0, out);
    assert.match(
      out,
      /Redis at redis:\/\/127\.0\.0\.1:\d+ did not answer: rollback history counted as empty/,
    );
    assert.match(out, /decision: {2}allow, mode merge/);
    assert.ok(Date.now() - started < 20_000, 'no hang on the missing Redis');
  });

  test('sentinels that do not answer: the same, and the sentinel password never reaches the output', async () => {
    const started = Date.now();
    const url = `redis+sentinel://:s3cret@127.0.0.1:${await freePort()}/mymaster?sentinelPassword=s3cret`;
    const { code, out } = await plan(url);
    assert.equal(code, 0, out);
    assert.match(
      out,
      /Redis at redis\+sentinel:\/\/redacted@127\.0\.0\.1:\d+\/mymaster\?sentinelPassword=redacted did not answer/,
    );
    assert.ok(!out.includes('s3cret'), out);
    assert.match(out, /decision: {2}allow, mode merge/);
    assert.ok(Date.now() - started < 20_000, 'no hang on sentinels that do not answer');
  });
});
