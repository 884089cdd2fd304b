import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { createSlackBotNotifier, type SlackThread, type SlackThreads } from '../../src/notify/slack-bot.ts';
import { startSlackEmulator, type SlackEmulator } from '../support/slack-emulator.ts';
import { event, hugeEvent } from './events.ts';

function memoryThreads(): SlackThreads & { map: Map<string, SlackThread> } {
  const map = new Map<string, SlackThread>();
  return {
    map,
    get: async (id) => map.get(id) ?? null,
    save: async (id, t) => void map.set(id, t),
  };
}

describe('Slack bot token: one message per remediation, updated in place, steps in its thread', () => {
  let slack: SlackEmulator;
  let threads: ReturnType<typeof memoryThreads>;
  const bot = (over: { token?: string; channel?: string } = {}) =>
    createSlackBotNotifier({
      token: over.token ?? slack.token,
      channel: over.channel ?? '#rewind',
      apiUrl: slack.apiUrl,
      threads,
      retries: 0,
    });
  before(async () => {
    slack = await startSlackEmulator();
  });
  beforeEach(() => {
    threads = memoryThreads();
    slack.messages.length = 0;
    slack.requests.length = 0;
  });
  after(async () => {
    slack.assertNoUnknownRequests();
    await slack.close();
  });

  test('the first step posts; later steps update that message and reply in its thread', async () => {
    await bot().notify({ ...event, kind: 'pr_opened', remediationId: 'rem_1' });
    const [top] = slack.topLevel('C0REWIND01');
    assert.ok(top);
    assert.deepEqual(threads.map.get('rem_1'), { channel: 'C0REWIND01', ts: top.ts, posted: ['pr_opened'] });

    await bot().notify({ ...event, kind: 'merged', remediationId: 'rem_1' });
    assert.equal(slack.topLevel('C0REWIND01').length, 1, 'still one message');
    assert.equal(top.edits, 1);
    assert.match(JSON.stringify(top.blocks[0]), /Rolled back to v1\.1\.0: checkout-prod/);
    const replies = slack.replies('C0REWIND01', top.ts);
    assert.equal(replies.length, 1);
    assert.match(replies[0]?.text ?? '', /Rolled back/);
    assert.deepEqual(threads.map.get('rem_1')?.posted, ['pr_opened', 'merged']);
  });

  test('a retried step updates the message again and adds no second reply or message', async () => {
    const n = bot();
    await n.notify({ ...event, kind: 'pr_opened', remediationId: 'rem_2' });
    await n.notify({ ...event, kind: 'failed', remediationId: 'rem_2', error: 'boom' });
    await n.notify({ ...event, kind: 'failed', remediationId: 'rem_2', error: 'boom' });
    const [top, ...others] = slack.topLevel('C0REWIND01');
    assert.ok(top);
    assert.deepEqual(others, []);
    assert.equal(slack.replies('C0REWIND01', top.ts).length, 1);
    assert.equal(top.edits, 2);
  });

  test('separate remediations get separate messages', async () => {
    await bot().notify({ ...event, remediationId: 'rem_a' });
    await bot().notify({ ...event, remediationId: 'rem_b' });
    assert.equal(slack.topLevel('C0REWIND01').length, 2);
  });

  test('very long alert texts are accepted by the emulator through the Web API as well', async () => {
    await bot().notify({ ...hugeEvent('pr_opened'), remediationId: 'rem_huge' });
    await bot().notify({ ...hugeEvent('failed'), remediationId: 'rem_huge' });
    assert.deepEqual(
      slack.requests.map((r) => [r.method, r.ok, r.error]),
      [
        ['chat.postMessage', true, undefined],
        ['chat.update', true, undefined],
        ['chat.postMessage', true, undefined],
      ],
    );
  });

  test('Slack errors say what Slack said and never carry the token', async () => {
    await assert.rejects(bot({ token: 'xoxb-wrong-SECRET' }).notify(event), (err: Error) => {
      assert.equal(err.message, 'Slack chat.postMessage failed: invalid_auth');
      assert.doesNotMatch(JSON.stringify(err, Object.getOwnPropertyNames(err)), /SECRET|xoxb/);
      return true;
    });
    await assert.rejects(bot({ channel: '#nowhere' }).notify(event), /channel_not_found/);
    assert.equal(threads.map.size, 0, 'nothing recorded for a message that was never posted');
  });
});
