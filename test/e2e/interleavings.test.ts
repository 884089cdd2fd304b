import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { RemediationRecord } from '../../src/audit/types.ts';
import { startGitHubEmulator, type GitHubEmulator } from '../support/github-emulator.ts';
import { SAMPLE_PATH, kustomization, seedSampleRepo } from '../support/gitops-sample.ts';
import { sampleJson } from '../support/fixtures.ts';
import { post } from '../support/app.ts';
import { startStack } from '../support/stack.ts';
import { pino } from 'pino';
import type { Logger } from '../../src/observability/logger.ts';
import { startRole } from '../../src/server.ts';

const RELEASED = new Date('2026-11-26T00:10:00Z');
const clock = { now: () => new Date('2026-11-26T00:40:00Z') };
type Stack = Awaited<ReturnType<typeof startStack>>;

const WRITES = [
  { method: 'POST', pathPattern: /\/git\/refs$/ },
  { method: 'PUT', pathPattern: /\/contents\// },
  { method: 'POST', pathPattern: /\/pulls$/ },
  { method: 'PUT', pathPattern: /\/merge$/ },
  { method: 'PATCH', pathPattern: /\/pulls\/\d+$/ },
] as const;

type Command =
  | { kind: 'fire'; alert: number } // a new incident of the alert, or a repeat while it fires
  | { kind: 'resolve'; alert: number }
  | { kind: 'fault'; write: number; after: boolean } // after: the effect happens, the answer is lost
  /** the worker dies while GitHub handles the write (after: GitHub did it); a new worker takes the stalled job */
  | { kind: 'kill'; write: number; after: boolean }
  | { kind: 'pause' }; // let the worker catch up

const command: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant('fire' as const), alert: fc.integer({ min: 0, max: 1 }) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('resolve' as const), alert: fc.integer({ min: 0, max: 1 }) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('fault' as const),
      write: fc.integer({ min: 0, max: WRITES.length - 1 }),
      after: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('kill' as const),
      write: fc.integer({ min: 0, max: WRITES.length - 1 }),
      after: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'pause' as const }) },
);

const LOCK = { lockDurationMs: 2_000, stalledIntervalMs: 1_000 };

function payload(status: 'firing' | 'resolved', alert: number, startsAt: string) {
  const p = sampleJson(status === 'firing' ? 'a-firing-single.json' : 'c-resolved-single.json');
  const a = p.alerts[0] as Record<string, unknown>;
  a.fingerprint = `a1e7${String(alert).padStart(12, '0')}`;
  a.startsAt = startsAt;
  if (status === 'resolved') a.endsAt = '2026-11-26T00:39:00.000Z';
  return p;
}

async function quiet(s: Stack): Promise<RemediationRecord[]> {
  const end = Date.now() + 60_000;
  for (;;) {
    const recs = await s.runtime.store.list({ limit: 100 });
    const counts = await s.runtime.queue.queue.getJobCounts('waiting', 'active', 'prioritized');
    const busy = recs.some((r) => r.state === 'queued' || r.state === 'deciding');
    if (!busy && (counts.waiting ?? 0) + (counts.active ?? 0) + (counts.prioritized ?? 0) === 0) return recs;
    if (Date.now() > end) throw new Error(`not quiet: ${recs.map((r) => `${r.id} ${r.state}`).join(', ')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function run(commands: Command[]): Promise<void> {
  const gh: GitHubEmulator = await startGitHubEmulator();
  seedSampleRepo(gh, RELEASED);
  const s = await startStack({ githubUrl: gh.url, clock, ...LOCK });
  type Started = Awaited<ReturnType<typeof startRole>>;
  const workers: Started[] = [];
  /** every worker alive: one at a time, but a replacement may start while another kill is under way */
  const live = new Set<NonNullable<Started['worker']>>(s.worker ? [s.worker] : []);
  const replacing: Promise<void>[] = [];
  let replaced = Promise.resolve();
  let kills = 0;
  try {
    /** per alert: its current incident's startsAt and whether it fires */
    const incidents = new Map<
      number,
      { startsAt: string; firing: boolean; remediation?: string | undefined }
    >();
    let seq = 0;
    for (const c of commands) {
      if (c.kind === 'fault') {
        const w = WRITES[c.write];
        if (w) gh.failNext({ method: w.method, pathPattern: w.pathPattern, status: 502, after: c.after });
      } else if (c.kind === 'kill') {
        // The worker dies while GitHub handles the write: its job stays active until the lock runs
        // out, then a new worker takes it over and resumes from the record and what GitHub holds.
        const w = WRITES[c.write];
        if (!w) continue;
        const hung = gh.hangNext({ method: w.method, pathPattern: w.pathPattern, after: c.after });
        void hung.arrived
          .then(() => (kills += 1))
          .then(() =>
            replacing.push(
              // one kill after the other: a replacement killed in turn is known to be alive by then
              (replaced = replaced.then(async () => {
                // the process is gone: no job of it finishes, its locks run out
                const dying = [...live];
                live.clear();
                await Promise.all(dying.map((d) => d.worker.close(true)));
                const next = await startRole('worker', s.config, {
                  clock,
                  logger: pino({ level: 'silent' }) as unknown as Logger,
                  notifier: { notify: async (e) => void s.events.push(e) },
                  octokit: { spaceWrites: false, retries: 0, retryAfterBaseMs: 1 },
                  backoffBaseMs: 20,
                  httpLogger: false,
                  ...LOCK,
                });
                workers.push(next);
                if (next.worker) live.add(next.worker);
              })),
            ),
          );
      } else if (c.kind === 'pause') {
        await quiet(s);
      } else if (c.kind === 'fire') {
        let inc = incidents.get(c.alert);
        if (!inc?.firing) {
          seq += 1;
          inc = { startsAt: `2026-11-26T00:${String(30 + seq).padStart(2, '0')}:00.000Z`, firing: true };
          incidents.set(c.alert, inc);
        }
        const res = await post(s.app, payload('firing', c.alert, inc.startsAt));
        assert.equal(res.statusCode, 202, res.body);
        inc.remediation = (res.json().remediations as Array<{ id: string }>)[0]?.id;
      } else {
        const inc = incidents.get(c.alert);
        if (!inc?.firing) continue;
        inc.firing = false;
        const res = await post(s.app, payload('resolved', c.alert, inc.startsAt));
        assert.equal(res.statusCode, 202, res.body);
      }
      const open = gh.pulls('acme', 'gitops').filter((p) => p.state === 'open');
      assert.ok(open.length <= 1, `two open rewind PRs: ${open.map((p) => p.headRef).join(', ')}`);
    }
    await quiet(s);
    await Promise.all(replacing); // a replacement still starting; then whatever it resumes
    const recs = await quiet(s);
    const byId = new Map(recs.map((r) => [r.id, r]));
    // no firing incident unhandled
    for (const [alert, inc] of incidents) {
      if (!inc.firing) continue;
      const rec = inc.remediation ? byId.get(inc.remediation) : undefined;
      assert.ok(rec, `alert ${alert}: its incident has no remediation`);
      // BullMQ dead-letters a job whose worker died twice under it (maxStalledCount 1): that is the
      // dead letter, said in Slack and retryable, not an incident dropped; only then is `failed` fine.
      if (rec.state === 'failed' && kills >= 2 && /stalled more than allowable limit/.test(rec.error ?? ''))
        continue;
      assert.ok(
        !['queued', 'deciding', 'failed'].includes(rec.state) &&
          !(rec.state === 'noop' && /resolved/.test(rec.reason ?? '')),
        `alert ${alert} still fires but its remediation ${rec.id} is ${rec.state} (${rec.reason ?? ''} ${rec.error ?? ''})`,
      );
    }
    // never two open rewind PRs; every record agrees with GitHub
    const pulls = gh.pulls('acme', 'gitops');
    assert.ok(pulls.filter((p) => p.state === 'open').length <= 1);
    for (const rec of recs) {
      if (!rec.pullRequest) {
        assert.ok(
          !['pr_opened', 'auto_merge', 'merged', 'closed'].includes(rec.state),
          `${rec.id} ${rec.state} without PR`,
        );
        continue;
      }
      const pr = pulls.find((p) => p.number === rec.pullRequest?.number);
      assert.ok(pr, `${rec.id}: PR #${rec.pullRequest.number} is not on GitHub`);
      if (rec.state === 'merged') {
        assert.equal(pr.merged, true, `${rec.id} merged but PR #${pr.number} is not`);
        assert.equal(rec.mergeCommit, pr.mergeCommitSha);
      }
      if (rec.state === 'pr_opened' || rec.state === 'auto_merge')
        assert.equal(pr.state, 'open', `${rec.id} ${rec.state}`);
      if (rec.state === 'closed') assert.equal(pr.merged, false);
      if (pr.merged)
        assert.equal(rec.state, 'merged', `PR #${pr.number} merged, ${rec.id} says ${rec.state}`);
    }
    const merged = pulls.filter((p) => p.merged);
    assert.ok(merged.length <= 1, 'rolled back twice');
    assert.equal(
      gh.getFile('acme', 'gitops', 'main', SAMPLE_PATH),
      kustomization(merged.length ? 'v1.1.0' : 'v1.2.0'),
    );
    gh.assertNoUnknownRequests();
  } finally {
    // a replacement killed in turn would wait for its hung job: end them all the way a kill does
    for (const w of workers) await w.worker?.worker.close(true);
    for (const w of workers) await w.close();
    await s.stop();
    await gh.close(); // also ends the hung requests of the dead workers
  }
}

describe('random interleavings of firing, repeats, resolutions, re-fires, crashes and GitHub faults', () => {
  test('never a firing incident unhandled, never two open rewind PRs, never a record that disagrees with Git', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 3, maxLength: 10 }), run),
      // a handful of runs: each starts a stack and waits for a real worker on 2 busy cores
      {
        numRuns: Number(process.env.REWIND_PROPERTY_RUNS ?? 8),
        endOnFailure: true,
        // found by this test: a new incident attached while the worker was ending the remediation as
        // "every alert resolved" was swallowed (the noop transition now requires the resolution to stand)
        ...(process.env.REWIND_PROPERTY_SEED ? { seed: Number(process.env.REWIND_PROPERTY_SEED) } : {}),
        examples: [
          // found by this test: the job stalled twice (killed at the merge, then killed again after
          // GitHub merged) and the queue's give-up recorded `failed` over a merged PR
          [
            [
              { kind: 'kill', write: 3, after: false },
              { kind: 'kill', write: 3, after: true },
              { kind: 'fire', alert: 0 },
            ],
          ],
          // a worker killed while GitHub merges (the merge goes through), another one resumes
          [
            [
              { kind: 'kill', write: 3, after: true },
              { kind: 'fire', alert: 0 },
            ],
          ],
          [
            [
              { kind: 'fire', alert: 0 },
              { kind: 'resolve', alert: 0 },
              { kind: 'fire', alert: 1 },
              { kind: 'fault', write: 1, after: false },
            ],
          ],
        ],
      },
    );
  });
});
