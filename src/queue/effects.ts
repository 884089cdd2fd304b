import { errorMessage } from '../core/errors.ts';
import type { Clock } from '../core/ports.ts';
import type { Target } from '../core/types.ts';
import type { AuditStore, RecordPatch } from '../audit/store.ts';
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
}

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
 * the table's order. Effects after the state write are each idempotent or
 * claimed once (Slack), so a crash between them and a retry cannot double them.
 */
export function createEffects(deps: EffectDeps) {
  const { store, clock, metrics } = deps;

  async function notify(
    rec: RemediationRecord,
    target: Target | undefined,
    kind: NotifyKind,
    note?: string,
  ): Promise<void> {
    const now = clock.now();
    if (!(await store.claimNotification(rec.id, kind, now))) return; // said already (a resumed remediation)
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
      await store.update(rec.id, { steps: { notify_failed: clock.now().toISOString() } }, clock.now());
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
    for (const effect of t.effects) {
      if (effect === 'count') {
        metrics.remediations.inc({ target: rec.target, outcome: t.to === 'planned' ? 'dry_run' : t.to });
        if (t.to === 'pr_opened' || t.to === 'merged' || t.to === 'auto_merge') {
          const received = Date.parse(rec.steps.received ?? rec.createdAt);
          metrics.remediationDuration.observe(
            { outcome: t.to },
            Math.max(0, (now.getTime() - received) / 1000),
          );
        }
      } else if (effect === 'release_target') {
        await store.releaseActive(rec.target, rec.id);
      } else if (effect === 'notify') {
        const kind = NOTIFY_KIND[t.to];
        if (kind)
          await notify(
            rec,
            target,
            kind,
            t.to === 'pr_opened' || t.to === 'closed' ? (patch.reason ?? undefined) : undefined,
          );
      } else if (effect === 'watch') {
        await deps.enqueue(
          { kind: 'watch', remediationId: rec.id, n: 1 },
          { delayMs: deps.watchIntervalMs ?? 30_000 },
        );
      } else if (effect === 'reconcile') {
        if (rec.mergeCommit) await deps.afterMerge?.(rec.id, rec.mergeCommit);
      } else if (effect === 'verify_later') {
        const delayMs = deps.settings().verifyAfterSeconds * 1000;
        await deps.enqueue({ kind: 'heal_check', remediationId: rec.id }, { delayMs });
      } else if (effect === 'hand_over_resolution') {
        // Read after the state write: a resolution admitted before it is seen here, one admitted
        // after it finds the new state itself. Both may act; claimResolution lets one through.
        const resolvedAt = rec.steps.resolved;
        if (resolvedAt)
          await deps.enqueue({ kind: 'resolve', remediationId: rec.id, resolvedAt, after: 'remediation' });
      }
    }
    return true;
  }

  return { move, notify };
}

export type Effects = ReturnType<typeof createEffects>;
