import type { AuditStore } from '../audit/store.ts';
import type { Clock } from '../core/ports.ts';
import type { JobData } from './queue.ts';

export type RetryOutcome =
  | { kind: 'queued'; id: string }
  | { kind: 'not_found' }
  /** only a failed remediation is retried (a retry already queued is re-enqueued, idempotently) */
  | { kind: 'conflict'; message: string };

/**
 * The dead letter's way back: a failed remediation goes to queued (lifecycle
 * row `retry`) and a new job runs it, resuming from its last checkpoint (a PR
 * it opened is looked up on GitHub, not opened again). The job id comes from
 * the retry's recorded time, so repeating the call enqueues nothing new.
 */
export async function retryRemediation(
  deps: { store: AuditStore; enqueue: (data: JobData) => Promise<void>; clock: Clock },
  id: string,
): Promise<RetryOutcome> {
  const rec = await deps.store.get(id);
  if (!rec) return { kind: 'not_found' };
  const now = deps.clock.now();
  if (rec.state === 'failed') {
    if (!(await deps.store.takeActive(rec.target, id)))
      return {
        kind: 'conflict',
        message: `another remediation of target ${rec.target} is in flight; retry ${id} once it has finished`,
      };
    const moved = await deps.store.transition(
      id,
      'retry',
      { steps: { retried: now.toISOString() }, clearSteps: ['notified_failed'] },
      now,
    );
    if (!moved.applied)
      return { kind: 'conflict', message: `remediation ${id} is ${moved.previous ?? 'gone'}, not failed` };
  } else if (!(rec.state === 'queued' && rec.steps.retried)) {
    return {
      kind: 'conflict',
      message: `remediation ${id} is ${rec.state}; only a failed remediation is retried`,
    };
  }
  const retried = (await deps.store.get(id))?.steps.retried ?? now.toISOString();
  await deps.enqueue({ kind: 'remediate', remediationId: id, retry: Date.parse(retried) });
  // the row's effect, done (left pending, a worker's sweep would enqueue the same job id)
  await deps.store.effectDone(id, 'retry', 'enqueue');
  return { kind: 'queued', id };
}
