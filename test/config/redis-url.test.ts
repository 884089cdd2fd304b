import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildConfig } from '../../src/config/config.ts';
import { clusterPrefix, parseRedisUrl } from '../../src/config/redis-url.ts';

const YAML = `targets:
  - name: checkout-prod
    match: { service: checkout }
    repo: acme/gitops
    branch: main
    path: apps/checkout/kustomization.yaml
    image: registry.example.com/acme/checkout
    environment: prod
`;

describe('redis.url / REDIS_URL', () => {
  test('redis:// and rediss:// name one server, passed to ioredis as they are', () => {
    assert.deepEqual(parseRedisUrl('redis://:pw@10.0.0.1:6380/2'), {
      kind: 'single',
      url: 'redis://:pw@10.0.0.1:6380/2',
    });
    assert.equal(parseRedisUrl('rediss://cache.example.com').kind, 'single');
  });

  test('redis+cluster:// lists seed nodes, with optional credentials and TLS', () => {
    assert.deepEqual(parseRedisUrl('redis+cluster://10.0.0.1:7000,10.0.0.2:7001,[::1]:7002'), {
      kind: 'cluster',
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: '10.0.0.2', port: 7001 },
        { host: '::1', port: 7002 },
      ],
      tls: false,
    });
    assert.deepEqual(parseRedisUrl('rediss+cluster://rewind:p%40ss@redis-0.redis:6379/'), {
      kind: 'cluster',
      nodes: [{ host: 'redis-0.redis', port: 6379 }],
      username: 'rewind',
      password: 'p@ss',
      tls: true,
    });
  });

  test('a malformed URL is a config error that does not repeat the URL (it may hold a password)', () => {
    for (const bad of [
      'http://x:1',
      'redis+cluster://',
      'redis+cluster://h1:7000,h2',
      'redis+cluster://:s3cret@h:99999',
    ]) {
      assert.throws(
        () => parseRedisUrl(bad),
        (err: Error) => /REDIS_URL \(or redis\.url\)/.test(err.message) && !err.message.includes('s3cret'),
        bad,
      );
    }
  });

  test('on a cluster the prefix becomes a hash tag, so every rewind and BullMQ key shares one slot', () => {
    const cluster = parseRedisUrl('redis+cluster://h:7000');
    assert.equal(clusterPrefix('rewind', cluster), '{rewind}');
    assert.equal(clusterPrefix('{team-a}:rewind', cluster), '{team-a}:rewind', 'a tag already there is kept');
    assert.equal(clusterPrefix('rewind', parseRedisUrl('redis://h')), 'rewind', 'one server: keys unchanged');

    const config = buildConfig(YAML, 'rewind.yaml', { REDIS_URL: 'redis+cluster://h1:7000,h2:7000' });
    assert.equal(config.redis.prefix, '{rewind}');
    assert.equal(buildConfig(YAML, 'rewind.yaml', {}).redis.prefix, 'rewind');
    const fromFile = buildConfig(
      `redis:\n  url: redis+cluster://h1:7000\n  prefix: "{prod}:rewind"\n${YAML}`,
      'rewind.yaml',
      {},
    );
    assert.deepEqual(fromFile.redis, { url: 'redis+cluster://h1:7000', prefix: '{prod}:rewind' });
  });
});
