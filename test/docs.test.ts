import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { ConfigFileSchema } from '../src/config/schema.ts';

// The documentation must stand alone (a clone has nothing else) and keep up with the code.

const markdown = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? markdown(join(dir, e.name)) : e.name.endsWith('.md') ? [join(dir, e.name)] : [],
  );
const FILES = ['README.md', ...markdown('docs')];

test('README and docs link only to files that exist, and never outside the repository', () => {
  for (const file of FILES) {
    const text = readFileSync(file, 'utf8');
    assert.doesNotMatch(text, /SPEC\.md|shared project folder/, `${file} points outside the repository`);
    for (const [, href = ''] of text.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) {
      if (/^[a-z]+:/.test(href)) continue;
      assert.ok(existsSync(join(dirname(file), href)), `${file}: link ${href} leads nowhere`);
    }
  }
});

test('docs/configuration.md names every config file key and every environment variable rewind reads', () => {
  const doc = readFileSync('docs/configuration.md', 'utf8');
  // leaves as dotted paths (`redis.prefix`); a target's fields by name (`tagKey`)
  const keys: string[] = [];
  const walk = (schema: unknown, path: string): void => {
    const s = schema as { properties?: Record<string, unknown>; items?: unknown };
    if (s.items) return path === 'targets' ? walk(s.items, '') : void keys.push(path);
    if (!s.properties) return void keys.push(path);
    for (const [k, v] of Object.entries(s.properties)) walk(v, path ? `${path}.${k}` : k);
  };
  walk(ConfigFileSchema, '');
  assert.ok(keys.includes('redis.prefix') && keys.includes('tagKey') && keys.includes('github.author.email'));
  for (const key of keys) assert.ok(doc.includes(`\`${key}\``), `configuration.md documents \`${key}\``);

  const source = readFileSync('src/config/config.ts', 'utf8');
  const vars = new Set([
    ...[...source.matchAll(/env\.([A-Z][A-Z0-9_]+)/g)].map((m) => m[1]),
    ...[...source.matchAll(/(?:readSecret|envInt|envBool)\(env, '([A-Z0-9_]+)'/g)].map((m) => m[1]),
  ]);
  assert.ok(vars.size >= 10);
  for (const v of vars) assert.ok(doc.includes(v ?? ''), `configuration.md documents ${v}`);
});
