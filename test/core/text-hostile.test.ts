import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildPlan } from '../../src/core/plan.ts';
import { escapeCommitText, escapeMarkdown } from '../../src/core/text.ts';
import type { Alert } from '../../src/core/types.ts';
import { sampleTarget } from '../support/fixtures.ts';

const BIDI = [
  '\u202e',
  '\u202a',
  '\u202b',
  '\u202c',
  '\u202d',
  '\u2066',
  '\u2067',
  '\u2068',
  '\u2069',
  '\u200e',
  '\u200f',
  '\u061c',
];

function plan(labels: Record<string, string>, annotations: Record<string, string> = {}, reasons = ['ok']) {
  const lead: Alert = {
    status: 'firing',
    labels,
    annotations,
    startsAt: '2026-11-26T10:01:00Z',
    endsAt: '',
    fingerprint: 'ab',
    generatorURL: '',
  };
  return buildPlan({
    remediationId: 'rem_1',
    target: sampleTarget('checkout-prod'),
    lead,
    alertCount: 1,
    current: {
      version: { tag: 'v1.2.0' },
      commit: 'a'.repeat(40),
      committedAt: '2026-11-26T09:00:00Z',
      isRollback: false,
    },
    candidate: { to: { tag: 'v1.1.0' }, toCommit: 'b'.repeat(40) },
    decision: { allow: true, mode: 'merge', reasons, labels: [] },
    content: 'x',
  });
}

/** GitHub autolinks in commit messages: @user, @org/team, #1, org/repo#1, GH-1, and closing keywords. */
const AUTOLINK = /@[A-Za-z0-9]|#\d|GH-\d|<[a-z/]/i;

describe('untrusted alert text in the commit message and the PR body', () => {
  test('the commit message (kept on the base branch after a squash) mentions, references and closes nothing', () => {
    const p = plan(
      {
        alertname: 'Ping @everyone and @acme/sre, fixes #1, closes acme/gitops#2, GH-3 <b>x</b>',
        severity: '@octocat',
      },
      {},
      ['reason from policy about #7 and @bob'],
    );
    for (const text of [p.commitMessage, p.mergeBody, p.title]) {
      assert.doesNotMatch(text, AUTOLINK, text);
    }
    // the words survive for a human reader
    assert.match(p.commitMessage, /Ping @\u200beveryone/);
    assert.match(p.commitMessage, /fixes #\u200b1/);
  });

  test('bidi controls never reach the commit message or the PR body', () => {
    const evil = `safe${BIDI.join('')}evil`;
    const p = plan({ alertname: evil, severity: 'critical' }, { summary: evil });
    for (const c of BIDI) {
      assert.ok(!p.commitMessage.includes(c), `U+${c.charCodeAt(0).toString(16)} in the commit message`);
      assert.ok(!p.prBody.includes(c), `U+${c.charCodeAt(0).toString(16)} in the PR body`);
    }
  });

  test('the PR body neutralises bare www. autolinks and named entities such as &commat;', () => {
    const p = plan(
      { alertname: 'A', severity: 'critical' },
      { summary: 'see www.evil.example and &commat;everyone &lt;img&gt;' },
    );
    assert.doesNotMatch(p.prBody, /www\.evil/);
    assert.doesNotMatch(p.prBody, /&commat;/);
    assert.match(p.prBody, /&amp;commat;/, 'shown literally');
    assert.doesNotMatch(p.prBody, /&lt;img/);
  });

  test('the escaping functions are small and pure', () => {
    assert.equal(escapeCommitText('fixes #12 for @a'), 'fixes #\u200b12 for @\u200ba');
    assert.equal(escapeMarkdown('a & b'), 'a &amp; b');
    assert.equal(escapeCommitText('\u202eabc'), 'abc');
  });
});
