// The compiled Wasm (through the service's engine, with rewind's own
// time.parse_rfc3339_ns) and `opa eval` on the Rego source must agree on every
// decision: 500 generated inputs over several data variants, evaluated by opa
// in one invocation. Skipped when no opa binary is around.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { createPolicyEngine } from '../../src/policy/engine.ts';
import type { Decision, PolicyAlert, PolicyInput } from '../../src/policy/types.ts';
import { REGO_PATH, WASM_PATH, deepMerge, findOpa, memoryLogger, shippedData } from './support.ts';

const RUNS = 500;
const SEED = 1126;
const opa = findOpa();
const dir = mkdtempSync(join(tmpdir(), 'rewind-diff-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const SEC = 1_000_000_000n;
const COMMITTED = 1795687200n * SEC; // 2026-11-26T10:00:00Z
const NOW = COMMITTED + 3600n * SEC;
const D1 = `sha256:${'ab'.repeat(32)}`;
const D2 = `sha256:${'cd'.repeat(32)}`;

/** An instant as RFC 3339 with 0-9 fraction digits (truncating the instant to fit) and a given offset. */
function rfc3339(ns: bigint, digits: number, offsetMin: number | 'Z'): string {
  const secs = ns / SEC;
  const unit = 10n ** BigInt(9 - digits);
  const frac = ((ns % SEC) / unit).toString().padStart(digits, '0');
  const off = offsetMin === 'Z' ? 0 : offsetMin;
  const local = new Date(Number(secs) * 1000 + off * 60_000).toISOString().slice(0, 19);
  const sign = off < 0 ? '-' : '+';
  const abs = Math.abs(off);
  const zone =
    offsetMin === 'Z'
      ? 'Z'
      : `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
  return `${local}${digits > 0 ? `.${frac}` : ''}${zone}`;
}

const delta = fc.oneof(
  fc.constantFrom(0n, 1n, -1n, SEC, -SEC, 500_000_000n, -500_000_000n, 3600n * SEC, -3600n * SEC),
  fc.bigInt({ min: -7200n * SEC, max: 7200n * SEC }),
);
const timestamp = (around: bigint): fc.Arbitrary<string> =>
  fc.oneof(
    {
      weight: 20,
      arbitrary: fc
        .tuple(
          delta,
          fc.integer({ min: 0, max: 9 }),
          fc.constantFrom<number | 'Z'>('Z', 'Z', 0, 60, -300, 330),
        )
        .map(([d, n, o]) => rfc3339(around + d, n, o)),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        'yesterday',
        '2026-11-26 10:00:00Z',
        '2026-02-30T10:00:00Z',
        '2026-11-26T10:00:00,25Z',
        '2026-11-26T9:30:00Z',
      ),
    },
  );
const version = fc.constantFrom('v1.2.0', '1.2.0', 'v1.1.0', 'v1.3.0', D1, D2, `v1.2.0@${D1}`);
const versionLabels = fc.oneof(
  { weight: 3, arbitrary: fc.constant({}) },
  {
    weight: 2,
    arbitrary: fc.dictionary(fc.constantFrom('version', 'image_tag', 'app_version'), version, { maxKeys: 2 }),
  },
);
// Weighted towards what allows, so merges, pull requests and denies all occur often.
const severity = fc.oneof(
  { weight: 6, arbitrary: fc.constant('critical') },
  { weight: 3, arbitrary: fc.constant('warning') },
  { weight: 1, arbitrary: fc.constantFrom('info', 'none') },
);
const weighted = <T>(common: T, rare: fc.Arbitrary<T>): fc.Arbitrary<T> =>
  fc.oneof({ weight: 4, arbitrary: fc.constant(common) }, { weight: 1, arbitrary: rare });

const policyAlert: fc.Arbitrary<PolicyAlert> = fc
  .record({
    name: fc.constantFrom('HighErrorRate', 'HighLatency', ''),
    severity,
    extra: versionLabels,
    // mostly after the release, sometimes exactly at its commit time (the boundary), sometimes before
    startsAt: fc.oneof(
      { weight: 3, arbitrary: timestamp(COMMITTED + 7200n * SEC) },
      { weight: 1, arbitrary: timestamp(COMMITTED) },
    ),
  })
  .map(({ name, severity: sev, extra, startsAt }) => ({
    name,
    severity: sev,
    labels: { alertname: name, severity: sev, ...extra },
    annotations: { summary: 'generated' },
    startsAt,
    fingerprint: 'f00d',
  }));

const policyInput: fc.Arbitrary<PolicyInput> = fc
  .record({
    alert: policyAlert,
    alerts: weighted<PolicyAlert[]>([], fc.array(policyAlert, { maxLength: 2 })),
    environment: fc.constantFrom('prod', 'staging', 'dev'),
    from: fc.constantFrom('v1.2.0', `v1.2.0@${D1}`, D1, 'v2.0.0-rc.1'),
    to: fc.option(fc.constantFrom('v1.1.0', D2), { freq: 6 }),
    committedAt: timestamp(COMMITTED),
    age: fc.oneof(fc.constantFrom(0, 1799, 1800, 7199, 7200, 86399, 86400, 86401), fc.nat(100_000)),
    fromIsRollback: weighted(false, fc.constant(true)),
    targetsFiring: weighted(1, fc.integer({ min: 0, max: 5 })),
    rollbacksLastHour: weighted(0, fc.integer({ min: 0, max: 3 })),
    openPullRequest: fc.boolean(),
    now: timestamp(NOW),
  })
  .map((g) => ({
    alert: g.alert,
    alerts: g.alerts,
    target: {
      name: 'checkout',
      environment: g.environment,
      repo: 'acme/gitops',
      path: 'k.yaml',
      image: 'reg/checkout',
    },
    change: {
      from: g.from,
      to: g.to,
      fromCommit: 'aaa',
      toCommit: g.to === null ? null : 'bbb',
      fromCommittedAt: g.committedAt,
      fromAgeSeconds: g.age,
      fromIsRollback: g.fromIsRollback,
    },
    incident: { targetsFiring: g.targetsFiring },
    history: {
      rollbacksLastHour: g.rollbacksLastHour,
      rollbacksLastDay: g.rollbacksLastHour,
      lastRollbackAt: null,
      openPullRequest: g.openPullRequest,
    },
    now: g.now,
  }));

const nowText = rfc3339(NOW, 0, 'Z');
const DATA_VARIANTS: Record<string, unknown>[] = [
  {},
  {
    maxRollbacksPerHour: 2,
    maxConcurrentTargets: 1,
    autoMergeMaxAgeHours: 2,
    severities: ['critical', 'warning', 'info'],
  },
  {
    autoMergeSeverities: ['critical', 'warning'],
    disabledEnvironments: ['staging'],
    versionLabels: ['app_version'],
  },
  {
    freezeWindows: [
      { start: nowText, end: rfc3339(NOW + 3600n * SEC, 0, 60), reason: 'release train' },
      {
        start: rfc3339(NOW - 3600n * SEC, 3, 'Z'),
        end: rfc3339(NOW + 1n, 9, 'Z'),
        environments: ['staging'],
      },
    ],
  },
  {
    freezeWindows: [
      { start: rfc3339(NOW - SEC, 0, 'Z'), end: nowText, environments: ['prod', 'dev'], reason: 'ends now' },
      { start: 'soon', end: 'later' },
    ],
  },
  { maxRollbacksPerHour: '1', autoMergeMaxAgeHours: 0.5 },
];

const HELPER = `package rewind_differential

results := [r |
	some item in data.differential.items
	r := data.rewind.rollback.decision with input as item.input
		with data.rewind.severities as item.data.severities
		with data.rewind.autoMergeSeverities as item.data.autoMergeSeverities
		with data.rewind.autoMergeMaxAgeHours as item.data.autoMergeMaxAgeHours
		with data.rewind.maxRollbacksPerHour as item.data.maxRollbacksPerHour
		with data.rewind.maxConcurrentTargets as item.data.maxConcurrentTargets
		with data.rewind.freezeWindows as item.data.freezeWindows
		with data.rewind.disabledEnvironments as item.data.disabledEnvironments
		with data.rewind.versionLabels as item.data.versionLabels
]
`;

describe('differential: Wasm engine vs opa eval', () => {
  it(
    `agrees on ${RUNS} generated inputs`,
    { skip: opa === null ? 'opa not found on PATH or in ~/go/bin' : false, timeout: 60_000 },
    async () => {
      const inputs = fc.sample(policyInput, { seed: SEED, numRuns: RUNS });
      const variants = DATA_VARIANTS.map((v) => deepMerge(shippedData(), { rewind: v }));
      const items = inputs.map((input, i) => ({ input, variant: i % variants.length }));

      const helper = join(dir, 'helper.rego');
      const itemsFile = join(dir, 'items.json');
      writeFileSync(helper, HELPER);
      writeFileSync(
        itemsFile,
        JSON.stringify({
          differential: {
            items: items.map((it) => ({ input: it.input, data: variants[it.variant]?.rewind })),
          },
        }),
      );
      const { stdout } = await promisify(execFile)(
        opa as string,
        [
          'eval',
          '--format',
          'json',
          '-d',
          REGO_PATH,
          '-d',
          helper,
          '-d',
          itemsFile,
          'data.rewind_differential.results',
        ],
        { maxBuffer: 64 * 1024 * 1024 },
      );
      const fromOpa = (JSON.parse(stdout) as { result: { expressions: { value: Decision[] }[] }[] }).result[0]
        ?.expressions[0]?.value;
      assert.ok(Array.isArray(fromOpa) && fromOpa.length === RUNS, 'opa returned a decision per input');

      const engines = await Promise.all(
        variants.map((v, i) => {
          const dataPath = join(dir, `data-${i}.json`);
          writeFileSync(dataPath, JSON.stringify(v));
          return createPolicyEngine({ wasmPath: WASM_PATH, dataPath, logger: memoryLogger() });
        }),
      );
      const mismatches: string[] = [];
      const outcomes = new Map<string, number>();
      for (const [i, it] of items.entries()) {
        const wasm = await engines[it.variant]?.evaluate(it.input);
        const want: Decision | undefined = fromOpa[i];
        try {
          assert.deepEqual(wasm, want);
        } catch {
          mismatches.push(
            `#${i} (data variant ${it.variant}) input ${JSON.stringify(it.input)}\n  wasm ${JSON.stringify(wasm)}\n  opa  ${JSON.stringify(want)}`,
          );
        }
        const key = `${wasm?.allow ? 'allow' : 'deny'}/${wasm?.mode}`;
        outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
      }
      await Promise.all(engines.map((e) => e.close()));
      console.log(`outcomes: ${JSON.stringify(Object.fromEntries(outcomes))}`);
      assert.deepEqual(mismatches.slice(0, 3), [], `${mismatches.length} of ${RUNS} decisions differ`);
      // the generator must reach every outcome, or agreeing would prove little
      for (const k of ['allow/merge', 'allow/pull_request', 'deny/pull_request'])
        assert.ok((outcomes.get(k) ?? 0) >= 10, `${k}: ${outcomes.get(k) ?? 0} of ${RUNS}`);
    },
  );
});
