import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createSlackNotifier, formatSlackMessage } from '../../src/notify/slack.ts';
import { event, hugeEvent } from './events.ts';
import { startSlackEmulator, type SlackEmulator } from '../support/slack-emulator.ts';

describe('Slack incoming webhook (fallback)', () => {
  let slack: SlackEmulator;
  before(async () => {
    slack = await startSlackEmulator();
  });
  after(async () => {
    slack.assertNoUnknownRequests();
    await slack.close();
  });

  test('posts one Block Kit message: header, fields, why, context and link buttons', async () => {
    await createSlackNotifier(slack.webhookUrl).notify(event);
    const req = slack.requests.at(-1);
    assert.equal(req?.ok, true, req?.error);
    const body = req?.args as { text: string; blocks: Array<{ type: string }> };
    assert.deepEqual(
      body.blocks.map((b) => b.type),
      ['header', 'section', 'section', 'section', 'context', 'actions'],
    );
    assert.match(body.text, /Rolled back: checkout-prod v1\.2\.0 → v1\.1\.0/);
  });

  test('very long alert texts are cut to Block Kit limits, so Slack accepts the message', async () => {
    for (const kind of ['failed', 'denied', 'pr_opened'] as const) {
      await createSlackNotifier(slack.webhookUrl).notify(hugeEvent(kind));
      const req = slack.requests.at(-1);
      assert.equal(req?.ok, true, `${kind}: ${req?.error}`);
    }
  });

  test('the emulator refuses what Slack refuses (a header over 150 characters)', async () => {
    const msg = formatSlackMessage(event);
    const header = msg.blocks[0] as { text: { text: string } };
    header.text.text = 'x'.repeat(151);
    const res = await fetch(slack.webhookUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(msg),
    });
    assert.equal(res.status, 400);
    assert.equal(await res.text(), 'invalid_blocks');
  });

  test('a Slack failure is an error that does not leak the webhook URL', async () => {
    const wrong = slack.webhookUrl.replace('emulatorwebhooksecret', 'SECRETPART');
    await assert.rejects(createSlackNotifier(wrong).notify(event), (err: Error) => {
      assert.equal(err.message, 'Slack notification failed (HTTP 404)');
      assert.doesNotMatch(JSON.stringify(err, Object.getOwnPropertyNames(err)), /SECRETPART/);
      return true;
    });
  });
});
