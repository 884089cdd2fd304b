import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ACCEPTS_INCIDENTS,
  TERMINAL_STATES,
  TRANSITIONS,
  next,
  type RemediationState,
} from '../../src/remediation/lifecycle.ts';

const ALL: RemediationState[] = [
  'queued',
  'deciding',
  'noop',
  'denied',
  'planned',
  'pr_opened',
  'auto_merge',
  'merged',
  'closed',
  'failed',
  'verified',
  'unverified',
];

describe('the lifecycle table', () => {
  test('every state is reachable from queued', () => {
    const seen = new Set<RemediationState>(['queued']);
    for (let grew = true; grew;) {
      grew = false;
      for (const t of TRANSITIONS)
        if (t.from.some((s) => seen.has(s)) && !seen.has(t.to)) {
          seen.add(t.to);
          grew = true;
        }
    }
    assert.deepEqual([...seen].sort(), [...ALL].sort());
  });

  test('one row per (state, event): the machine is deterministic', () => {
    const keys = TRANSITIONS.flatMap((t) => t.from.map((s) => `${s}:${t.event}`));
    assert.equal(new Set(keys).size, keys.length);
  });

  test('outcomes that are final never move again, except a failed one an operator retries and a merge the GitOps engine verifies', () => {
    for (const s of ['noop', 'denied', 'planned', 'closed', 'verified', 'unverified'] as const)
      assert.deepEqual(
        TRANSITIONS.filter((t) => t.from.includes(s)).map((t) => t.event),
        [],
        s,
      );
    assert.deepEqual(
      TRANSITIONS.filter((t) => t.from.includes('merged')).map((t) => t.event),
      ['verified', 'unverified'],
      'a merge only learns what Argo CD / Flux say about it',
    );
    assert.equal(next('failed', 'retry')?.to, 'queued');
    assert.equal(next('merged', 'merged'), null, 'merged twice is refused (compare-and-set)');
  });

  test('a PR that GitHub merged is merged whatever rewind thought (lost answer, auto-merge, a human)', () => {
    for (const s of ['deciding', 'pr_opened', 'auto_merge'] as const)
      assert.equal(next(s, 'merged')?.to, 'merged');
    assert.equal(next('queued', 'merged'), null);
  });

  test('every outcome a user must hear about notifies, counts and frees the target', () => {
    for (const event of ['denied', 'pr_opened', 'merge_pending', 'merged', 'pr_closed', 'gave_up'] as const) {
      const t = TRANSITIONS.find((r) => r.event === event);
      assert.ok(t);
      for (const e of ['notify', 'count', 'release_target'] as const)
        assert.ok(t.effects.includes(e), `${event}: ${e}`);
    }
  });

  test('only queued and deciding take new incidents; the rest are terminal for the job', () => {
    assert.deepEqual([...ACCEPTS_INCIDENTS].sort(), ['deciding', 'queued']);
    for (const s of ALL) assert.equal(TERMINAL_STATES.has(s), !ACCEPTS_INCIDENTS.includes(s), s);
  });
});
