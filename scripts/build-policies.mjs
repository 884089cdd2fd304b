#!/usr/bin/env node
// `npm run build:policies`: compile policies/rollback.rego + data.json to Wasm
// and put policy.wasm and data.json from the bundle into policies/build/.
// The build output is committed so running rewind needs no OPA toolchain;
// scripts/check-policies.sh fails CI when it is stale.
//
//   node scripts/build-policies.mjs [--out DIR]   (default policies/build)
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ENTRYPOINT = 'rewind/rollback/decision';
// Test files and the test cases stay out of the bundle: only what production evaluates.
export const SOURCES = ['policies/rollback.rego', 'policies/data.json'];
export const OUTPUTS = ['policy.wasm', 'data.json'];

/** opa from PATH, else where `go install` puts it. */
export function findOpa() {
  const candidates = [
    process.env.OPA_BIN,
    'opa',
    join(process.env.HOME ?? '/root', 'go/bin/opa'),
    '/root/go/bin/opa',
  ];
  for (const c of candidates) {
    if (!c) continue;
    try {
      execFileSync(c, ['version'], { stdio: 'ignore' });
      return c;
    } catch {
      // not this one
    }
  }
  return null;
}

/** Build into `outDir`, replacing each output file atomically (a watching engine never reads half a file). */
export function buildPolicies(outDir, opa = findOpa()) {
  if (opa === null)
    throw new Error(
      'opa not found on PATH or in ~/go/bin (go install github.com/open-policy-agent/opa@v1.22.3)',
    );
  const work = mkdtempSync(join(tmpdir(), 'rewind-policy-'));
  try {
    const bundle = join(work, 'bundle.tar.gz');
    execFileSync(opa, ['build', '-t', 'wasm', '-e', ENTRYPOINT, '-o', bundle, ...SOURCES], {
      stdio: 'inherit',
    });
    const extracted = join(work, 'x');
    mkdirSync(extracted);
    // Bundle members are named "/policy.wasm"; GNU tar strips the slash and
    // warns about it on stderr, which is noise here (a real failure still throws).
    execFileSync('tar', ['-xzf', bundle, '-C', extracted, ...OUTPUTS.map((f) => `/${f}`)], { stdio: 'pipe' });
    mkdirSync(outDir, { recursive: true });
    for (const f of OUTPUTS) {
      const staged = join(outDir, `.${f}.tmp`);
      copyFileSync(join(extracted, f), staged);
      chmodSync(staged, 0o644); // the bundle stores 0600
      renameSync(staged, join(outDir, f));
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const isMain =
  process.argv[1] !== undefined && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname);
if (isMain) {
  const i = process.argv.indexOf('--out');
  const outDir = i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : 'policies/build';
  for (const s of SOURCES)
    if (!existsSync(s)) throw new Error(`${s} not found: run from the repository root`);
  buildPolicies(outDir);
  console.log(`built ${OUTPUTS.map((f) => join(outDir, f)).join(', ')} (entrypoint ${ENTRYPOINT})`);
}
