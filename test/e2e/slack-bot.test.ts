import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { post } from '../support/app.ts';
import { sampleJson } from '../support/fixtures.ts';
import { startGitHubEmulator, type GitHubEmulator } from '../support/github-emulator.ts';
import { seedSampleRepo } from '../support/gitops-sample.ts';
import { startSlackEmulator, type SlackEmulator } from '../support/slack-emulator.ts';
import { startStack } from '../support/stack.ts';

const RELEASED = new Date('2026-11-26T00:10:00Z');
const clock = { now: () => new Date('2026-11-26T00:40:00Z') };

describe('Slack bot mode through the whole service (emulators, real Redis)', () => {
  let gh: GitHubEmulator;
  let slack: SlackEmulator;
  let stack: Awaited<ReturnType<typeof startStack>>;

  before(async () => {
    gh = await startGitHubEmulator();
    slack = await startSlackEmulator();
    seedSampleRepo(gh, RELEASED);
    stack = await startStack({
      githubUrl: gh.url,
      clock,
      env: { SLACK_BOT_TOKEN: slack.token },
      extraConfig: `slack:\n  channel: "#rewind"\n  apiUrl: ${slack.apiUrl}`,
      configNotifier: true,
    });
  });
  after(async () => {
    await stack.stop();
    gh.assertNoUnknownRequests();
    slack.assertNoUnknownRequests();
    await Promise.all([gh.close(), slack.close()]);
  });

  test('a merged rollback posts one message whose place is kept on the record; a retry updates it', async () => {
    const payload = sampleJson('a-firing-single.json');
    const res = await post(stack.app, payload);
    const id = res.json().remediations[0].id as string;
    const rec = await stack.settled(id);
    assert.equal(rec.state, 'merged', `${rec.reason ?? ''} ${rec.error ?? ''}`);

    const [top, ...more] = slack.topLevel('C0REWIND01');
    assert.ok(top, JSON.stringify(slack.requests.map((r) => r.error)));
    assert.deepEqual(more, []);
    assert.deepEqual(rec.slack, { channel: 'C0REWIND01', ts: top.ts, posted: ['merged'] });
    const json = JSON.stringify(top.blocks);
    assert.ok(json.includes(`"url":"${rec.pullRequest?.url}"`), 'the PR button links the pull request');
    assert.match(json, /Rolled back to v1\.1\.0: checkout-prod/);
    assert.ok(json.includes(`Remediation \`${id}\``));
    const externalURL = String(payload.externalURL);
    assert.ok(
      json.includes(`${externalURL}/#/silences/new?filter=`),
      'silence link to the Alertmanager that sent it',
    );

    // The job retried after the Slack call (a crash before BullMQ booked it): same message, updated.
    await stack.runtime.notifier.notify({
      kind: 'merged',
      remediationId: id,
      target: 'checkout-prod',
      environment: 'prod',
      alertName: 'HarnessSingle',
      severity: 'critical',
      from: 'v1.2.0',
      to: 'v1.1.0',
      reasons: [],
      prUrl: rec.pullRequest?.url ?? null,
      error: null,
      dryRun: false,
    });
    assert.equal(slack.topLevel('C0REWIND01').length, 1);
    assert.equal(top.edits, 1);
    assert.deepEqual(slack.replies('C0REWIND01', top.ts), []);
    for (const r of slack.requests) assert.equal(r.authorization, `Bearer ${slack.token}`);
  });
});
