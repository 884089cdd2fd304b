import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { loggerOptions, type Logger } from '../../src/observability/logger.ts';
import { startTracing, tracesEndpoint, type Tracing } from '../../src/observability/tracing.ts';
import { post } from '../support/app.ts';
import { sampleJson } from '../support/fixtures.ts';
import { startGitHubEmulator, type GitHubEmulator } from '../support/github-emulator.ts';
import { seedSampleRepo } from '../support/gitops-sample.ts';
import { startSlackEmulator, type SlackEmulator } from '../support/slack-emulator.ts';
import { startStack } from '../support/stack.ts';

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Array<{ key: string; value: Record<string, unknown> }>;
}

/** An OTLP/HTTP receiver on loopback: the JSON encoding the exporter sends by default. */
async function startReceiver() {
  const spans: OtlpSpan[] = [];
  const paths: string[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      paths.push(`${req.method} ${req.url} ${req.headers['content-type']}`);
      const doc = JSON.parse(body) as {
        resourceSpans: Array<{ scopeSpans: Array<{ spans: OtlpSpan[] }> }>;
      };
      for (const rs of doc.resourceSpans) for (const ss of rs.scopeSpans) spans.push(...ss.spans);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans,
    paths,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

const RELEASED = new Date('2026-11-26T00:10:00Z');
const clock = { now: () => new Date('2026-11-26T00:40:00Z') };
const SPAN_KIND = { INTERNAL: 1, SERVER: 2, CLIENT: 3, PRODUCER: 4, CONSUMER: 5 };

describe('traces: one per remediation, webhook → queue → worker → GitHub and Slack', () => {
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let tracing: Tracing;
  let gh: GitHubEmulator;
  let slack: SlackEmulator;
  const lines: Array<Record<string, unknown>> = [];

  before(async () => {
    receiver = await startReceiver();
    tracing = await startTracing({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url });
    gh = await startGitHubEmulator();
    slack = await startSlackEmulator();
  });
  after(async () => {
    await tracing.shutdown();
    await Promise.all([receiver.close(), gh.close(), slack.close()]);
  });

  test('tracing is off without an OTLP endpoint, and off when disabled', async () => {
    assert.equal(tracesEndpoint({}), null);
    assert.equal(
      tracesEndpoint({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318/' }),
      'http://c:4318/v1/traces',
    );
    assert.equal(
      tracesEndpoint({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/x' }),
      'http://c:4318/x',
    );
    assert.equal(
      tracesEndpoint({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c', OTEL_SDK_DISABLED: 'true' }),
      null,
    );
    assert.equal(
      tracesEndpoint({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c', OTEL_TRACES_EXPORTER: 'none' }),
      null,
    );
    assert.equal((await startTracing({})).enabled, false);
  });

  test('a merged rollback is one trace whose spans link up from the webhook to every call', async () => {
    seedSampleRepo(gh, RELEASED);
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of String(chunk).split('\n').filter(Boolean))
          lines.push(JSON.parse(l) as Record<string, unknown>);
        done();
      },
    });
    const logger = pino({ ...loggerOptions('info') }, sink) as unknown as Logger;
    const stack = await startStack({
      githubUrl: gh.url,
      clock,
      logger,
      env: { SLACK_BOT_TOKEN: slack.token },
      extraConfig: `slack:\n  channel: "#rewind"\n  apiUrl: ${slack.apiUrl}`,
      configNotifier: true,
    });
    try {
      const res = await post(stack.app, sampleJson('a-firing-single.json'));
      const id = res.json().remediations[0].id as string;
      assert.equal((await stack.settled(id)).state, 'merged');
      await tracing.flush();
    } finally {
      await stack.stop();
    }
    assert.ok(
      receiver.paths.every((p) => p.startsWith('POST /v1/traces application/json')),
      receiver.paths.join(),
    );

    const byId = new Map(receiver.spans.map((s) => [s.spanId, s]));
    const one = (name: string | RegExp) => {
      const found = receiver.spans.filter((s) =>
        typeof name === 'string' ? s.name === name : name.test(s.name),
      );
      assert.ok(
        found.length > 0,
        `no span ${String(name)} in ${receiver.spans.map((s) => s.name).join(', ')}`,
      );
      return found;
    };
    const [server] = one('POST /v1/alertmanager');
    assert.ok(server);
    assert.equal(server.kind, SPAN_KIND.SERVER);
    assert.equal(server.parentSpanId ?? '', '', 'the webhook request is the root');
    const [publish] = one('remediations publish').filter((s) => s.parentSpanId === server.spanId);
    assert.ok(publish, 'enqueue is a child of the webhook request');
    assert.equal(publish.kind, SPAN_KIND.PRODUCER);
    const [processSpan] = one('remediations process remediate');
    assert.ok(processSpan);
    assert.equal(processSpan.kind, SPAN_KIND.CONSUMER);
    assert.equal(
      processSpan.parentSpanId,
      publish.spanId,
      'the worker continues the trace from the job data',
    );

    const trace = receiver.spans.filter((s) => s.traceId === server.traceId);
    /** the chain of parents from a span up to the root */
    const ancestors = (s: OtlpSpan): string[] => {
      const out: string[] = [];
      for (
        let p = s.parentSpanId ? byId.get(s.parentSpanId) : undefined;
        p;
        p = p.parentSpanId ? byId.get(p.parentSpanId) : undefined
      )
        out.push(p.name);
      return out;
    };
    const github = trace.filter((s) => s.name.startsWith('github '));
    const names = new Set(github.map((s) => s.name));
    for (const n of [
      'github POST /graphql',
      'github GET /repos/{owner}/{repo}/contents/{path}',
      'github PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge',
    ])
      assert.ok(names.has(n), `${n} in ${[...names].join(', ')}`);
    for (const s of github) {
      assert.equal(s.kind, SPAN_KIND.CLIENT);
      assert.deepEqual(ancestors(s).slice(-3), [
        'remediations process remediate',
        'remediations publish',
        'POST /v1/alertmanager',
      ]);
    }
    const [slackSpan] = trace.filter((s) => s.name === 'slack chat.postMessage');
    assert.ok(slackSpan, 'the Slack call is in the same trace');
    assert.equal(slackSpan.parentSpanId, processSpan.spanId);

    const decided = lines.find((l) => l.msg === 'policy decided');
    assert.equal(decided?.trace_id, server.traceId, 'log lines carry the trace id');
    assert.doesNotMatch(
      JSON.stringify(receiver.spans),
      new RegExp(`${slack.token}|test-token`),
      'no secret in a span',
    );
  });
});
