import { randomBytes } from 'node:crypto';
import { RewindError, errorMessage } from '../core/errors.ts';
import type { Clock } from '../core/ports.ts';
import type { Target } from '../core/types.ts';
import type { AuditStore, PendingEffect, RecordPatch } from '../audit/store.ts';
import type { RemediationRecord } from '../audit/types.ts';
import type { Notifier, NotifyKind } from '../notify/slack.ts';
import { eventFromRecord } from '../notify/record-event.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import { transitionFor, type RemediationEvent, type RemediationState } from '../remediation/lifecycle.ts';
import type { JobData } from './queue.ts';

export interface Settings {
  closeOnResolve: boolean;
  /** seconds after a merge at which a still-firing incident means "did not heal" */
  verifyAfterSeconds: number;
}

export interface EffectDeps {
  store: AuditStore;
  notifier: Notifier;
  metrics: Metrics;
  logger: Logger;
  clock: Clock;
  settings: () => Settings;
  enqueue: (data: JobData, opts?: { delayMs?: number }) => Promise<void>;
  watchIntervalMs?: number;
  /** after the merge: reconcile now and verify (src/remediation/verify.ts) */
  afterMerge?: (id: string, mergeCommit: string) => Promise<void>;
  /** Argo CD base URL (config argocd.url): Slack links the target's Application */
  argocdUrl?: string | null;
  /** the configured targets (Slack links them when a sweep drains a remediation's effects) */
  targets?: { byName(name: string): Target | undefined };
}

/** How long one drainer holds a remediation's outbox at most (its effects take milliseconds; Slack a few seconds). */
const DRAIN_LEASE_MS = 30_000;

const NOTIFY_KIND: Partial<Record<RemediationState, NotifyKind>> = {
  pr_opened: 'pr_opened',
  auto_merge: 'auto_merge',
  merged: 'merged',
  denied: 'denied',
  failed: 'failed',
  closed: 'closed',
};

/**
 * Applies a lifecycle row (compare-and-set in Redis) and then its effects, in
 * the table's order. The transition writes its effects to the record's outbox
 * in the same script, and each is marked done after it ran: a failure or a
 * crash between the state write and an effect leaves it pending, and the next
 * job of the remediation (its retry, a stalled job taken over) or the sweep at
 * worker start drains it. Effects are idempotent (job ids, the release script)
 * or claimed once (Slack by the entry's token, the metric by the mark).
 */
export function createEffects(deps: EffectDeps) {
  const { store, clock, metrics } = deps;

  async function notify(
    rec: RemediationRecord,
    target: Target | undefined,
    kind: NotifyKind,
    note?: string,
    token?: string,
  ): Promise<void> {
    const now = clock.now();
    if (!(await store.claimNotification(rec.id, kind, now, token))) return; // said already (a resumed remediation)
    try {
      await deps.notifier.notify(
        eventFromRecord(rec, target, kind, {
          reasons: [...(rec.decision?.reasons ?? []), ...(note ? [note] : [])],
          error: kind === 'failed' ? rec.error : null,
          now,
          argocdUrl: deps.argocdUrl,
        }),
      );
    } catch (err) {
      // Slack is a side channel: its failure is logged and recorded, never a reason to redo a rollback.
      deps.logger.warn({ remediationId: rec.id, err: errorMessage(err) }, 'notification failed');
      await store
        .update(rec.id, { steps: { notify_failed: clock.now().toISOString() } }, clock.now())
        .catch(() => {});
    }
  }

  async function runEffect(
    rec: RemediationRecord,
    target: Target | undefined,
    p: PendingEffect,
    to: RemediationState,
  ): Promise<void> {
    const { effect } = p;
    if (effect === 'count') {
      metrics.remediations.inc({ target: rec.target, outcome: to === 'planned' ? 'dry_run' : to });
      if (to === 'pr_opened' || to === 'merged' || to === 'auto_merge') {
        const received = Date.parse(rec.steps.received ?? rec.createdAt);
        metrics.remediationDuration.observe(
          { outcome: to },
          Math.max(0, (Date.parse(p.at) - received) / 1000),
        );
      }
    } else if (effect === 'release_target') {
      await store.releaseActive(rec.target, rec.id);
    } else if (effect === 'notify') {
      const kind = NOTIFY_KIND[to];
      const note = to === 'pr_opened' || to === 'closed' ? (rec.reason ?? undefined) : undefined;
      if (kind) await notify(rec, target, kind, note, `${p.event}@${p.at}`);
    } else if (effect === 'watch') {
      await deps.enqueue(
        { kind: 'watch', remediationId: rec.id, n: 1 },
        { delayMs: deps.watchIntervalMs ?? 30_000 },
      );
    } else if (effect === 'reconcile') {
      // Once: a verdict reached since must not be reset to pending.
      if (rec.mergeCommit && rec.state === 'merged' && !rec.verification)
        await deps.afterMerge?.(rec.id, rec.mergeCommit);
    } else if (effect === 'verify_later') {
      const delayMs = deps.settings().verifyAfterSeconds * 1000;
      await deps.enqueue({ kind: 'heal_check', remediationId: rec.id }, { delayMs });
    } else if (effect === 'hand_over_resolution') {
      // Read after the state write: a resolution admitted before it is seen here, one admitted
      // after it finds the new state itself. Both may act; claimResolution lets one through.
      const resolvedAt = rec.steps.resolved;
      if (resolvedAt)
        await deps.enqueue({ kind: 'resolve', remediationId: rec.id, resolvedAt, after: 'remediation' });
    } else if (effect === 'enqueue') {
      const retried = rec.steps.retried;
      if (rec.state === 'queued' && retried)
        await deps.enqueue({ kind: 'remediate', remediationId: rec.id, retry: Date.parse(retried) });
    }
  }

  /** Marks an effect done; one more try at once, so a single lost write does not make it run twice. */
  async function markDone(id: string, p: PendingEffect): Promise<boolean> {
    try {
      return await store.effectDone(id, p.event, p.effect);
    } catch {
      return store.effectDone(id, p.event, p.effect);
    }
  }

  /**
   * Runs the remediation's pending effects, oldest transition first, each in its row's order, one
   * drainer at a time (a lease: two drains of one entry would both pass its Slack claim). Another
   * drainer holding it is waited for (`wait`), else left to finish. `fresh`: the record as just read.
   */
  async function drain(
    id: string,
    opts: { fresh?: RemediationRecord; target?: Target; wait?: boolean } = {},
  ): Promise<void> {
    if ((await store.pendingEffects(id)).length === 0) return;
    const owner = randomBytes(8).toString('hex');
    const until = Date.now() + DRAIN_LEASE_MS + 5_000;
    const take = () =>
      store.takeDrain(id, owner, DRAIN_LEASE_MS).catch(async (err: unknown) => {
        // the lease may be ours with its answer lost: give it back, or the retry waits it out
        await store.releaseDrain(id, owner).catch(() => {});
        throw err;
      });
    while (!(await take())) {
      if (opts.wait === false) return;
      if (Date.now() > until)
        throw new RewindError('in_progress', `remediation ${id}: its effects are being run elsewhere`, {
          retryable: true,
        });
      await new Promise((r) => setTimeout(r, 100));
    }
    try {
      await drainHeld(id, opts);
    } finally {
      await store.releaseDrain(id, owner).catch(() => {});
    }
  }

  async function drainHeld(id: string, opts: { fresh?: RemediationRecord; target?: Target }): Promise<void> {
    // read again under the lease: a drainer before us may have done them
    const pending = await store.pendingEffects(id);
    if (pending.length === 0) return;
    const rec = opts.fresh ?? (await store.get(id));
    if (!rec) {
      for (const p of pending) await store.effectDone(id, p.event, p.effect); // expired: nothing to do
      return;
    }
    const target = opts.target ?? deps.targets?.byName(rec.target);
    const order = (p: PendingEffect) => transitionFor(p.event).effects.indexOf(p.effect);
    pending.sort((a, b) => a.at.localeCompare(b.at) || order(a) - order(b));
    for (const p of pending) {
      const to = transitionFor(p.event).to;
      // The metric is claimed by the mark (counted at most once); the rest run, then are marked.
      if (p.effect === 'count') {
        if (await markDone(id, p)) await runEffect(rec, target, p, to);
        continue;
      }
      await runEffect(rec, target, p, to);
      await markDone(id, p);
    }
  }

  /** Returns false when the record was not in a from-state of the row (someone else moved it). */
  async function move(
    rec: RemediationRecord,
    target: Target | undefined,
    event: RemediationEvent,
    patch: Omit<RecordPatch, 'state'>,
    guard: { requireStep?: string } = {},
  ): Promise<boolean> {
    const t = transitionFor(event);
    const now = clock.now();
    const res = await store.transition(
      rec.id,
      event,
      { ...patch, ...(t.to !== 'failed' ? { error: null } : {}) },
      now,
      guard,
    );
    if (!res.applied) {
      deps.logger.info(
        { remediationId: rec.id, event, state: res.previous },
        'transition not applied: state moved on',
      );
      return false;
    }
    const fresh = (await store.get(rec.id)) ?? rec;
    Object.assign(rec, fresh);
    if (t.effects.length) await drain(rec.id, { fresh: rec, ...(target ? { target } : {}) });
    return true;
  }

  return { move, notify, drain };
}

export type Effects = ReturnType<typeof createEffects>;
