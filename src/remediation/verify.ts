/**
 * After the merge: reconcile now, then verify (SPEC "After the merge").
 *
 * One `verify` job per remediation (job id `verify-<id>`) that re-schedules
 * itself every `pollMs` until a verdict or verify.timeout. Each run starts from
 * what is recorded and what Argo CD says now, never from memory: a crash or
 * redelivery reads the Application again, and a sync already under way for the
 * merge commit is never requested twice.
 *
 *   merged ──(job)──► refresh (+ sync when automated sync will not) ──► poll
 *   poll: Healthy at the merge commit → verified; Degraded / failed sync / error
 *         condition / 401·403·404 → unverified; deadline passed → unverified
 *   Flux: Receiver called once; events on POST /v1/flux/events give the verdict
 */
import { errorMessage, PollLater, RewindError } from '../core/errors.ts';
import type { Clock } from '../core/ports.ts';
import type { TargetIndex } from '../core/targets.ts';
import type { Target } from '../core/types.ts';
import { parseDuration } from '../config/config.ts';
import type { ArgoCdClient, AppRef } from '../argocd/client.ts';
import { assessApplication } from '../argocd/health.ts';
import { automatedSyncEnabled, type ArgoApplication } from '../argocd/types.ts';
import type { FluxReceiverCaller } from '../flux/receiver.ts';
import type { AuditStore } from '../audit/store.ts';
import type { RemediationRecord, Verification } from '../audit/types.ts';
import type { VerdictIndex } from '../audit/verdicts.ts';
import type { Notifier } from '../notify/slack.ts';
import { eventFromRecord } from '../notify/record-event.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { JobData } from '../queue/queue.ts';
import type { JobProcessor } from '../queue/worker.ts';

export const DEFAULT_VERIFY_TIMEOUT = '10m';

export interface VerifierDeps {
  store: AuditStore;
  verdicts: VerdictIndex;
  targets: TargetIndex;
  argocd: ArgoCdClient | null;
  flux: FluxReceiverCaller;
  notifier: Notifier;
  metrics: Metrics;
  clock: Clock;
  logger: Logger;
  enqueue: (data: JobData) => Promise<void>;
  /** between two reads of the Application (default 5 s) */
  pollMs?: number;
  /** Argo CD base URL (config argocd.url): Slack links the target's Application */
  argocdUrl?: string | null;
}

const appRef = (t: Target): AppRef => ({ app: t.argocd?.app ?? '', appNamespace: t.argocd?.appNamespace });

/** The merge commit is live or on its way: no sync to request. */
function alreadyUnderWay(app: ArgoApplication, sha: string): boolean {
  const st = app.status;
  return (
    app.operation?.sync?.revision === sha ||
    st?.operationState?.operation?.sync?.revision === sha ||
    st?.operationState?.syncResult?.revision === sha ||
    st?.sync?.revision === sha
  );
}

export function createVerifier(deps: VerifierDeps) {
  const { store, clock, metrics } = deps;
  const pollMs = deps.pollMs ?? 5_000;

  async function afterMerge(id: string, mergeCommit: string): Promise<void> {
    const rec = await store.get(id);
    const target = rec && deps.targets.byName(rec.target);
    if (!rec || !target || (!target.argocd && !target.flux) || !mergeCommit) return;
    const now = clock.now();
    const timeout = parseDuration(target.verify?.timeout ?? DEFAULT_VERIFY_TIMEOUT);
    const verification: Verification = {
      engine: target.argocd ? 'argocd' : 'flux',
      mergeCommit,
      mergedAt: rec.steps.merged ?? now.toISOString(),
      deadline: new Date(Date.parse(rec.steps.merged ?? now.toISOString()) + timeout).toISOString(),
      result: 'pending',
      reason: null,
      seconds: null,
    };
    await store.update(id, { verification }, now);
    await deps.enqueue({ kind: 'verify', remediationId: id });
  }

  /** Records the verdict once (a Flux event and the job may race), then Slack and metrics. */
  async function conclude(rec: RemediationRecord, result: 'verified' | 'unverified', reason: string) {
    const v = rec.verification;
    if (!v || !(await deps.verdicts.claim(rec.id))) return false;
    const now = clock.now();
    const seconds = Math.max(0, (now.getTime() - Date.parse(v.mergedAt)) / 1000);
    // A row of the lifecycle table (merged → verified | unverified), compare-and-set like every transition.
    const moved = await store.transition(
      rec.id,
      result,
      { verification: { ...v, result, reason, seconds }, steps: { [result]: now.toISOString() } },
      now,
    );
    if (!moved.applied) return false;
    metrics.verifications.inc({ result });
    if (result === 'verified') metrics.mergeToVerified.observe(seconds);
    deps.logger.info(
      { remediationId: rec.id, target: rec.target, result, seconds, reason },
      'rollback verification',
    );
    try {
      await deps.notifier.notify(
        eventFromRecord(rec, deps.targets.byName(rec.target), result, {
          reasons: [reason, `merge → ${result}: ${seconds.toFixed(1)} s (${v.mergeCommit.slice(0, 7)})`],
          error: null,
          now,
          argocdUrl: deps.argocdUrl,
        }),
      );
    } catch (err) {
      deps.logger.warn({ remediationId: rec.id, err: errorMessage(err) }, 'notification failed');
    }
    return true;
  }

  async function note(
    rec: RemediationRecord,
    v: Verification,
    reason: string,
    steps?: Record<string, string>,
  ) {
    if (v.reason === reason && !steps) return;
    await store.update(rec.id, { verification: { ...v, reason }, ...(steps ? { steps } : {}) }, clock.now());
  }

  /** Refresh; sync only when automated sync will not take the commit (or it is already under way). */
  async function reconcileArgo(
    rec: RemediationRecord,
    v: Verification,
    target: Target,
    argocd: ArgoCdClient,
  ) {
    const ref = appRef(target);
    const app = await argocd.getApplication(ref, { refresh: 'normal' });
    const at = clock.now().toISOString();
    if (alreadyUnderWay(app, v.mergeCommit) || automatedSyncEnabled(app)) {
      return note(rec, v, 'refreshed; automated sync applies the merge commit', { argocd_refreshed: at });
    }
    try {
      await argocd.sync(ref, { revision: v.mergeCommit });
    } catch (err) {
      if (err instanceof RewindError && err.code === 'argocd_busy')
        throw new PollLater(pollMs, 'another Argo CD operation is in progress; sync requested again later');
      // auto-sync switched on meanwhile refuses a pinned revision: it will apply the commit itself
      if (!(err instanceof RewindError && err.code === 'argocd_refused')) throw err;
      return note(rec, v, `sync refused, left to automated sync: ${err.message}`, { argocd_refreshed: at });
    }
    return note(rec, v, `sync of ${v.mergeCommit.slice(0, 7)} requested`, {
      argocd_refreshed: at,
      argocd_sync_requested: clock.now().toISOString(),
    });
  }

  async function step(rec: RemediationRecord, v: Verification, target: Target): Promise<void> {
    if (target.flux && !rec.steps.flux_receiver_called) {
      const [ns, name] = target.flux.kustomization.split('/');
      await deps.verdicts.expectFlux(target.flux.kustomization, v.mergeCommit, rec.id);
      await deps.flux(target.flux.receiver, {
        source: 'rewind',
        remediation: rec.id,
        kustomization: `${ns}/${name}`,
        revision: `${target.branch}@sha1:${v.mergeCommit}`,
      });
      await store.update(rec.id, { steps: { flux_receiver_called: clock.now().toISOString() } }, clock.now());
    }
    if (!target.argocd) return; // Flux: the verdict arrives as an event
    const argocd = deps.argocd;
    if (!argocd)
      throw new RewindError('config_invalid', 'target uses Argo CD but no Argo CD API is configured');
    if (!rec.steps.argocd_refreshed) await reconcileArgo(rec, v, target, argocd);
    const fresh = (await store.get(rec.id))?.verification ?? v;
    const a = assessApplication(await argocd.getApplication(appRef(target)), v.mergeCommit);
    if (a.verdict !== 'pending') {
      await conclude(rec, a.verdict, a.reason);
      return;
    }
    await note(rec, fresh, a.reason);
  }

  const process: JobProcessor = async (data) => {
    if (data.kind !== 'verify') return;
    const rec = await store.get(data.remediationId);
    const v = rec?.verification;
    if (!rec || !v || v.result !== 'pending' || rec.state !== 'merged') return;
    const target = deps.targets.byName(rec.target);
    if (!target)
      return void (await conclude(rec, 'unverified', `target ${rec.target} is no longer configured`));
    const left = Date.parse(v.deadline) - clock.now().getTime();
    if (left <= 0) {
      await conclude(
        rec,
        'unverified',
        `no verdict before verify.timeout (last: ${v.reason ?? 'nothing heard'})`,
      );
      return;
    }
    try {
      await step(rec, v, target);
    } catch (err) {
      if (err instanceof PollLater) throw err;
      if (err instanceof RewindError && !err.retryable) {
        await conclude(rec, 'unverified', err.message);
        return;
      }
      await note(rec, v, `retrying: ${errorMessage(err)}`);
    }
    const after = await store.get(rec.id);
    if (after?.verification?.result === 'pending')
      throw new PollLater(Math.min(pollMs, left), 'verification pending');
  };

  /** The queue gave up on a verify job (Redis trouble through every attempt): say so instead of pending forever. */
  async function abandoned(data: JobData, error: Error): Promise<void> {
    if (data.kind !== 'verify') return;
    const rec = await store.get(data.remediationId);
    if (rec?.verification?.result !== 'pending' || rec.state !== 'merged') return;
    await conclude(rec, 'unverified', `the queue gave up verifying: ${error.message}`);
  }

  return { afterMerge, process, conclude, abandoned };
}

export type Verifier = ReturnType<typeof createVerifier>;
