import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { clampMrkdwn, renderSlackMessage, renderThreadReply, silenceUrl } from '../../src/notify/blocks.ts';
import type { RemediationEvent } from '../../src/notify/slack.ts';
import { validateBlocks } from '../support/slack-emulator.ts';
import { event, hugeEvent } from './events.ts';

const golden = fileURLToPath(new URL('../fixtures/slack/merged.json', import.meta.url));

describe('Block Kit rendering', () => {
  test('a merged rollback renders as the golden message', () => {
    const actual = `${JSON.stringify(renderSlackMessage(event), null, 2)}\n`;
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(golden, actual);
    assert.equal(actual, readFileSync(golden, 'utf8'));
  });

  test('alert text cannot broadcast, mention, link or format', () => {
    const json = JSON.stringify(renderSlackMessage(hugeEvent()));
    assert.doesNotMatch(json, /<!channel>|<!here>|<@U123>/);
    const alertField = renderSlackMessage(event).blocks[1];
    assert.match(
      JSON.stringify(alertField),
      /HighErrorRate &lt;!channel&gt; \u200b\*\u200bnow\u200b\*\u200b/,
    );
  });

  test('huge alerts stay within every Block Kit limit', () => {
    for (const kind of ['failed', 'denied', 'merged', 'pr_opened', 'closed'] as const) {
      const m = renderSlackMessage(hugeEvent(kind));
      assert.deepEqual(validateBlocks(m.blocks), { errors: [], tooLong: false }, kind);
      assert.ok(m.text.length <= 3000);
      assert.deepEqual(validateBlocks(renderThreadReply(hugeEvent(kind)).blocks), {
        errors: [],
        tooLong: false,
      });
    }
  });

  test('a kind this renderer does not know still renders (other modules add kinds)', () => {
    const m = renderSlackMessage({ ...event, kind: 'auto_merge_refused' as RemediationEvent['kind'] });
    assert.match(JSON.stringify(m.blocks[0]), /:information_source: Rollback auto merge refused/);
    assert.deepEqual(validateBlocks(m.blocks).errors, []);
  });

  test('links: only http(s); the silence link matches the alert labels exactly', () => {
    const m = renderSlackMessage({
      ...event,
      alert: {
        ...event.alert!,
        generatorURL: 'javascript:alert(1)',
        labels: { alertname: 'A"b\\c', env: 'prod' },
      },
    });
    const urls = JSON.stringify(m.blocks.at(-1));
    assert.doesNotMatch(urls, /javascript/);
    assert.equal(
      silenceUrl('http://am.example.com/', { alertname: 'A"b\\c', 'bad-label': 'x' }),
      `http://am.example.com/#/silences/new?filter=${encodeURIComponent('{alertname="A\\"b\\\\c"}')}`,
    );
    assert.equal(silenceUrl('ftp://am.example.com', { alertname: 'A' }), null);
  });

  test('a cut never leaves half an entity or a lone formatting mark', () => {
    assert.equal(clampMrkdwn('abc &amp; def', 7), 'abc …');
    assert.equal(clampMrkdwn('abc \u200b*\u200b def', 7), 'abc …');
    assert.equal(clampMrkdwn('short', 10), 'short');
  });
});
