import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildPlan, headBranch } from '../../src/core/plan.ts';
import { analyzeHistory, parseTrailers } from '../../src/core/rollback.ts';
import { parseVersion } from '../../src/core/version.ts';
import { escapeMarkdown, oneLine, refComponent } from '../../src/core/text.ts';
import type { Alert, FileCommit } from '../../src/core/types.ts';
import { sampleTarget } from '../support/fixtures.ts';

const target = sampleTarget('checkout-prod');
const alert = (labels: Record<string, string>, annotations: Record<string, string> = {}): Alert => ({
  status: 'firing',
  labels,
  annotations,
  startsAt: '2026-11-26T10:01:00Z',
  endsAt: '0001-01-01T00:00:00Z',
  fingerprint: 'abcdef0123456789',
  generatorURL: '',
});

function plan(lead: Alert) {
  return buildPlan({
    remediationId: 'rem_1',
    target,
    lead,
    alertCount: 1,
    current: {
      version: { tag: 'v1.2.0' },
      commit: 'a'.repeat(40),
      committedAt: '2026-11-26T09:00:00Z',
      isRollback: false,
    },
    candidate: { to: { tag: 'v1.1.0' }, toCommit: '3f2a1bc'.padEnd(40, '0') },
    decision: {
      allow: true,
      mode: 'merge',
      reasons: ['critical alert on a release younger than 24h'],
      labels: ['rewind:merge'],
    },
    content: 'x',
  });
}

describe('plan', () => {
  test('the PR body ends with the trailers; alert text cannot add one to it or to the commit', () => {
    const forged = 'x\n\nRewind-Rolled-Back-From: v0.9.0\n\nRewind-Remediation: forged';
    const p = plan(alert({ alertname: forged, severity: forged }, { summary: forged, description: forged }));
    for (const text of [p.prBody, p.commitMessage, `${p.mergeTitle}\n\n${p.mergeBody}`]) {
      const t = parseTrailers(text);
      assert.deepEqual(t['Rewind-Rolled-Back-From'], ['v1.2.0']);
      assert.deepEqual(t['Rewind-Remediation'], ['rem_1']);
    }
    // the body's last paragraph is exactly the trailer block
    assert.match(p.prBody, /\n\nRewind-Remediation: rem_1\nRewind-Rolled-Back-From: v1\.2\.0\n?$/);
  });

  test('the commit message is the SPEC format', () => {
    const p = plan(alert({ alertname: 'HighErrorRate', severity: 'critical' }));
    assert.equal(
      p.commitMessage,
      `fix(prod): roll back checkout-prod to v1.1.0

- Alert: HighErrorRate (critical) firing since 2026-11-26T10:01:00Z
- From: registry.example.com/acme/checkout:v1.2.0
- To: registry.example.com/acme/checkout:v1.1.0 (deployed in 3f2a1bc)
- Policy: merge (critical alert on a release younger than 24h)

Rewind-Remediation: rem_1
Rewind-Rolled-Back-From: v1.2.0
`,
    );
    assert.equal(p.headBranch, 'rewind/checkout-prod/v1.1.0');
    assert.deepEqual(p.labels, ['rewind', 'rewind:merge']);
  });

  test('alert labels cannot forge trailers, mentions or links', () => {
    const evil = alert(
      { alertname: 'X\n\nRewind-Rolled-Back-From: v1.1.0\n', severity: 'critical\r\nRewind-Remediation: x' },
      { summary: '@octocat see [here](https://evil.example) <img src=x>' },
    );
    const p = plan(evil);
    const trailers = parseTrailers(p.commitMessage);
    assert.deepEqual(trailers['Rewind-Rolled-Back-From'], ['v1.2.0']);
    assert.deepEqual(trailers['Rewind-Remediation'], ['rem_1']);
    assert.doesNotMatch(p.prBody, /@octocat/);
    assert.doesNotMatch(p.prBody, /\]\(https/);
    assert.doesNotMatch(p.prBody, /<img/);
  });

  test('digest-only versions make short, valid branch names', () => {
    const digest = `sha256:${'0123456789ab'.repeat(5)}abcd`;
    assert.equal(headBranch(target, { digest }), 'rewind/checkout-prod/sha256-0123456789ab');
    assert.equal(headBranch(target, { tag: 'v1.0.0' }), 'rewind/checkout-prod/v1.0.0');
    assert.equal(refComponent('..bad~tag^:x.lock'), 'bad-tag--x-lock');
  });

  test('a tag cut to 100 characters still ends like a valid ref component (no "." or ".lock")', () => {
    // Docker tags may be 128 characters long
    assert.equal(refComponent(`${'a'.repeat(99)}.x`), 'a'.repeat(99));
    assert.equal(refComponent(`${'a'.repeat(95)}.lock.b`), `${'a'.repeat(95)}-lock`);
  });

  test('escaping helpers', () => {
    assert.equal(oneLine('a\n\tb\u2028c'), 'a b c');
    assert.equal(oneLine('x'.repeat(10), 5), 'xxxx…');
    assert.equal(escapeMarkdown('*bold* [l](u) `c` a|b'), '\\*bold\\* \\[l\\]\\(u\\) \\`c\\` a\\|b');
  });
});

describe('trailers survive a squash merge made by a human (defect 5 of issue 7)', () => {
  const versionOf = (text: string) => parseVersion(/^app=(.+)$/m.exec(text)?.[1] ?? '');
  async function* commits(squashMessage: string): AsyncGenerator<FileCommit> {
    // newest first: the rollback to v1.1.0 squash-merged by a human, the bad v1.2.0, the good v1.1.0
    yield { sha: 'c1', message: squashMessage, committedAt: '2026-11-26T11:00:00Z', content: 'app=v1.1.0\n' };
    yield {
      sha: 'c2',
      message: 'release v1.2.0',
      committedAt: '2026-11-26T10:00:00Z',
      content: 'app=v1.2.0\n',
    };
    yield {
      sha: 'c3',
      message: 'release v1.1.0',
      committedAt: '2026-11-26T09:00:00Z',
      content: 'app=v1.1.0\n',
    };
  }

  for (const [name, message] of [
    // GitHub's "Pull request title and description" squash default
    ['title and description', (p: ReturnType<typeof plan>) => `${p.title} (#7)\n\n${p.prBody}`],
    // ... with the co-author trailer block GitHub appends after it
    [
      'title and description plus Co-authored-by',
      (p: ReturnType<typeof plan>) =>
        `${p.title} (#7)\n\n${p.prBody}\n\nCo-authored-by: Jane <jane@example.com>`,
    ],
  ] as const) {
    test(`the PR body carries the trailers, so a "${name}" squash still marks the rollback`, async () => {
      const p = plan(alert({ alertname: 'HighErrorRate', severity: 'critical' }));
      const res = await analyzeHistory(commits(message(p)), versionOf, { tag: 'v1.1.0' });
      assert.equal(res.current.isRollback, true, 'the squash commit is recognised as a rollback');
      assert.equal(res.candidate, null, 'v1.2.0 is never a candidate again');
    });
  }
});
