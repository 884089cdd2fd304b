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

  test('redis+sentinel:// lists sentinels, then the master name and an optional db; sentinel credentials in the query', () => {
    assert.deepEqual(parseRedisUrl('redis+sentinel://10.0.0.1:26379,[::1]:26380/mymaster'), {
      kind: 'sentinel',
      sentinels: [
        { host: '10.0.0.1', port: 26379 },
        { host: '::1', port: 26380 },
      ],
      name: 'mymaster',
      db: 0,
      tls: false,
    });
    assert.deepEqual(
      parseRedisUrl(
        'rediss+sentinel://rewind:p%40ss@sentinel-0.redis:26379/prod%20master/3/?sentinelUsername=watch&sentinelPassword=s%26nt',
      ),
      {
        kind: 'sentinel',
        sentinels: [{ host: 'sentinel-0.redis', port: 26379 }],
        name: 'prod master',
        db: 3,
        username: 'rewind',
        password: 'p@ss',
        sentinelUsername: 'watch',
        sentinelPassword: 's&nt',
        tls: true,
      },
    );
    assert.equal(
      clusterPrefix('rewind', parseRedisUrl('redis+sentinel://h:26379/m')),
      'rewind',
      'one master: keys unchanged',
    );
    const config = buildConfig(YAML, 'rewind.yaml', {
      REDIS_URL: 'redis+sentinel://:pw@h1:26379,h2:26379/m/1',
    });
    assert.deepEqual(config.redis, { url: 'redis+sentinel://:pw@h1:26379,h2:26379/m/1', prefix: 'rewind' });
  });

  test('a malformed URL is a config error that does not repeat the URL (it may hold a password)', () => {
    for (const bad of [
      'http://x:1',
      'redis+cluster://',
      'redis+cluster://h1:7000,h2',
      'redis+cluster://:s3cret@h:99999',
      'redis+sentinel://:s3cret@h:26379',
      'redis+sentinel://:s3cret@h:26379/',
      'redis+sentinel://:s3cret@h:26379/m/x',
      'redis+sentinel://:s3cret@h/m',
      'redis+sentinel://:s3cret@h:26379/m?password=s3cret',
      'redis+sentinel://:s3cr%ZZet@h:26379/m',
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

  test('the file refuses credentials in a cluster or sentinel URL too (they belong in REDIS_URL)', () => {
    for (const url of [
      'redis+cluster://:s3cret@h1:7000,h2:7000',
      'redis+sentinel://:s3cret@h1:26379/m',
      'redis+sentinel://h1:26379/m?sentinelPassword=s3cret',
    ])
      assert.throws(
        () => buildConfig(`redis:\n  url: "${url}"\n${YAML}`, 'rewind.yaml', {}),
        (err: Error) =>
          /redis\.url/.test(err.message) &&
          /credentials/.test(err.message) &&
          !err.message.includes('s3cret'),
        url,
      );
    assert.equal(
      buildConfig(`redis:\n  url: redis+sentinel://h1:26379,h2:26379/m\n${YAML}`, 'rewind.yaml', {}).redis
        .url,
      'redis+sentinel://h1:26379,h2:26379/m',
    );
  });
});
