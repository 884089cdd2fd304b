import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parse } from 'yaml';

// No Docker engine runs in CI: check what docker-compose.yml and the Dockerfile declare instead.
const SPEC_ENV = [
  'REWIND_CONFIG',
  'REDIS_URL',
  'GITHUB_TOKEN',
  'REWIND_WEBHOOK_TOKEN',
  'SLACK_WEBHOOK_URL',
  'REWIND_DRY_RUN',
  'LOG_LEVEL',
];

test('docker-compose.yml runs rewind serve against a persistent Redis', () => {
  const compose = parse(readFileSync('docker-compose.yml', 'utf8')) as {
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
  const rewind = compose.services.rewind;
  assert.ok(redis && rewind);
  assert.ok(
    redis.command?.includes('--appendonly') &&
      redis.command[redis.command.indexOf('--appendonly') + 1] === 'yes',
  );
  assert.deepEqual(rewind.command, ['serve']);
  assert.deepEqual(Object.keys(rewind.environment ?? {}).sort(), [...SPEC_ENV].sort());
  assert.equal(rewind.environment?.REDIS_URL, 'redis://redis:6379');
  assert.ok(rewind.depends_on && 'redis' in rewind.depends_on);
  assert.deepEqual(rewind.ports, ['8080:8080']);
  for (const v of rewind.volumes ?? [])
    assert.ok(existsSync(v.split(':')[0] ?? ''), `volume source ${v} exists`);
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
