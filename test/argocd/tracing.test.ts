import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createArgoCdClient } from '../../src/argocd/client.ts';
import { startTracing, withSpan, type Tracing } from '../../src/observability/tracing.ts';
import { startArgoCdEmulator, type ArgoCdEmulator } from '../support/argocd-emulator/index.ts';
import { startGitHubEmulator, type GitHubEmulator } from '../support/github-emulator.ts';
import { seedSampleRepo } from '../support/gitops-sample.ts';

interface OtlpSpan {
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Array<{ key: string; value: { stringValue?: string } }>;
  status?: { code?: number; message?: string };
}

const TOKEN = 'argocd-span-test-token';

describe('Argo CD client calls are client spans of the job that makes them', () => {
  const spans: OtlpSpan[] = [];
  const receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const doc = JSON.parse(body) as {
        resourceSpans: Array<{ scopeSpans: Array<{ spans: OtlpSpan[] }> }>;
      };
      for (const rs of doc.resourceSpans) for (const ss of rs.scopeSpans) spans.push(...ss.spans);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  let tracing: Tracing;
  let gh: GitHubEmulator;
  let argo: ArgoCdEmulator;

  before(async () => {
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    tracing = await startTracing({ OTEL_EXPORTER_OTLP_ENDPOINT: url });
    gh = await startGitHubEmulator();
    seedSampleRepo(gh, new Date('2026-11-26T00:10:00Z'));
    argo = await startArgoCdEmulator({ github: gh, token: TOKEN });
    argo.addApp({
      name: 'checkout',
      namespace: 'team-a',
      repo: { owner: 'acme', name: 'gitops' },
      branch: 'main',
      path: 'apps/checkout',
      automated: false,
    });
  });
  after(async () => {
    await tracing.shutdown();
    await Promise.all([argo.close(), gh.close()]);
    await new Promise<void>((r) => receiver.close(() => r()));
  });

  test('GET and sync spans named by route, under the caller, failures marked, no token', async () => {
    const client = createArgoCdClient({ url: argo.url, token: TOKEN });
    const ref = { app: 'checkout', appNamespace: 'team-a' };
    await withSpan('remediations process verify', {}, async () => {
      await client.getApplication(ref, { refresh: 'normal' });
      await client.sync(ref, {});
      await assert.rejects(client.getApplication({ app: 'nope' }));
    });
    await tracing.flush();

    const parent = spans.find((s) => s.name === 'remediations process verify');
    assert.ok(parent, spans.map((s) => s.name).join(', '));
    const argocd = spans.filter((s) => s.name.startsWith('argocd '));
    assert.deepEqual(
      argocd.map((s) => s.name),
      [
        'argocd GET /api/v1/applications/{name}',
        'argocd POST /api/v1/applications/{name}/sync',
        'argocd GET /api/v1/applications/{name}',
      ],
    );
    for (const s of argocd) {
      assert.equal(s.kind, 3, 'SPAN_KIND_CLIENT');
      assert.equal(s.parentSpanId, parent.spanId);
    }
    const attr = (s: OtlpSpan | undefined, key: string) =>
      s?.attributes.find((a) => a.key === key)?.value.stringValue;
    assert.equal(attr(argocd[0], 'argocd.app.name'), 'checkout');
    assert.equal(attr(argocd[0], 'argocd.app.namespace'), 'team-a');
    assert.equal(argocd[2]?.status?.code, 2, 'the 404 marks its span as an error');
    assert.doesNotMatch(JSON.stringify(spans), new RegExp(TOKEN), 'no token in a span');
  });
});
