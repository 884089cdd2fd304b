import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { compileMatcher, MAX_REGEX_INPUT } from '../../src/core/targets.ts';

describe('target matching with hostile input', () => {
  test('a catastrophic "~(a+)+b" regex against a long label returns promptly (linear-time engine)', () => {
    // Run in a child so a backtracking engine (exponential in the label length) is killed at the
    // deadline instead of hanging the test run; the bound is generous, the old engine needs hours.
    const script = `
      import { compileMatcher } from './src/core/targets.ts';
      const m = compileMatcher({ service: '~(a+)+b' });
      const t0 = performance.now();
      const r = [m({ service: 'a'.repeat(48) + 'c' }), m({ service: 'aaab' }), m({ service: 'a'.repeat(4000) })];
      process.stdout.write(JSON.stringify({ r, ms: performance.now() - t0 }));
    `;
    const res = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      timeout: 20_000,
      encoding: 'utf8',
    });
    assert.equal(res.signal, null, 'the match did not finish within 20 s: the event loop was blocked');
    const out = JSON.parse(res.stdout) as { r: boolean[]; ms: number };
    assert.deepEqual(out.r, [false, true, false]);
    assert.ok(out.ms < 5_000, `three matches took ${out.ms} ms`);
  });

  test('a regex never runs on a value over the cap: such a label does not match', () => {
    const m = compileMatcher({ service: '~a+' });
    assert.equal(m({ service: 'a'.repeat(MAX_REGEX_INPUT) }), true);
    assert.equal(m({ service: 'a'.repeat(MAX_REGEX_INPUT + 1) }), false);
  });

  test('matcher label names such as constructor/toString never read Object.prototype', () => {
    for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      const exact = compileMatcher({ [name]: 'x' });
      const regex = compileMatcher({ [name]: '~.*' });
      assert.equal(exact({ service: 'checkout' }), false, `${name}: absent label must not match`);
      assert.equal(regex({ service: 'checkout' }), false, `${name}: absent label must not match a regex`);
      const labels = Object.create(null) as Record<string, string>;
      labels[name] = 'x';
      assert.equal(exact(labels), true, `${name}: a real label of that name matches`);
      assert.equal(regex(labels), true);
    }
  });
});
