import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { startGitHubEmulator, type GitHubEmulator } from '../support/github-emulator.ts';
import { sampleJson } from '../support/fixtures.ts';
import { post, TOKEN } from '../support/app.ts';
import { startStack } from '../support/stack.ts';

const FIX = join(import.meta.dirname, '..', 'fixtures', 'hold-repo');
const values = (tag: string) => readFileSync(join(FIX, 'values.yaml.tmpl'), 'utf8').replace('TAG', tag);
const UPDATER = readFileSync(join(FIX, 'image-updater.yaml'), 'utf8');
const VALUES = 'apps/checkout/values.yaml';
const HOLD = 'apps/checkout/image-updater.yaml';
const clock = { now: () => new Date('2026-11-26T01:00:00Z') };
const TARGET = `  - name: checkout-prod
    match: { service: checkout, env: test }
    repo: acme/gitops
    branch: main
    path: ${VALUES}
    image: registry.example.com/acme/checkout
    environment: prod
    hold: { imageUpdater: ${HOLD} }
`;

function seed(gh: GitHubEmulator) {
  return gh.seedRepo({
    owner: 'acme',
    repo: 'gitops',
    defaultBranch: 'main',
    commits: [
      {
        message: 'deploy v1.1.0',
        files: { [VALUES]: values('v1.1.0'), [HOLD]: UPDATER },
        date: '2026-11-25T00:00:00Z',
      },
      {
        message: 'chore: release v1.2.0 (image automation)',
        files: { [VALUES]: values('v1.2.0') },
        date: '2026-11-26T00:10:00Z',
      },
    ],
  });
}

/** the sample alert as a new incident starting at `startsAt` */
function alert(fingerprint: string, startsAt: string) {
  const p = sampleJson('a-firing-single.json');
  for (const a of p.alerts) Object.assign(a, { fingerprint, startsAt });
  return p;
}

const auth = { authorization: `Bearer ${TOKEN}` };

describe('hold: the rollback commit stops the auto-updaters; release lifts it', () => {
  let gh: GitHubEmulator;
  let stack: Awaited<ReturnType<typeof startStack>>;
  let dataFile: string;

  before(async () => {
    gh = await startGitHubEmulator();
    const data = JSON.parse(readFileSync('policies/data.json', 'utf8')) as {
      rewind: Record<string, unknown>;
    };
    data.rewind.maxRollbacksPerHour = 5; // two rollbacks of one target in this test
    dataFile = join(mkdtempSync(join(tmpdir(), 'rewind-hold-')), 'data.json');
    writeFileSync(dataFile, JSON.stringify(data));
  });
  afterEach(async () => {
    await stack?.stop();
    gh.assertNoUnknownRequests();
  });
  after(async () => gh.close());

  test('marker held and tag ignored in one commit; visible in GET /v1/targets; release restores both byte for byte; a second rollback keeps the hold', async () => {
    seed(gh);
    stack = await startStack({ githubUrl: gh.url, clock, targets: TARGET, policyData: dataFile });
    const res = await post(stack.app, alert('aaaa000000000001', '2026-11-26T00:32:08Z'));
    const id = res.json().remediations[0].id as string;
    const rec = await stack.settled(id);
    assert.equal(rec.state, 'merged', `${rec.reason ?? ''} ${rec.error ?? ''}`);

    const [head] = gh.listCommits('acme', 'gitops', 'main');
    assert.deepEqual(head?.changedPaths.sort(), [HOLD, VALUES].sort(), 'one commit, both files');
    const held = gh.getFile('acme', 'gitops', 'main', VALUES) ?? '';
    assert.match(
      held,
      /^ {2}tag: v1\.1\.0 # rewind-hold \{"imagepolicy-held": "flux-system:checkout:tag"\}$/m,
    );
    assert.doesNotMatch(held, /"\$imagepolicy"/);
    const ignore = gh.getFile('acme', 'gitops', 'main', HOLD) ?? '';
    assert.equal(
      ignore,
      UPDATER.replace(
        '              - latest\n',
        '              - latest\n              - v1.2.0 # rewind-hold\n',
      ),
    );
    const pr = gh.pulls('acme', 'gitops')[0];
    assert.match(
      pr?.body ?? '',
      /\*\*Hold\*\*.*\n.*\$imagepolicy.*\n.*v1\.2\.0.*ignore list.*\n.*rewind release checkout-prod/,
    );

    const view = await stack.app.inject({ method: 'GET', url: '/v1/targets', headers: auth });
    assert.equal(view.statusCode, 200);
    const [t] = view.json().targets;
    assert.equal(t.currentVersion, 'v1.1.0');
    assert.deepEqual(t.hold, { markers: 1, ignoredTags: ['v1.2.0'], active: true });
    assert.deepEqual([t.lastRemediation.id, t.lastRemediation.state], [id, 'merged']);

    // a human ships v1.3.0 by hand; it fails too: the second rollback keeps the hold and adds to it
    gh.commit({
      owner: 'acme',
      repo: 'gitops',
      branch: 'main',
      message: 'release v1.3.0',
      files: { [VALUES]: held.replace('v1.1.0', 'v1.3.0') },
      date: '2026-11-26T00:40:00Z',
    });
    const second = await post(stack.app, alert('bbbb000000000002', '2026-11-26T00:45:00Z'));
    const id2 = second.json().remediations[0].id as string;
    const rec2 = await stack.settled(id2);
    assert.equal(rec2.state, 'merged', `${rec2.reason ?? ''} ${rec2.error ?? ''}`);
    assert.deepEqual([rec2.change?.from, rec2.change?.to], ['v1.3.0', 'v1.1.0']);
    assert.equal(gh.getFile('acme', 'gitops', 'main', VALUES), held, 'the marker is still held');
    assert.match(
      gh.getFile('acme', 'gitops', 'main', HOLD) ?? '',
      /- v1\.2\.0 # rewind-hold\n\s+- v1\.3\.0 # rewind-hold\n/,
    );

    const rel = await stack.app.inject({
      method: 'POST',
      url: '/v1/targets/checkout-prod/release',
      headers: auth,
    });
    assert.equal(rel.statusCode, 201, rel.body);
    const body = rel.json();
    assert.deepEqual(body.released, { markers: 1, tags: ['v1.2.0', 'v1.3.0'] });
    assert.equal(body.pullRequest.branch, 'rewind-release/checkout-prod');
    // the release branch has the original marker and ignore list back, byte for byte
    assert.equal(gh.getFile('acme', 'gitops', body.pullRequest.branch, VALUES), values('v1.1.0'));
    assert.equal(gh.getFile('acme', 'gitops', body.pullRequest.branch, HOLD), UPDATER);
    const relPr = gh.pulls('acme', 'gitops').find((p) => p.headRef === body.pullRequest.branch);
    assert.equal(relPr?.merged, false, 'lifting a hold is for a human to merge');
    assert.ok(relPr?.labels.includes('rewind'));
  });

  test('release: 404 for an unknown target, 409 without a hold, 405 for another method, 401 without the token', async () => {
    seed(gh);
    stack = await startStack({ githubUrl: gh.url, clock, targets: TARGET, policyData: dataFile });
    const go = (method: 'GET' | 'POST', url: string, headers: Record<string, string> = auth) =>
      stack.app.inject({ method, url, headers });
    assert.equal((await go('POST', '/v1/targets/nope/release')).statusCode, 404);
    const none = await go('POST', '/v1/targets/checkout-prod/release');
    assert.equal(none.statusCode, 409);
    assert.equal(none.json().error, 'no_hold');
    const wrong = await go('GET', '/v1/targets/checkout-prod/release');
    assert.equal(wrong.statusCode, 405);
    assert.equal(wrong.headers.allow, 'POST');
    assert.equal((await go('POST', '/v1/targets', {})).statusCode, 401);
    assert.equal((await go('POST', '/v1/targets')).statusCode, 405);
    const docs = (await go('GET', '/docs/json', {})).json() as {
      paths: Record<string, Record<string, { responses: object }>>;
    };
    assert.deepEqual(Object.keys(docs.paths['/v1/targets/{name}/release']?.post?.responses ?? {}).sort(), [
      '201',
      '400',
      '401',
      '404',
      '409',
      '502',
      '503',
    ]);
  });
});
