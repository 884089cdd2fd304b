import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Limiter, LimiterGroup } from '../../src/github/limiter.ts';

/** Resolves after every timer already due: a job that waited for one has not started before this. */
const afterATimer = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('the limiters under Octokit throttling (Bottleneck subset)', () => {
  test('a job under the limits starts before any timer fires (Bottleneck waits several)', async () => {
    const limiter = new Limiter({ maxConcurrent: 10 });
    let started = false;
    const timer = afterATimer().then(() => started);
    const done = limiter.schedule({}, async () => {
      started = true;
      return 'answer';
    });
    assert.equal(await timer, true, 'started before a setTimeout(0) fired');
    assert.equal(await done, 'answer');
  });

  test('maxConcurrent holds; a weight-0 job (the plugin retries with weight 0) is not counted', async () => {
    const limiter = new Limiter({ maxConcurrent: 2 });
    let running = 0;
    let peak = 0;
    const releases: Array<() => void> = [];
    const job = () =>
      new Promise<void>((resolve) => {
        running += 1;
        peak = Math.max(peak, running);
        releases.push(() => {
          running -= 1;
          resolve();
        });
      });
    const jobs = [limiter.schedule(job), limiter.schedule(job), limiter.schedule(job)];
    await afterATimer();
    assert.equal(running, 2, 'the third waits');
    const free = limiter.schedule({ weight: 0 }, job);
    await afterATimer();
    assert.equal(running, 3, 'a weight-0 job runs beside them');
    while (releases.length > 0) {
      releases.shift()?.();
      await afterATimer();
    }
    await Promise.all([...jobs, free]);
    assert.equal(peak, 3);
    assert.equal(running, 0);
  });

  test('minTime spaces job starts (the write group: GitHub asks for about a second between writes)', async () => {
    const limiter = new LimiterGroup({ maxConcurrent: 1, minTime: 60 }).key('id');
    const starts: number[] = [];
    await Promise.all(
      [1, 2, 3].map(() =>
        limiter.schedule({}, async () => {
          starts.push(Date.now());
        }),
      ),
    );
    assert.equal(starts.length, 3);
    for (let i = 1; i < starts.length; i++) {
      const gap = (starts[i] ?? 0) - (starts[i - 1] ?? 0);
      assert.ok(gap >= 55, `start ${i} came ${gap} ms after the one before`);
    }
  });

  test('"failed": a number is a delay before the same job runs again; anything else rethrows', async () => {
    const limiter = new Limiter();
    const seen: Array<{ retryCount: number; args: unknown[] }> = [];
    limiter.on('failed', (error, info) => {
      seen.push(info);
      return (error as Error).message === 'rate limited' && info.retryCount < 2 ? 5 : undefined;
    });
    let calls = 0;
    const flaky = async (a: string) => {
      calls += 1;
      if (calls < 3) throw new Error('rate limited');
      return `ok ${a}`;
    };
    assert.equal(await limiter.schedule(flaky, 'x'), 'ok x');
    assert.deepEqual(
      seen.map((s) => [s.retryCount, s.args]),
      [
        [0, ['x']],
        [1, ['x']],
      ],
    );
    await assert.rejects(
      limiter.schedule(async () => {
        throw new Error('bad request');
      }),
      /bad request/,
    );
  });

  test('a group hands out one limiter per key', () => {
    const group = new LimiterGroup({ maxConcurrent: 1 });
    assert.equal(group.key('a'), group.key('a'));
    assert.notEqual(group.key('a'), group.key('b'));
  });
});
