#!/usr/bin/env node
// Entry point for the `rewind` CLI. Production runs the compiled JavaScript in dist/ (`npm run build`,
// also run by `npm ci` through `prepare`): no TypeScript loader in the process, a faster start and a
// smaller heap. A checkout whose src/ changed after the last build runs src/ through tsx instead
// (a devDependency), so a stale dist/ never runs edited code's old version.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const built = `${root}dist/main.js`;

/** Newest modification time under dir (0 when it does not exist: an image ships dist/ alone). */
function newest(dir) {
  if (!existsSync(dir)) return 0;
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) t = Math.max(t, statSync(`${e.parentPath ?? e.path}/${e.name}`).mtimeMs);
  }
  return t;
}

async function load() {
  if (existsSync(built) && statSync(built).mtimeMs >= newest(`${root}src`)) return import(built);
  let register;
  try {
    ({ register } = await import('tsx/esm/api'));
  } catch {
    console.error(
      existsSync(`${root}src`)
        ? 'rewind: dist/ is missing or older than src/; run `npm run build` (or `npm ci`, which builds)'
        : 'rewind: dist/ is missing; run `npm run build`',
    );
    process.exit(1);
  }
  register();
  return import('../src/main.ts');
}

const { main } = await load();
await main(process.argv.slice(2), process.env);
