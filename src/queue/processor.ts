import { RewindError, errorMessage, isRetryable } from '../core/errors.ts';
import { headBranch } from '../core/plan.ts';
import { parseVersion } from '../core/version.ts';
import type { Clock, FileRef, GitOpsRepository, HeadFile, HistoryCache, PullRequest } from '../core/ports.ts';
import type { TargetIndex } from '../core/targets.ts';
import type { Target } from '../core/types.ts';
import { decide, fileRef } from '../remediation/decide.ts';
import type { AuditStore } from '../audit/store.ts';
import type { RemediationRecord } from '../audit/types.ts';
import type { Notifier } from '../notify/slack.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { PolicyEngine } from '../policy/types.ts';
import { createEffects, type Settings } from './effects.ts';
import { createFollowUps } from './follow-ups.ts';
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
  /** policy data switches the worker itself needs (closeOnResolve, verifyAfter) */
  settings: () => Settings;
  logger: Logger;
  clock: Clock;
  /** follow-up jobs (a resolution seen meanwhile, watching auto-merge, the heal check) */
  enqueue: (data: JobData, opts?: { delayMs?: number }) => Promise<void>;
  /** how often a PR in auto_merge is looked at (default 30 s) */
  watchIntervalMs?: number;
  /** Argo CD base URL (config argocd.url): Slack links the target's Application */
  argocdUrl?: string | null;
  /** after the merge is recorded: reconcile now and verify (src/remediation/verify.ts); verify jobs go there too */
  verifier?: { afterMerge(id: string, mergeCommit: string): Promise<void>; process: JobProcessor };
}

/** In-process re-reads when the file changes under our feet, before handing the retry to the queue. */
const CONFLICT_ATTEMPTS = 3;

/**
 * Drives a remediation through the lifecycle table (src/remediation/lifecycle.ts):
 * decide → plan → act → notify, each external effect checkpointed on the record
 * before the next. A retry, or another worker after a crash, resumes from the
 * record: a checkpointed PR is looked up on GitHub (merged? closed?) and only an
 * open, unmerged one lets the remediation decide again, which then reuses it.
 */
export function createProcessor(deps: ProcessorDeps): {
  process: JobProcessor;
  abandoned: (data: JobData, error: Error) => Promise<void>;
  sweep: () => Promise<number>;
} {
  const { store, clock } = deps;
  const { verifier } = deps;
  const fx = createEffects(
    verifier ? { ...deps, afterMerge: (id, mergeCommit) => verifier.afterMerge(id, mergeCommit) } : deps,
  );
  const { move } = fx;

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

  /** What GitHub holds for a checkpointed PR; true when that settled the remediation. */
  async function resumeFromPullRequest(rec: RemediationRecord, target: Target): Promise<boolean> {
    if (!rec.pullRequest) return false;
    const pr = await deps.repo.getPullRequest(fileRef(target), rec.pullRequest.number);
    if (pr.merged) {
      await move(rec, target, 'merged', { ...(pr.mergeCommitSha ? { mergeCommit: pr.mergeCommitSha } : {}) });
      return true;
    }
    if (pr.state === 'closed') {
      await move(rec, target, 'pr_closed', {
        reason: `pull request #${pr.number} was closed on GitHub without being merged`,
      });
      return true;
    }
    // Open and unmerged: nothing of ours reached the base branch, so deciding again is safe and reuses it.
    return false;
  }

  /**
   * Before giving up: a checkpointed PR that GitHub merged or closed is the outcome, not "failed" (the
   * last attempt's merge answer lost, or a worker killed after GitHub merged).
   */
  async function settledOnGitHub(rec: RemediationRecord, target: Target | undefined): Promise<boolean> {
    const fresh = await store.get(rec.id).catch(() => null);
    if (fresh) Object.assign(rec, fresh);
    if (!target || !rec.pullRequest) return false;
    try {
      return await resumeFromPullRequest(rec, target);
    } catch {
      return false; // GitHub is what failed: the dead letter it is
    }
  }

  /**
   * A PR opened by an attempt whose answer was lost is on GitHub but not on the record. Before a
   * resolution ends the remediation as "nothing written", look: an open rewind PR on the branch this
   * remediation decided on is ours, and is checkpointed (the resolution then closes it). Without a PR,
   * a branch (and commit) an earlier attempt wrote before the resolution would stay behind for good:
   * the branch this remediation decided on, used by no open PR, is deleted.
   */
  async function adoptWrittenPullRequest(rec: RemediationRecord, target: Target, log: Logger): Promise<void> {
    if (!rec.change?.to) return;
    const branch = headBranch(target, parseVersion(rec.change.to));
    const open = await deps.repo.findOpenPullRequest(fileRef(target), branch, { unlabelled: true });
    if (!open) {
      if (await deps.repo.deleteBranch(fileRef(target), branch))
        log.info({ branch }, 'deleted the branch an earlier attempt wrote before the alert resolved');
      return;
    }
    if (open.headBranch !== branch) return;
    rec.pullRequest = { number: open.number, url: open.htmlUrl, branch: open.headBranch };
    await store.update(rec.id, { pullRequest: rec.pullRequest }, clock.now());
  }

  async function remediateOnce(rec: RemediationRecord, target: Target, log: Logger): Promise<void> {
    if (await resumeFromPullRequest(rec, target)) return;
    const firing = rec.alerts.filter((a) => a.status === 'firing');
    const now = clock.now();
    const history = await store.rollbackHistory(target.name, now, rec.id);
    const d = await decide(deps, {
      remediationId: rec.id,
      target,
      alerts: firing.length ? firing : rec.alerts,
      targetsFiring: rec.targetsFiring,
      alertsDropped: rec.alertsDropped,
      history: {
        ...history,
        rollbacksNotHealedLastDay: await store.notHealedSince(
          target.name,
          new Date(now.getTime() - 86_400_000),
        ),
      },
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

    if (!d.analysis.candidate)
      return void (await move(rec, target, 'no_candidate', {
        reason: d.analysis.reason ?? 'no rollback candidate',
      }));
    if (!decision.allow || !plan)
      return void (await move(rec, target, 'denied', { reason: decision.reasons.join('; ') }));
    if (deps.dryRun)
      return void (await move(rec, target, 'dry_run', { reason: 'dry run: nothing written to Git' }));

    const ref = fileRef(target);
    if (openPr && openPr.headBranch !== plan.headBranch) {
      // One open rewind PR per target. An older one on another branch rolls back to another version
      // than Git's history now calls for: it is superseded, not claimed (its from/to are not ours).
      await deps.repo.closePullRequest(
        ref,
        openPr.number,
        `Superseded by remediation \`${rec.id}\`, which rolls ${target.name} back from \`${change.from}\` to \`${change.to ?? ''}\` (branch \`${plan.headBranch}\`).`,
      );
      await store.update(rec.id, { steps: { superseded_pr: `#${openPr.number}` } }, clock.now());
      log.info({ pr: openPr.number, branch: openPr.headBranch }, 'closed a superseded rewind pull request');
    }
    const pr = await deps.repo.proposeChange({
      file: ref,
      base: d.head,
      headBranch: plan.headBranch,
      content: plan.content,
      ...(plan.extraFiles ? { extraFiles: plan.extraFiles } : {}),
      commitMessage: plan.commitMessage,
      author: deps.author,
      title: plan.title,
      body: plan.prBody,
      labels: plan.labels,
      reviewers: target.reviewers,
    });
    // The branch was cut from what we read; a push to the base since then makes the PR stale and its merge
    // conflict. GitHub names the base head it saw when it created the PR: the same commit needs no re-read.
    if (pr.baseShaAtCreation !== d.head.commitSha) await assertBaseUnchanged(ref, d.head);
    const opened = clock.now();
    rec.pullRequest = { number: pr.number, url: pr.htmlUrl, branch: pr.headBranch };
    await store.update(
      rec.id,
      { pullRequest: rec.pullRequest, steps: { pr_proposed: opened.toISOString() } },
      opened,
    );
    await store.recordRollback(target.name, rec.id, opened);
    if (decision.mode !== 'merge') return void (await move(rec, target, 'pr_opened', {}));
    await mergeOrArm(rec, target, pr, { title: plan.mergeTitle, body: plan.mergeBody }, d.head, log);
  }

  async function mergeOrArm(
    rec: RemediationRecord,
    target: Target,
    pr: PullRequest,
    message: { title: string; body: string },
    head: HeadFile,
    log: Logger,
  ): Promise<void> {
    const ref = fileRef(target);
    await store.update(rec.id, { steps: { merge_requested: clock.now().toISOString() } }, clock.now());
    try {
      const { sha } = await deps.repo.mergePullRequest({
        repo: ref,
        number: pr.number,
        headSha: pr.headSha,
        commitTitle: message.title,
        commitMessage: message.body,
      });
      return void (await move(rec, target, 'merged', { mergeCommit: sha }));
    } catch (err) {
      // A lost answer (5xx, timeout) is retried, and the retry asks GitHub whether the merge went through.
      if (!(err instanceof RewindError) || err.retryable) throw err;
      // "Not mergeable" because the base moved after our check is a conflict to re-read, not a dead end.
      await assertBaseUnchanged(ref, head);
      log.info({ pr: pr.number, err: err.message }, 'merge refused; enabling auto-merge');
      const refused = `merge refused by GitHub (${err.message})`;
      let armed;
      try {
        armed = await deps.repo.enableAutoMerge(ref, pr.number, {
          commitTitle: message.title,
          commitMessage: message.body,
        });
      } catch (autoErr) {
        if (isRetryable(autoErr)) throw autoErr;
        armed = { kind: 'unavailable' as const, reason: errorMessage(autoErr) };
      }
      if (armed.kind === 'enabled')
        return void (await move(rec, target, 'merge_pending', {
          reason: `${refused}; auto-merge enabled: GitHub merges once the required checks and reviews pass`,
        }));
      if (armed.kind === 'merged') {
        // The checks passed meanwhile: what GitHub holds now decides (a retry merges it if still open).
        if (await resumeFromPullRequest(rec, target)) return;
        throw new RewindError(
          'github_conflict',
          `#${pr.number} became mergeable while auto-merge was being enabled`,
          {
            retryable: true,
          },
        );
      }
      return void (await move(rec, target, 'pr_opened', {
        reason: `${refused}; auto-merge unavailable (${armed.reason}): left open for review`,
      }));
    }
  }

  async function remediate(id: string, attempt: Attempt): Promise<void> {
    const rec = await store.get(id);
    if (!rec) throw new RewindError('not_found', `remediation ${id} has no audit record`);
    if (rec.state !== 'queued' && rec.state !== 'deciding') return; // a re-delivered job after completion
    const log = deps.logger.child({ remediationId: id, target: rec.target, jobId: attempt.jobId });
    const target = deps.targets.byName(rec.target);
    try {
      if (!target) throw new RewindError('config_invalid', `target "${rec.target}" is no longer configured`);
      if (rec.steps.resolved && !rec.pullRequest && rec.steps.decided)
        await adoptWrittenPullRequest(rec, target, log);
      if (rec.steps.resolved && !rec.pullRequest) {
        // Alertmanager says the incident is over and nothing is written yet: a rollback now would only add
        // risk. Guarded: a new incident attached since has cleared the resolution, and then it goes on.
        const ended = await move(
          rec,
          target,
          'resolved_before_start',
          { reason: `every alert resolved (at ${rec.steps.resolved}) before the rollback started` },
          { requireStep: 'resolved' },
        );
        if (ended) return;
        const fresh = await store.get(id);
        if (!fresh || (fresh.state !== 'queued' && fresh.state !== 'deciding')) return;
        Object.assign(rec, fresh);
      }
      if (rec.state === 'queued') {
        // compare-and-set: a second delivery of the job finds it taken
        if (!(await move(rec, target, 'start', { steps: { deciding: clock.now().toISOString() } }))) return;
      } else {
        log.info({ attempt: attempt.number }, 'resuming from the last checkpoint');
      }
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
        // Only a remediation still at work carries the attempt's error: one whose outcome is written
        // failed after it (an effect left for the retry to drain), and its outcome stands.
        const now = await store.get(id);
        if (now && (now.state === 'queued' || now.state === 'deciding'))
          await store.update(id, { error: message }, clock.now());
        throw err;
      }
      if (await settledOnGitHub(rec, target)) return;
      log.error({ err: message, attempt: attempt.number }, 'remediation failed');
      await move(rec, target, 'gave_up', { error: message });
      throw err;
    }
  }

  const followUps = createFollowUps(deps, fx);

  /**
   * BullMQ gave up on a job without the processor recording it (a job that
   * stalled too often: a worker killed mid-run). Without this the record
   * would stay "deciding" and hold the target's in-flight marker for hours.
   */
  async function abandoned(data: JobData, error: Error): Promise<void> {
    if (data.kind !== 'remediate') return;
    // Effects of an outcome written before the last attempt failed: one more try (else the sweep at start).
    await fx.drain(data.remediationId).catch(() => null);
    const rec = await store.get(data.remediationId);
    if (!rec || (rec.state !== 'queued' && rec.state !== 'deciding')) return;
    if (await settledOnGitHub(rec, deps.targets.byName(rec.target))) return;
    const message = `the queue gave up on this remediation: ${error.message}`;
    deps.logger.error(
      { remediationId: rec.id, target: rec.target, err: error.message },
      'remediation abandoned',
    );
    await move(rec, deps.targets.byName(rec.target), 'gave_up', { error: message });
  }

  /**
   * At worker start: the effects a crashed or failed worker left pending (its job may never run again:
   * it finished, or failed for good). Each is idempotent or claimed once, so racing a live drain is safe.
   */
  async function sweep(): Promise<number> {
    let drained = 0;
    for (const id of await store.withPendingEffects()) {
      try {
        await fx.drain(id, { wait: false }); // one held elsewhere is being drained by a live worker
        drained += 1;
      } catch (err) {
        deps.logger.warn({ remediationId: id, err: errorMessage(err) }, 'pending effects not drained');
      }
    }
    return drained;
  }

  const process: JobProcessor = async (data, attempt) => {
    // Whatever the job, first what an earlier transition of its remediation left undone.
    await fx.drain(data.remediationId);
    if (data.kind === 'remediate') return remediate(data.remediationId, attempt);
    if (data.kind === 'resolve') return followUps.resolve(data.remediationId, data.resolvedAt, attempt);
    if (data.kind === 'watch') return followUps.watch(data.remediationId, data.n);
    if (data.kind === 'heal_check') return followUps.healCheck(data.remediationId);
    return deps.verifier?.process(data, attempt);
  };
  return { process, abandoned, sweep };
}
