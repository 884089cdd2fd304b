import { errorMessage, isRetryable } from '../core/errors.ts';
import { branchPrefix } from '../core/plan.ts';
import type { GitOpsRepository } from '../core/ports.ts';
import type { TargetIndex } from '../core/targets.ts';
import { fileRef } from '../remediation/decide.ts';
import { MERGED_STATES, type RemediationRecord } from '../audit/types.ts';
import type { EffectDeps, Effects } from './effects.ts';
import type { JobData } from './queue.ts';
import type { Attempt } from './worker.ts';

/** How long a PR in auto_merge is watched before rewind stops looking (GitHub still merges it). */
const MAX_WATCHES = 20_160; // a week at the default 30 s

/**
 * The jobs after a remediation's own: a resolution (close the PR, or record
 * time to recovery), watching auto-merge until GitHub merges, and the heal
 * check `verifyAfter` past a merge.
 */
export function createFollowUps(
  deps: EffectDeps & { repo: GitOpsRepository; targets: TargetIndex; dryRun: boolean },
  fx: Effects,
) {
  const { store, clock, metrics } = deps;

  async function resolve(id: string, resolvedAt: string, attempt: Attempt): Promise<void> {
    const rec = await store.get(id);
    // Still running: the remediation hands the resolution over when it finishes. No `resolved` step
    // any more: a new incident attached since is firing, so it is not over.
    if (!rec || rec.state === 'queued' || rec.state === 'deciding' || !rec.steps.resolved) return;
    if (!(await store.claimResolution(id, clock.now()))) return;
    try {
      await applyResolution(rec, rec.steps.resolved ?? resolvedAt);
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
    if (MERGED_STATES.has(rec.state)) {
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
    if (
      (rec.state !== 'pr_opened' && rec.state !== 'auto_merge') ||
      !rec.pullRequest ||
      !target ||
      rec.dryRun
    )
      return;
    if (!deps.settings().closeOnResolve) return;
    const ref = fileRef(target);
    const open = await deps.repo.findOpenPullRequest(ref, branchPrefix(target));
    if (!open || open.number !== rec.pullRequest.number) return; // merged or closed by a human meanwhile
    await deps.repo.closePullRequest(
      ref,
      open.number,
      `The alert behind remediation \`${rec.id}\` resolved at ${resolvedAt} before this rollback was merged, so rewind closes it (policy data \`closeOnResolve\`).`,
    );
    await fx.move(rec, target, 'pr_closed', {
      reason: `every alert resolved (at ${resolvedAt}): pull request closed`,
    });
  }

  /** auto_merge: GitHub merges when the checks pass; rewind looks until it has, then records it. */
  async function watch(id: string, n: number): Promise<void> {
    const rec = await store.get(id);
    if (!rec || rec.state !== 'auto_merge' || !rec.pullRequest) return;
    const target = deps.targets.byName(rec.target);
    if (!target) return;
    const pr = await deps.repo.getPullRequest(fileRef(target), rec.pullRequest.number);
    if (pr.merged) {
      await fx.move(rec, target, 'merged', pr.mergeCommitSha ? { mergeCommit: pr.mergeCommitSha } : {});
      return;
    }
    if (pr.state === 'closed') {
      await fx.move(rec, target, 'pr_closed', {
        reason: `pull request #${pr.number} was closed on GitHub before auto-merge merged it`,
      });
      return;
    }
    if (n < MAX_WATCHES)
      await deps.enqueue(
        { kind: 'watch', remediationId: id, n: n + 1 },
        { delayMs: deps.watchIntervalMs ?? 30_000 },
      );
  }

  /** verifyAfter past the merge: still firing means the rollback did not heal. Said once; never rolled back again. */
  async function healCheck(id: string): Promise<void> {
    const rec = await store.get(id);
    if (!rec || !MERGED_STATES.has(rec.state) || rec.steps.resolved || rec.notHealed) return;
    const now = clock.now();
    await store.update(id, { notHealed: true, steps: { not_healed: now.toISOString() } }, now);
    await store.recordNotHealed(rec.target, id, now);
    rec.notHealed = true;
    deps.logger.warn(
      { remediationId: id, target: rec.target },
      'rollback did not heal: the alert still fires',
    );
    await fx.notify(rec, deps.targets.byName(rec.target), 'not_healed');
  }

  return { resolve, watch, healCheck };
}

export type FollowUpJob = Exclude<JobData, { kind: 'remediate' }>;
