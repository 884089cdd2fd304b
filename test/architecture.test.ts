import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { test } from 'node:test';

// STYLE: a pure core, adapters at the edges, one importer of Octokit, no import cycles.
function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

const IMPORT = /^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/gm;
const graph = new Map<string, string[]>();
const packages = new Map<string, string[]>();
for (const file of files('src')) {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(IMPORT)].map((m) => m[1] ?? '');
  graph.set(
    file,
    specs.filter((s) => s.startsWith('.')).map((s) => normalize(join(dirname(file), s))),
  );
  packages.set(
    file,
    specs.filter((s) => !s.startsWith('.')),
  );
}

test('src/core imports no I/O library and nothing outside core but policy types', () => {
  const io =
    /^(fastify|@fastify\/|bullmq|ioredis|@octokit\/|@slack\/|prom-client|pino|node:(http|https|net|fs|child_process))/;
  for (const [file, pkgs] of packages) {
    if (!file.startsWith('src/core/')) continue;
    assert.deepEqual(
      pkgs.filter((p) => io.test(p)),
      [],
      file,
    );
    for (const dep of graph.get(file) ?? []) {
      assert.ok(dep.startsWith('src/core/') || dep === 'src/policy/types.ts', `${file} imports ${dep}`);
    }
  }
});

test('only src/github imports Octokit; only src/queue imports BullMQ; only src/notify imports Slack', () => {
  for (const [file, pkgs] of packages) {
    if (pkgs.some((p) => p.startsWith('@octokit/'))) assert.ok(file.startsWith('src/github/'), file);
    if (pkgs.includes('bullmq')) assert.ok(file.startsWith('src/queue/'), file);
    if (pkgs.some((p) => p.startsWith('@slack/'))) assert.ok(file.startsWith('src/notify/'), file);
  }
});

test('only src/observability imports OpenTelemetry (adapters make spans through its helpers)', () => {
  for (const [file, pkgs] of packages) {
    if (pkgs.some((p) => p.startsWith('@opentelemetry/')))
      assert.ok(file.startsWith('src/observability/'), file);
  }
});

test('src has no import cycles', () => {
  const state = new Map<string, 'visiting' | 'done'>();
  const cycles: string[] = [];
  const visit = (f: string, path: string[]) => {
    if (state.get(f) === 'done') return;
    if (state.get(f) === 'visiting') {
      cycles.push([...path.slice(path.indexOf(f)), f].join(' → '));
      return;
    }
    state.set(f, 'visiting');
    for (const d of graph.get(f) ?? []) visit(d, [...path, f]);
    state.set(f, 'done');
  };
  for (const f of graph.keys()) visit(f, []);
  assert.deepEqual(cycles, []);
});
