import { leadAlert } from '../core/alerts.ts';
import { RewindError, errorMessage, isRetryable } from '../core/errors.ts';
import { branchPrefix } from '../core/plan.ts';
import type { Clock, FileRef, GitOpsRepository, HeadFile, HistoryCache, PullRequest } from '../core/ports.ts';
import type { TargetIndex } from '../core/targets.ts';
import type { Target } from '../core/types.ts';
import { decide, fileRef } from '../remediation/decide.ts';
import type { AuditStore } from '../audit/store.ts';
import { TERMINAL_STATES, type RemediationRecord, type RemediationState } from '../audit/types.ts';
import type { Notifier, NotifyKind } from '../notify/slack.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { Decision, PolicyEngine } from '../policy/types.ts';
import type { JobData } from './queue.ts';
import type { Attempt, JobProcessor } from './worker.ts';

export interface ProcessorDeps {
  store: AuditStore;
  repo: GitOpsRepository;
  /** what earlier history walks learned (optional: without it every walk is cold) */
  historyCache?: HistoryCache;
  policy: PolicyEngine;
  notifier: Notifier;
  metrics: Metrics;
  targets: TargetIndex;
  author: { name: string; email: string };
  dryRun: boolean;
  /** policy data switches the worker itself needs (closeOnResolve) */
  settings: () => { closeOnResolve: boolean };
  logger: Logger;
  clock: Clock;
  /** follow-up jobs (a resolution seen while the remediation was running) */
  enqueue: (data: JobData) => Promise<void>;
}

/** In-process re-reads when the file changes under our feet, before handing the retry to the queue. */
const CONFLICT_ATTEMPTS = 3;

/**
 * decide → plan → act → notify (Flux's split: the processor only orchestrates).
 * Every step is idempotent, so a retried job converges instead of duplicating.
 */
export function createProcessor(deps: ProcessorDeps): {
  process: JobProcessor;
  abandoned: (data: JobData, error: Error) => Promise<void>;
} {
  const { store, metrics, clock } = deps;

  async function finish(
    rec: RemediationRecord,
    target: Target | undefined,
    state: RemediationState,
    extra: {
      decision?: Decision;
      reason?: string;
      error?: string;
      pr?: PullRequest | null;
      notify?: NotifyKind;
    },
  ) {
    const now = clock.now();
    await store.update(
      rec.id,
      {
        state,
        ...(extra.reason !== undefined ? { reason: extra.reason } : {}),
        // success clears what a failed earlier attempt left behind
        error: extra.error ?? null,
        steps: { [state]: now.toISOString() },
      },
      now,
    );
    await store.releaseActive(rec.target, rec.id);
    const outcome = state === 'planned' ? 'dry_run' : state;
    metrics.remediations.inc({ target: rec.target, outcome });
    if (state === 'pr_opened' || state === 'merged') {
      const received = Date.parse(rec.steps.received ?? rec.createdAt);
      metrics.remediationDuration.observe({ outcome: state }, Math.max(0, (now.getTime() - received) / 1000));
    }
    if (extra.notify) await notify(rec, target, extra.notify, extra);
    if (state === 'pr_opened' || state === 'merged') {
      // Read after the terminal write: a resolution admitted before it is seen here, one admitted
      // after it finds the terminal state itself. Both may act; claimResolution lets one through.
      const resolvedAt = (await store.get(rec.id))?.steps.resolved;
      if (resolvedAt)
        await deps.enqueue({ kind: 'resolve', remediationId: rec.id, resolvedAt, after: 'remediation' });
    }
  }

  async function notify(
    rec: RemediationRecord,
    target: Target | undefined,
    kind: NotifyKind,
    extra: { decision?: Decision; error?: string; pr?: PullRequest | null },
  ) {
    const lead = rec.alerts.length ? leadAlert(rec.alerts) : undefined;
    try {
      await deps.notifier.notify({
        kind,
        remediationId: rec.id,
        target: rec.target,
        environment: target?.environment ?? '',
        alertName: lead?.labels.alertname ?? '',
        severity: lead?.labels.severity ?? '',
        from: rec.change?.from ?? null,
        to: rec.change?.to ?? null,
        reasons: extra.decision?.reasons ?? rec.decision?.reasons ?? [],
        prUrl: extra.pr?.htmlUrl ?? rec.pullRequest?.url ?? null,
        error: extra.error ?? null,
        dryRun: rec.dryRun,
      });
    } catch (err) {
      // Slack is a side channel: its failure is logged and recorded, never a reason to redo a rollback.
      deps.logger.warn({ remediationId: rec.id, err: errorMessage(err) }, 'notification failed');
      await store.update(rec.id, { steps: { notify_failed: clock.now().toISOString() } }, clock.now());
    }
  }

  /** Re-reads the file at the base branch head: a different blob than the one the rollback was built on is a conflict. */
  async function assertBaseUnchanged(ref: FileRef, read: HeadFile): Promise<void> {
    const now = await deps.repo.readFile(ref);
    if (now.blobSha === read.blobSha) return;
    throw new RewindError(
      'github_conflict',
      `${ref.path} changed on ${ref.branch} (now at ${now.commitSha.slice(0, 7)}) while the rollback was being written; re-reading`,
      { retryable: true },
    );
  }

  async function remediateOnce(rec: RemediationRecord, target: Target, log: Logger): Promise<void> {
    const firing = rec.alerts.filter((a) => a.status === 'firing');
    const now = clock.now();
    const d = await decide(deps, {
      remediationId: rec.id,
      target,
      alerts: firing.length ? firing : rec.alerts,
      targetsFiring: rec.targetsFiring,
      history: await store.rollbackHistory(target.name, now, rec.id),
      now,
    });
    const { decision, change, plan, openPr } = d;
    await store.update(rec.id, { change, decision, steps: { decided: now.toISOString() } }, now);
    rec.change = change;
    rec.decision = decision;
    log.info(
      { change, allow: decision.allow, mode: decision.mode, reasons: decision.reasons },
      'policy decided',
    );

    if (!d.analysis.candidate) {
      return finish(rec, target, 'noop', { decision, reason: d.analysis.reason ?? 'no rollback candidate' });
    }
    if (!decision.allow || !plan) {
      return finish(rec, target, 'denied', {
        decision,
        reason: decision.reasons.join('; '),
        notify: 'denied',
      });
    }
    if (deps.dryRun)
      return finish(rec, target, 'planned', { decision, reason: 'dry run: nothing written to Git' });

    const ref = fileRef(target);
    if (openPr && openPr.headBranch !== plan.headBranch) {
      // One open rewind PR per target: a second one would race the first for the same file.
      await store.update(
        rec.id,
        { pullRequest: { number: openPr.number, url: openPr.htmlUrl, branch: openPr.headBranch } },
        now,
      );
      return finish(rec, target, 'pr_opened', {
        decision,
        pr: openPr,
        reason: `reused open rewind pull request #${openPr.number} (${openPr.headBranch}); not merged automatically`,
        notify: 'pr_opened',
      });
    }
    const pr = await deps.repo.proposeChange({
      file: ref,
      base: d.head,
      headBranch: plan.headBranch,
      content: plan.content,
      commitMessage: plan.commitMessage,
      author: deps.author,
      title: plan.title,
      body: plan.prBody,
      labels: plan.labels,
      reviewers: target.reviewers,
    });
    // The branch was cut from what we read; a push to the base since then makes the PR stale and its merge conflict.
    await assertBaseUnchanged(ref, d.head);
    const opened = clock.now();
    await store.update(
      rec.id,
      {
        pullRequest: { number: pr.number, url: pr.htmlUrl, branch: pr.headBranch },
        steps: { pr_proposed: opened.toISOString() },
      },
      opened,
    );
    await store.recordRollback(target.name, rec.id, opened);
    if (decision.mode !== 'merge')
      return finish(rec, target, 'pr_opened', { decision, pr, notify: 'pr_opened' });
    try {
      await deps.repo.mergePullRequest({
        repo: ref,
        number: pr.number,
        headSha: pr.headSha,
        commitTitle: plan.mergeTitle,
        commitMessage: plan.mergeBody,
      });
    } catch (err) {
      if (!(err instanceof RewindError) || err.retryable) throw err;
      // "Not mergeable" because the base moved after our check is a conflict to re-read, not a dead end.
      await assertBaseUnchanged(ref, d.head);
      // Otherwise GitHub refuses for good (branch protection, required checks or reviews): the
      // rollback is ready and open, so it is a PR for review, not a failure.
      log.warn({ pr: pr.number, err: err.message }, 'merge refused; left open for review');
      return finish(rec, target, 'pr_opened', {
        decision,
        pr,
        reason: `merge refused by GitHub, left open for review: ${err.message}`,
        notify: 'pr_opened',
      });
    }
    return finish(rec, target, 'merged', { decision, pr, notify: 'merged' });
  }

  async function remediate(id: string, attempt: Attempt): Promise<void> {
    const rec = await store.get(id);
    if (!rec) throw new RewindError('not_found', `remediation ${id} has no audit record`);
    if (TERMINAL_STATES.has(rec.state)) return; // a re-delivered job after completion
    const log = deps.logger.child({ remediationId: id, target: rec.target, jobId: attempt.jobId });
    const target = deps.targets.byName(rec.target);
    try {
      if (!target) throw new RewindError('config_invalid', `target "${rec.target}" is no longer configured`);
      if (rec.steps.resolved) {
        // Alertmanager says the incident is over: a rollback now would only add risk.
        return await finish(rec, target, 'noop', {
          reason: `every alert resolved (at ${rec.steps.resolved}) before the rollback started`,
        });
      }
      await store.update(
        id,
        { state: 'processing', steps: { processing: clock.now().toISOString() } },
        clock.now(),
      );
      for (let i = 1; ; i++) {
        try {
          return await remediateOnce(rec, target, log);
        } catch (err) {
          if (!(err instanceof RewindError && err.code === 'github_conflict') || i >= CONFLICT_ATTEMPTS)
            throw err;
          log.info({ attempt: i, err: err.message }, 'file changed under us; re-reading');
        }
      }
    } catch (err) {
      const message = errorMessage(err);
      if (isRetryable(err) && !attempt.last) {
        log.warn({ err: message, attempt: attempt.number }, 'remediation attempt failed; will retry');
        await store.update(id, { error: message }, clock.now());
        throw err;
      }
      log.error({ err: message, attempt: attempt.number }, 'remediation failed');
      await finish(rec, target, 'failed', { error: message, notify: 'failed' });
      throw err;
    }
  }

  async function resolve(id: string, resolvedAt: string, attempt: Attempt): Promise<void> {
    const rec = await store.get(id);
    // Still running: the remediation hands the resolution over when it finishes (see finish()).
    if (!rec || rec.state === 'queued' || rec.state === 'processing') return;
    if (!(await store.claimResolution(id, clock.now()))) return;
    try {
      await applyResolution(rec, resolvedAt);
    } catch (err) {
      await store.releaseResolution(id);
      if (!isRetryable(err) || attempt.last) {
        await store.update(
          id,
          {
            error: `resolution: ${errorMessage(err)}`,
            steps: { resolution_failed: clock.now().toISOString() },
          },
          clock.now(),
        );
      }
      throw err;
    }
  }

  async function applyResolution(rec: RemediationRecord, resolvedAt: string): Promise<void> {
    const target = deps.targets.byName(rec.target);
    const log = deps.logger.child({ remediationId: rec.id, target: rec.target });
    const now = clock.now();
    if (rec.state === 'merged') {
      const start = Math.min(
        ...rec.alerts.map((a) => Date.parse(a.startsAt)).filter((t) => !Number.isNaN(t)),
      );
      const ttr = Math.max(0, (Date.parse(resolvedAt) - start) / 1000);
      if (Number.isFinite(ttr)) {
        metrics.timeToRecovery.observe(ttr);
        await store.update(rec.id, { timeToRecoverySeconds: ttr, steps: { recovered: resolvedAt } }, now);
        log.info({ timeToRecoverySeconds: ttr }, 'recovered after rollback');
      }
      return;
    }
    if (rec.state !== 'pr_opened' || !rec.pullRequest || !target || rec.dryRun) return;
    if (!deps.settings().closeOnResolve) return;
    const ref = fileRef(target);
    const open = await deps.repo.findOpenPullRequest(ref, branchPrefix(target));
    if (!open || open.number !== rec.pullRequest.number) return; // merged or closed by a human meanwhile
    await deps.repo.closePullRequest(
      ref,
      open.number,
      `The alert behind remediation \`${rec.id}\` resolved at ${resolvedAt} before this rollback was merged, so rewind closes it (policy data \`closeOnResolve\`).`,
    );
    await finish(rec, target, 'closed', { notify: 'closed' });
  }

  /**
   * BullMQ gave up on a job without the processor recording it (a job that
   * stalled too often: a worker killed mid-run). Without this the record
   * would stay "processing" and hold the target's in-flight marker for hours.
   */
  async function abandoned(data: JobData, error: Error): Promise<void> {
    if (data.kind !== 'remediate') return;
    const rec = await store.get(data.remediationId);
    if (!rec || TERMINAL_STATES.has(rec.state)) return;
    const message = `the queue gave up on this remediation: ${error.message}`;
    deps.logger.error(
      { remediationId: rec.id, target: rec.target, err: error.message },
      'remediation abandoned',
    );
    await finish(rec, deps.targets.byName(rec.target), 'failed', { error: message, notify: 'failed' });
  }

  const process: JobProcessor = async (data, attempt) => {
    if (data.kind === 'remediate') return remediate(data.remediationId, attempt);
    return resolve(data.remediationId, data.resolvedAt, attempt);
  };
  return { process, abandoned };
}
