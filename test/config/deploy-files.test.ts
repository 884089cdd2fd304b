import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
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

test('the Dockerfile copies what bin/rewind.js needs and starts serve', () => {
  const df = readFileSync('Dockerfile', 'utf8');
  for (const m of df.matchAll(/^COPY (\S+)(?: (\S+))? \.\/?\S*$/gm)) {
    for (const src of [m[1], m[2]].filter((s): s is string => !!s && !s.startsWith('./')))
      assert.ok(existsSync(src), `${src} exists`);
  }
  assert.match(df, /ENTRYPOINT \["node", "bin\/rewind\.js"\]/);
  assert.match(df, /CMD \["serve"\]/);
  assert.match(df, /npm ci --omit=dev/);
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { dependencies: Record<string, string> };
  assert.ok(pkg.dependencies.tsx, 'tsx is a runtime dependency: bin/rewind.js loads TypeScript with it');
});
