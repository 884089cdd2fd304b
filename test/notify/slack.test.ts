import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createSlackNotifier, formatSlackMessage, type RemediationEvent } from '../../src/notify/slack.ts';

const event: RemediationEvent = {
  kind: 'merged',
  remediationId: 'rem_abc',
  target: 'checkout-prod',
  environment: 'prod',
  alertName: 'HighErrorRate <!channel> *now*',
  severity: 'critical',
  from: 'v1.2.0',
  to: 'v1.1.0',
  reasons: ['critical alert on a release younger than 24h'],
  prUrl: 'https://github.com/acme/gitops/pull/7',
  error: null,
  dryRun: false,
};

describe('Slack notifier', () => {
  let server: Server;
  let url: string;
  const received: Array<{ body: unknown; headers: IncomingMessage['headers'] }> = [];
  let status = 200;
  before(async () => {
    server = createServer((req, res) => {
      let data = '';
      req.on('data', (c) => (data += c));
      req.on('end', () => {
        received.push({ body: JSON.parse(data), headers: req.headers });
        res.writeHead(status).end(status === 200 ? 'ok' : 'invalid_token');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/services/T000/B000/SECRETPART`;
  });
  after(() => server.close());

  test('posts one mrkdwn message with the rollback, the reasons and the PR link', async () => {
    await createSlackNotifier(url).notify(event);
    assert.equal(received.length, 1);
    const body = received[0]?.body as { text: string; blocks: Array<{ text: { text: string } }> };
    assert.match(body.text, /rolled back \(merged\): \*checkout-prod\* \(prod\) `v1\.2\.0` → `v1\.1\.0`/);
    assert.match(body.text, /Why: critical alert on a release younger than 24h/);
    assert.match(body.text, /<https:\/\/github\.com\/acme\/gitops\/pull\/7\|Pull request>/);
    assert.equal(body.blocks[0]?.text.text, body.text);
  });

  test('alert content cannot broadcast or format: <, >, & and marks are escaped', () => {
    const { text } = formatSlackMessage(event);
    assert.doesNotMatch(text, /<!channel>/);
    assert.match(text, /HighErrorRate &lt;!channel&gt; \u200b\*\u200bnow\u200b\*\u200b/);
  });

  test('a Slack failure is an error that does not leak the webhook URL', async () => {
    status = 403;
    await assert.rejects(createSlackNotifier(url).notify(event), (err: Error) => {
      assert.equal(err.message, 'Slack notification failed (HTTP 403)');
      assert.doesNotMatch(JSON.stringify(err, Object.getOwnPropertyNames(err)), /SECRETPART/);
      return true;
    });
    status = 200;
  });
});
