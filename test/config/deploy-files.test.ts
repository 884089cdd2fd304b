import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';

// No Docker engine runs in CI: check what docker-compose.yml and the Dockerfile declare instead.
// The webhook token reaches rewind as a file (shared with Alertmanager's credentials_file),
// and GitHub defaults to the emulator service for a no-account trial.
const COMPOSE_ENV = [
  'REWIND_CONFIG',
  'REDIS_URL',
  'GITHUB_API_URL',
  'GITHUB_TOKEN',
  'REWIND_WEBHOOK_TOKEN_FILE',
  'SLACK_WEBHOOK_URL',
  'REWIND_DRY_RUN',
  'LOG_LEVEL',
];

test('docker-compose.yml runs rewind api and worker against a persistent Redis', () => {
  const compose = parse(readFileSync('docker-compose.yml', 'utf8'), { merge: true }) as {
    services: Record<
      string,
      {
        command?: string[];
        environment?: Record<string, string>;
        volumes?: string[];
        depends_on?: Record<string, unknown>;
        ports?: string[];
      }
    >;
  };
  const redis = compose.services.redis;
  assert.ok(redis);
  assert.ok(
    redis.command?.includes('--appendonly') &&
      redis.command[redis.command.indexOf('--appendonly') + 1] === 'yes',
  );
  for (const [name, role, ports] of [
    ['rewind-api', 'api', ['8080:8080']],
    ['rewind-worker', 'worker', undefined],
  ] as const) {
    const rewind = compose.services[name];
    assert.ok(rewind, name);
    assert.deepEqual(rewind.command, [role]);
    assert.deepEqual(Object.keys(rewind.environment ?? {}).sort(), [...COMPOSE_ENV].sort());
    assert.equal(rewind.environment?.REDIS_URL, 'redis://redis:6379');
    assert.ok(rewind.depends_on && 'redis' in rewind.depends_on);
    assert.deepEqual(rewind.ports, ports);
    for (const v of rewind.volumes ?? []) {
      const source = v.split(':')[0] ?? '';
      if (source.startsWith('.')) assert.ok(existsSync(source), `volume source ${v} exists`);
    }
  }
});

/** The Dockerfile's stages, each as its lines (continuations joined), keyed by the stage's name or index. */
function dockerStages(df: string): string[][] {
  const lines = df.replace(/\\\n/g, ' ').split('\n');
  const stages: string[][] = [];
  for (const line of lines) {
    if (/^FROM /.test(line)) stages.push([line]);
    else if (line.trim() && !line.startsWith('#')) stages.at(-1)?.push(line);
  }
  return stages;
}

test('the Dockerfile compiles src/ in a build stage and runs only dist/ (no TypeScript loader in the image)', () => {
  const stages = dockerStages(readFileSync('Dockerfile', 'utf8'));
  assert.equal(stages.length, 2, 'a build stage and a runtime stage');
  const [build = [], runtime = []] = stages;
  assert.match(build[0] ?? '', /^FROM \S+ AS build$/);
  // every file a stage copies from the context exists
  for (const line of [...build, ...runtime]) {
    const m = /^COPY (?!--from)(.+) \S+$/.exec(line);
    for (const src of m?.[1]?.split(' ') ?? []) assert.ok(existsSync(src), `${src} exists`);
  }
  assert.ok(
    build.includes('COPY src ./src') && build.includes('RUN npm run build'),
    'the build stage compiles src/',
  );
  assert.ok(build.some((l) => /^COPY .*tsconfig\.build\.json/.test(l)));
  assert.ok(runtime.some((l) => /^RUN npm ci --omit=dev --ignore-scripts/.test(l)));
  assert.ok(runtime.includes('COPY --from=build /app/dist ./dist'));
  assert.ok(
    !runtime.some((l) => /^COPY src\b/.test(l)),
    'the image has no src/: bin/rewind.js can only run dist/',
  );
  assert.ok(runtime.includes('ENTRYPOINT ["node", "bin/rewind.js"]'));
  assert.ok(runtime.includes('CMD ["serve"]'));
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as {
    dependencies: Record<string, string>;
    devDependencies: Record<string, string>;
    scripts: Record<string, string>;
  };
  assert.equal(pkg.dependencies.tsx, undefined, 'tsx is for development only: --omit=dev leaves it out');
  assert.ok(pkg.devDependencies.tsx);
  assert.equal(pkg.scripts.build, 'tsc -p tsconfig.build.json');
  assert.equal(pkg.scripts.prepare, 'npm run build', '`npm ci` builds dist/, so `npm start` runs it');
  const tsconfig = JSON.parse(readFileSync('tsconfig.build.json', 'utf8')) as {
    compilerOptions: { outDir: string };
  };
  assert.equal(tsconfig.compilerOptions.outDir, 'dist');
});

test(
  'the compiled build runs as the image runs it: bin/rewind.js with dist/ and no src/',
  { timeout: 240_000 },
  () => {
    // Laid out like the image (bin/ + dist/, no src/) under .tmp/, so node_modules resolves from the checkout.
    mkdirSync('.tmp', { recursive: true });
    const image = mkdtempSync(join('.tmp', 'image-'));
    try {
      const tsc = spawnSync(
        process.execPath,
        ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json', '--outDir', join(image, 'dist')],
        { encoding: 'utf8' },
      );
      assert.equal(tsc.status, 0, tsc.stdout + tsc.stderr);
      assert.ok(existsSync(join(image, 'dist', 'main.js')));
      mkdirSync(join(image, 'bin'));
      cpSync('bin/rewind.js', join(image, 'bin', 'rewind.js'));
      const res = spawnSync(process.execPath, [join(image, 'bin', 'rewind.js'), 'check-config'], {
        encoding: 'utf8',
        env: { PATH: process.env.PATH, REWIND_CONFIG: 'config/rewind.yaml' },
      });
      assert.equal(res.status, 0, res.stderr);
      assert.match(res.stdout, /config\/rewind\.yaml: ok \(1 target: checkout-prod\)/);
    } finally {
      rmSync(image, { recursive: true, force: true });
    }
  },
);
