import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { RewindError } from '../../src/core/errors.ts';
import { EVALUATION_FAILED_REASON, createPolicyEngine } from '../../src/policy/engine.ts';
import type { PolicyInput } from '../../src/policy/types.ts';
import {
  DATA_PATH,
  WASM_PATH,
  deepMerge,
  loadCases,
  memoryLogger,
  policyMetrics,
  shippedData,
} from './support.ts';

const FIXTURES = 'test/policy/fixtures';
const { baseInput } = loadCases();
const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A directory with a copy of the shipped policy, so tests can rewrite the files. */
function workDir(): { dir: string; wasm: string; data: string } {
  const dir = mkdtempSync(join(tmpdir(), 'rewind-engine-'));
  dirs.push(dir);
  const wasm = join(dir, 'policy.wasm');
  const data = join(dir, 'data.json');
  copyFileSync(WASM_PATH, wasm);
  copyFileSync(DATA_PATH, data);
  return { dir, wasm, data };
}

async function eventually(check: () => Promise<boolean>, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail(`timed out waiting for ${what}`);
}

const reloads = async (m: ReturnType<typeof policyMetrics>, result: string): Promise<number> =>
  (await m.policyReloads.get()).values.find((v) => v.labels.result === result)?.value ?? 0;

describe('createPolicyEngine: start', () => {
  it('loads the shipped policy, is ready and evaluates', async () => {
    const metrics = policyMetrics();
    const engine = await createPolicyEngine({
      wasmPath: WASM_PATH,
      dataPath: DATA_PATH,
      logger: memoryLogger(),
      metrics,
    });
    assert.equal(engine.isReady(), true);
    const d = await engine.evaluate(baseInput);
    assert.deepEqual(d, {
      allow: true,
      mode: 'merge',
      reasons: ['critical alert on a release younger than 24h'],
      labels: ['env:prod', 'rewind:merge'],
    });
    assert.equal(await reloads(metrics, 'success'), 1);
    const hist = (await metrics.policyEvaluationSeconds.get()).values.find(
      (v) => v.metricName === 'rewind_policy_evaluation_seconds_count',
    );
    assert.equal(hist?.value, 1);
    assert.match(engine.loaded().wasmSha256, /^[0-9a-f]{64}$/);
    await engine.close();
  });

  for (const [name, setup] of [
    ['a missing wasm file', (w: ReturnType<typeof workDir>) => rmSync(w.wasm)],
    ['a corrupt wasm file', (w: ReturnType<typeof workDir>) => writeFileSync(w.wasm, 'not wasm')],
    ['a missing data file', (w: ReturnType<typeof workDir>) => rmSync(w.data)],
    ['a data file that is not JSON', (w: ReturnType<typeof workDir>) => writeFileSync(w.data, '{"rewind": ')],
    ['a data file that is not an object', (w: ReturnType<typeof workDir>) => writeFileSync(w.data, '[]')],
    [
      'a wasm without the rewind/rollback/decision entrypoint',
      (w: ReturnType<typeof workDir>) => copyFileSync(join(FIXTURES, 'other.wasm'), w.wasm),
    ],
    [
      'a wasm calling a builtin no host provides (it would fail every evaluation)',
      (w: ReturnType<typeof workDir>) => copyFileSync(join(FIXTURES, 'unsupported.wasm'), w.wasm),
    ],
  ] as const) {
    it(`throws policy_unavailable for ${name}`, async () => {
      const w = workDir();
      setup(w);
      const metrics = policyMetrics();
      const logger = memoryLogger();
      await assert.rejects(
        createPolicyEngine({ wasmPath: w.wasm, dataPath: w.data, logger, metrics }),
        (err: unknown) => err instanceof RewindError && err.code === 'policy_unavailable' && !err.retryable,
      );
      assert.equal(await reloads(metrics, 'failure'), 1);
      assert.ok(logger.entries.some((e) => e.level === 'error'));
    });
  }
});

describe('createPolicyEngine: output validation', () => {
  const echo = async () => {
    const logger = memoryLogger();
    const engine = await createPolicyEngine({
      wasmPath: join(FIXTURES, 'echo.wasm'),
      dataPath: DATA_PATH,
      logger,
    });
    return {
      logger,
      run: (decision: unknown) => engine.evaluate({ ...baseInput, decision } as unknown as PolicyInput),
    };
  };
  const invalid = { allow: false, mode: 'pull_request', reasons: ['invalid policy output'], labels: [] };

  it('passes a well-formed decision through, dropping unknown fields', async () => {
    const { run } = await echo();
    assert.deepEqual(await run({ allow: true, mode: 'merge', reasons: ['r'], labels: ['l'], extra: 1 }), {
      allow: true,
      mode: 'merge',
      reasons: ['r'],
      labels: ['l'],
    });
  });

  for (const [name, output] of [
    ['an undefined decision', undefined],
    ['allow as a string', { allow: 'true', mode: 'merge', reasons: [], labels: [] }],
    ['an unknown mode', { allow: true, mode: 'yolo', reasons: [], labels: [] }],
    ['a missing labels field', { allow: true, mode: 'merge', reasons: [] }],
    ['a reason that is not a string', { allow: true, mode: 'merge', reasons: [1], labels: [] }],
    ['a decision that is not an object', true],
  ] as const) {
    it(`denies with "invalid policy output" for ${name}`, async () => {
      const { run, logger } = await echo();
      assert.deepEqual(await run(output), invalid);
      assert.ok(logger.entries.some((e) => e.level === 'error' && e.msg.includes('invalid decision')));
    });
  }

  it('denies when evaluation throws', async () => {
    const engine = await createPolicyEngine({
      wasmPath: join(FIXTURES, 'echo.wasm'),
      dataPath: DATA_PATH,
      logger: memoryLogger(),
    });
    // a cyclic input cannot be serialised for Wasm: the evaluation throws inside the engine
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    const d = await engine.evaluate(cyclic as unknown as PolicyInput);
    assert.deepEqual(d, {
      allow: false,
      mode: 'pull_request',
      reasons: [EVALUATION_FAILED_REASON],
      labels: [],
    });
  });
});

describe('createPolicyEngine: reload', () => {
  it('reloads on change, keeps the old policy when the new one fails, counts both', async () => {
    const w = workDir();
    const metrics = policyMetrics();
    const logger = memoryLogger();
    const engine = await createPolicyEngine({
      wasmPath: w.wasm,
      dataPath: w.data,
      logger,
      metrics,
      watch: true,
      debounceMs: 30,
    });
    assert.equal((await engine.evaluate(baseInput)).allow, true);

    // data change (written in place, as an editor would)
    writeFileSync(
      w.data,
      JSON.stringify(deepMerge(shippedData(), { rewind: { disabledEnvironments: ['prod'] } })),
    );
    await eventually(async () => !(await engine.evaluate(baseInput)).allow, 'the data change to apply');
    assert.equal(await reloads(metrics, 'success'), 2);

    // a broken wasm: logged, counted, the previous policy keeps answering
    writeFileSync(w.wasm, 'garbage');
    await eventually(async () => (await reloads(metrics, 'failure')) === 1, 'the failed reload');
    assert.ok(logger.entries.some((e) => e.level === 'error' && e.msg.includes('keeping')));
    assert.deepEqual((await engine.evaluate(baseInput)).reasons, [
      'rollbacks are disabled in environment prod',
    ]);
    assert.equal(engine.isReady(), true);

    // the wasm replaced by rename (how build-policies.mjs writes it) is picked up
    copyFileSync(WASM_PATH, join(w.dir, '.policy.wasm.tmp'));
    renameSync(join(w.dir, '.policy.wasm.tmp'), w.wasm);
    await eventually(async () => (await reloads(metrics, 'success')) === 3, 'the repaired wasm to load');

    // after close, changes are no longer picked up, evaluations still answer
    await engine.close();
    writeFileSync(w.data, readFileSync(DATA_PATH));
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(await reloads(metrics, 'success'), 3);
    assert.equal((await engine.evaluate(baseInput)).allow, false);
  });

  it('reload() can be called directly and reports the outcome', async () => {
    const w = workDir();
    const engine = await createPolicyEngine({ wasmPath: w.wasm, dataPath: w.data, logger: memoryLogger() });
    assert.equal(await engine.reload(), true);
    writeFileSync(w.data, 'nope');
    assert.equal(await engine.reload(), false);
    assert.equal((await engine.evaluate(baseInput)).allow, true);
    await engine.close();
  });

  it('a watching engine does not keep the process alive', () => {
    const engineUrl = new URL('../../src/policy/engine.ts', import.meta.url).href;
    const script = `
      const { createPolicyEngine } = await import(${JSON.stringify(engineUrl)});
      const log = { info() {}, warn() {}, error() {} };
      await createPolicyEngine({ wasmPath: ${JSON.stringify(resolve(WASM_PATH))}, dataPath: ${JSON.stringify(resolve(DATA_PATH))}, logger: log, watch: true });
      console.log('loaded');`;
    const res = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(res.signal, null, 'the child had to be killed: something kept it alive');
    assert.equal(res.status, 0, res.stderr);
    assert.equal(res.stdout.trim(), 'loaded');
  });
});
