// Every case of policies/cases.json against the compiled policies/build/policy.wasm,
// through the engine the service uses: a stale or broken build fails here,
// `opa test policies/` runs the same cases against the Rego source.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createPolicyEngine, type ReloadablePolicyEngine } from '../../src/policy/engine.ts';
import { WASM_PATH, deepMerge, loadCases, memoryLogger, shippedData } from './support.ts';

const { baseInput, all } = loadCases();
const dir = mkdtempSync(join(tmpdir(), 'rewind-cases-'));
const engines = new Map<string, Promise<ReloadablePolicyEngine>>();

/** One engine per distinct data override, each on its own data file. */
function engineFor(data: Record<string, unknown> | undefined): Promise<ReloadablePolicyEngine> {
  const merged = deepMerge(shippedData(), { rewind: data ?? {} });
  const key = JSON.stringify(merged);
  let engine = engines.get(key);
  if (engine === undefined) {
    const dataPath = join(dir, `data-${engines.size}.json`);
    writeFileSync(dataPath, key);
    engine = createPolicyEngine({ wasmPath: WASM_PATH, dataPath, logger: memoryLogger() });
    engines.set(key, engine);
  }
  return engine;
}

after(async () => {
  for (const e of engines.values()) await (await e).close();
  rmSync(dir, { recursive: true, force: true });
});

describe('policy cases on the compiled Wasm', () => {
  for (const c of all) {
    it(`${c.id}: ${c.description}`, async () => {
      const engine = await engineFor(c.data);
      const decision = await engine.evaluate(deepMerge(baseInput, c.input));
      const { expect } = c;
      if (expect.allow !== undefined)
        assert.equal(decision.allow, expect.allow, `allow; reasons: ${decision.reasons.join(' | ')}`);
      if (expect.mode !== undefined)
        assert.equal(decision.mode, expect.mode, `mode; reasons: ${decision.reasons.join(' | ')}`);
      for (const r of expect.reasons ?? [])
        assert.ok(
          decision.reasons.includes(r),
          `missing reason "${r}" in ${JSON.stringify(decision.reasons)}`,
        );
      if (expect.onlyReasons === true) assert.deepEqual(decision.reasons, [...(expect.reasons ?? [])].sort());
      if (expect.labels !== undefined) assert.deepEqual(decision.labels, expect.labels);
      assert.deepEqual(decision.reasons, [...decision.reasons].sort(), 'reasons are sorted');
    });
  }
});

describe('cases file and Rego tests stay in step', () => {
  it('every case has a test_<id> in rollback_test.rego, and every such test a case', () => {
    const rego = readFileSync('policies/rollback_test.rego', 'utf8');
    const tests = [...rego.matchAll(/^test_(\w+) if passes\("(\w+)"\)/gm)].map((m) => ({
      rule: m[1] ?? '',
      id: m[2] ?? '',
    }));
    for (const t of tests) assert.equal(t.rule, t.id, 'test_<id> runs the case <id>');
    const tested = new Set(tests.map((t) => t.id));
    const ids = new Set(all.map((c) => c.id));
    assert.deepEqual(
      [...ids].filter((id) => !tested.has(id)),
      [],
      'cases without a Rego test',
    );
    assert.deepEqual(
      [...tested].filter((id) => !ids.has(id)),
      [],
      'Rego tests without a case',
    );
    assert.equal(ids.size, all.length, 'case ids are unique');
  });

  it('covers every deny rule of the policy with at least one denying case', () => {
    const rego = readFileSync('policies/rollback.rego', 'utf8');
    const denyRules = [...rego.matchAll(/^deny contains /gm)].length;
    const denying = all.filter((c) => c.expect.allow === false).length;
    assert.ok(denying >= denyRules, `${denying} denying cases for ${denyRules} deny rules`);
  });
});
