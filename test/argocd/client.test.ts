import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createArgoCdClient } from '../../src/argocd/client.ts';
import { RewindError } from '../../src/core/errors.ts';
import { buildConfig } from '../../src/config/config.ts';

const TOKEN = 'secret-argocd-token';

function client(status: number, body: unknown, seen: { url?: string; init?: RequestInit } = {}) {
  return createArgoCdClient({
    url: 'https://argocd.example.com',
    token: TOKEN,
    fetch: async (url, init) => {
      seen.url = String(url);
      if (init) seen.init = init;
      return new Response(JSON.stringify(body), { status });
    },
  });
}

async function failure(p: Promise<unknown>): Promise<RewindError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(err instanceof RewindError, String(err));
  assert.doesNotMatch(err.message, new RegExp(TOKEN));
  return err;
}

describe('Argo CD client: requests and error classes', () => {
  test('refresh is GET ?refresh=normal with appNamespace; sync posts the revision', async () => {
    const seen: { url?: string; init?: RequestInit } = {};
    const app = { metadata: { name: 'a' }, spec: {} };
    await client(200, app, seen).getApplication({ app: 'a', appNamespace: 'team-a' }, { refresh: 'normal' });
    assert.equal(
      seen.url,
      'https://argocd.example.com/api/v1/applications/a?refresh=normal&appNamespace=team-a',
    );
    assert.equal((seen.init?.headers as Record<string, string>).authorization, `Bearer ${TOKEN}`);
    await client(200, app, seen).sync({ app: 'a' }, { revision: 'abc' });
    assert.equal(seen.url, 'https://argocd.example.com/api/v1/applications/a/sync');
    assert.equal(seen.init?.method, 'POST');
    assert.deepEqual(JSON.parse(String(seen.init?.body)), { name: 'a', revision: 'abc', prune: false });
  });
  test('401, 403, 404 fail at once with the reason', async () => {
    for (const [status, code] of [
      [401, 'argocd_auth'],
      [403, 'argocd_auth'],
      [404, 'argocd_not_found'],
    ] as const) {
      const err = await failure(
        client(status, { error: 'x', code: 7, message: 'permission denied' }).getApplication({ app: 'a' }),
      );
      assert.equal(err.code, code);
      assert.equal(err.retryable, false);
      assert.match(err.message, new RegExp(`HTTP ${status}`));
    }
  });
  test('5xx and network errors are retryable; "another operation" is busy; auto-sync refusal is not retryable', async () => {
    const e5 = await failure(client(503, { message: 'unavailable' }).getApplication({ app: 'a' }));
    assert.deepEqual([e5.code, e5.retryable], ['argocd_unavailable', true]);
    const busy = await failure(
      client(400, {
        error: 'another operation is already in progress',
        code: 9,
        message: 'another operation is already in progress',
      }).sync({ app: 'a' }, {}),
    );
    assert.deepEqual([busy.code, busy.retryable], ['argocd_busy', true]);
    const refused = await failure(
      client(400, { code: 9, message: 'Cannot sync to abc: auto-sync currently set to main' }).sync(
        { app: 'a' },
        { revision: 'abc' },
      ),
    );
    assert.deepEqual([refused.code, refused.retryable], ['argocd_refused', false]);
    const net = await failure(
      createArgoCdClient({
        url: 'https://argocd.example.com',
        token: TOKEN,
        fetch: async () => {
          throw new TypeError('fetch failed');
        },
      }).getApplication({ app: 'a' }),
    );
    assert.deepEqual([net.code, net.retryable], ['argocd_unavailable', true]);
  });
});

describe('Argo CD config', () => {
  const yaml = (extra = '') => `targets:
  - name: checkout-prod
    match: { service: checkout }
    repo: acme/gitops
    branch: main
    path: apps/checkout/kustomization.yaml
    image: registry.example.com/acme/checkout
    environment: prod
    argocd: { app: checkout-prod }
${extra}`;
  test('ARGOCD_SERVER as the argocd CLI takes it (host:port, no scheme) means https', () => {
    const c = buildConfig(yaml(), 'f.yaml', {
      ARGOCD_SERVER: 'argocd.example.com:8443',
      ARGOCD_AUTH_TOKEN: 't',
    });
    assert.equal(c.argocd.url, 'https://argocd.example.com:8443');
    const d = buildConfig(`argocd: { url: "https://cd.example.com/" }\n${yaml()}`, 'f.yaml', {
      ARGOCD_AUTH_TOKEN: 't',
    });
    assert.equal(d.argocd.url, 'https://cd.example.com');
  });
  test('a target on Argo CD without a server or token is a config error naming what is missing', () => {
    assert.throws(
      () => buildConfig(yaml(), 'f.yaml', { ARGOCD_AUTH_TOKEN: 't' }),
      /f\.yaml: argocd\.url: .*ARGOCD_SERVER/,
    );
    assert.throws(
      () => buildConfig(yaml(), 'f.yaml', { ARGOCD_SERVER: 'cd:443' }),
      /ARGOCD_AUTH_TOKEN is not set/,
    );
    assert.throws(
      () =>
        buildConfig(yaml('    verify: { timeout: ten }\n'), 'f.yaml', {
          ARGOCD_SERVER: 'cd',
          ARGOCD_AUTH_TOKEN: 't',
        }),
      /targets\[0\]\.verify\.timeout/,
    );
  });
});
