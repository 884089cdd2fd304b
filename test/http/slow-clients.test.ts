import assert from 'node:assert/strict';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { after, describe, test } from 'node:test';
import { dropPrefix, testRedis, uniquePrefix } from '../support/redis.ts';
import { sampleTarget } from '../support/fixtures.ts';
import { testApp } from '../support/app.ts';
import { buildConfig } from '../../src/config/config.ts';
import { readFileSync } from 'node:fs';

const redis = testRedis();
const prefixes: string[] = [];
after(async () => {
  for (const p of prefixes) await dropPrefix(redis, p);
  redis.disconnect();
});

/** Resolves with what the server sent once it closes the socket; rejects if it is still open at the deadline. */
function closedWithin(socket: Socket, ms: number): Promise<string> {
  let received = '';
  socket.on('data', (d) => (received += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server kept the connection open for ${ms} ms`));
    }, ms);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(received);
    });
    socket.on('error', () => {});
  });
}

async function listening(timeouts: {
  connectionTimeout: number;
  requestTimeout: number;
  keepAliveTimeout: number;
}) {
  const prefix = uniquePrefix('slow');
  prefixes.push(prefix);
  const t = await testApp({ redis, prefix, targets: [sampleTarget('checkout-test')], timeouts });
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = t.app.server.address() as AddressInfo;
  return { t, port };
}

describe('slow clients', () => {
  test('a client that never finishes its headers is cut off (408) after requestTimeout', async () => {
    const { t, port } = await listening({
      connectionTimeout: 60_000,
      requestTimeout: 1_000,
      keepAliveTimeout: 5_000,
    });
    try {
      const socket = connect(port, '127.0.0.1');
      await new Promise((r) => socket.once('connect', r));
      // slowloris: a byte now and then keeps the socket from being idle, but the request never completes
      socket.write('POST /v1/alertmanager HTTP/1.1\r\nHost: rewind\r\n');
      const drip = setInterval(() => socket.writable && socket.write('X-A: b\r\n'), 200);
      try {
        const got = await closedWithin(socket, 15_000);
        assert.match(got, /^HTTP\/1\.1 408/);
      } finally {
        clearInterval(drip);
      }
    } finally {
      await t.close();
    }
  });

  test('a connection that sends nothing is closed after connectionTimeout', async () => {
    const { t, port } = await listening({
      connectionTimeout: 1_000,
      requestTimeout: 30_000,
      keepAliveTimeout: 5_000,
    });
    try {
      const socket = connect(port, '127.0.0.1');
      await closedWithin(socket, 15_000);
    } finally {
      await t.close();
    }
  });

  test('the defaults bound every request, and the config file can change them (server.*)', () => {
    const example = readFileSync('config/rewind.yaml', 'utf8');
    const d = buildConfig(example, 'cfg.yaml', {});
    assert.ok(d.server.requestTimeout > 0 && d.server.requestTimeout <= 60_000);
    assert.ok(d.server.connectionTimeout > 0 && d.server.connectionTimeout <= 120_000);
    assert.ok(d.server.keepAliveTimeout > 0);
    const c = buildConfig(
      `${example}\nserver:\n  requestTimeout: 5000\n  connectionTimeout: 7000\n  keepAliveTimeout: 9000\n`,
      'cfg.yaml',
      {},
    );
    assert.deepEqual(
      [c.server.requestTimeout, c.server.connectionTimeout, c.server.keepAliveTimeout],
      [5000, 7000, 9000],
    );
  });
});
