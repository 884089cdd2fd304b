import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { SpanKind, contextFrom, traceCarrier, withSpan } from '../observability/tracing.ts';

export const QUEUE_NAME = 'remediations';

export type JobData =
  /** `retry`: an operator's retry of a failed remediation (a new job id: the failed job stays inspectable) */
  (
    | { kind: 'remediate'; remediationId: string; retry?: number }
    /** `after: 'remediation'`: handed over by a remediation that finished after the alert resolved */
    | { kind: 'resolve'; remediationId: string; resolvedAt: string; after?: 'remediation' }
    /** poll a PR in auto_merge until GitHub merges or closes it (`n`: the how-manieth look) */
    | { kind: 'watch'; remediationId: string; n: number }
    /** verifyAfter past a merge: escalate once if the incident still fires */
    | { kind: 'heal_check'; remediationId: string }
    /** after the merge: ask the GitOps engine to reconcile, then poll it until a verdict (src/remediation/verify.ts) */
    | { kind: 'verify'; remediationId: string }
  ) & {
    /** W3C trace context of the producer (traceparent, tracestate): the worker continues its trace */
    trace?: Record<string, string>;
  };

/** SPEC: 5 attempts, 5 s doubling, at most 3 min. */
export const ATTEMPTS = 5;
export const BACKOFF_BASE_MS = 5_000;
export const BACKOFF_MAX_MS = 180_000;

export function backoffDelay(attemptsMade: number, baseMs = BACKOFF_BASE_MS): number {
  return Math.min(baseMs * 2 ** Math.max(0, attemptsMade - 1), BACKOFF_MAX_MS);
}

export function bullPrefix(prefix: string): string {
  return `${prefix}:bull`;
}

/** BullMQ's Redis key of a remediation's (first) job, without the remediation id: `<bull prefix>:<queue>:<job id>`. */
export function remediateJobKeyPrefix(prefix: string): string {
  return `${bullPrefix(prefix)}:${QUEUE_NAME}:remediate-`;
}

const JOB_OPTIONS: JobsOptions = {
  attempts: ATTEMPTS,
  backoff: { type: 'rewind' },
  removeOnComplete: { age: 7 * 24 * 3600, count: 10_000 },
  removeOnFail: { age: 30 * 24 * 3600 },
};

/**
 * Deterministic job ids: re-adding a job that exists is a no-op in BullMQ, so
 * the webhook can enqueue on every (re)delivery without duplicating work.
 */
export function jobId(data: JobData): string {
  if (data.kind === 'remediate')
    return data.retry
      ? `remediate-${data.remediationId}-retry-${data.retry}`
      : `remediate-${data.remediationId}`;
  if (data.kind === 'watch') return `watch-${data.remediationId}-${data.n}`;
  if (data.kind === 'heal_check') return `heal-check-${data.remediationId}`;
  if (data.kind === 'verify') return `verify-${data.remediationId}`;
  return data.after ? `resolve-${data.remediationId}-after-${data.after}` : `resolve-${data.remediationId}`;
}

export interface RemediationQueue {
  enqueue(data: JobData, opts?: { delayMs?: number }): Promise<void>;
  /** several jobs in one round trip (the webhook's new remediations) */
  enqueueMany(data: readonly JobData[]): Promise<void>;
  counts(): Promise<Record<string, number>>;
  close(): Promise<void>;
  queue: Queue<JobData>;
}

export function createRemediationQueue(opts: {
  connection: Redis | ConnectionOptions;
  prefix: string;
}): RemediationQueue {
  const queue = new Queue<JobData>(QUEUE_NAME, {
    connection: opts.connection,
    prefix: bullPrefix(opts.prefix),
    defaultJobOptions: JOB_OPTIONS,
    // producers on the HTTP path must fail fast, not wait for Redis to come back
    skipWaitingForReady: true,
  });
  // BullMQ re-emits connection errors on the queue; without a listener they crash the process.
  queue.on('error', () => {});
  /**
   * One producer span around the add (or the bulk add): each job carries it as its parent,
   * continuing the trace the first job names (the webhook request) or the active one (a worker's
   * follow-up). Without tracing the data stays as it was.
   */
  const publish = (jobs: readonly JobData[], add: (jobs: JobData[]) => Promise<void>) =>
    withSpan(
      `${QUEUE_NAME} publish`,
      {
        kind: SpanKind.PRODUCER,
        parent: contextFrom(jobs[0]?.trace),
        attributes: {
          'messaging.system': 'bullmq',
          'messaging.destination.name': QUEUE_NAME,
          ...(jobs.length === 1 && jobs[0]
            ? { 'messaging.message.id': jobId(jobs[0]) }
            : { 'messaging.batch.message_count': jobs.length }),
        },
      },
      async () => {
        const trace = traceCarrier();
        await add(
          jobs.map(({ trace: _producer, ...rest }) => (trace ? { ...rest, trace } : rest) as JobData),
        );
      },
    );
  return {
    queue,
    async enqueue(data, opts = {}) {
      await publish([data], async ([job]) => {
        if (!job) return;
        await queue.add(job.kind, job, {
          jobId: jobId(job),
          ...(opts.delayMs ? { delay: opts.delayMs } : {}),
        });
      });
    },
    async enqueueMany(data) {
      if (data.length === 0) return;
      await publish(data, async (jobs) => {
        if (jobs.length === 1 && jobs[0]) await queue.add(jobs[0].kind, jobs[0], { jobId: jobId(jobs[0]) });
        else await queue.addBulk(jobs.map((d) => ({ name: d.kind, data: d, opts: { jobId: jobId(d) } })));
      });
    },
    async counts() {
      return queue.getJobCounts(
        'waiting',
        'active',
        'delayed',
        'failed',
        'completed',
        'prioritized',
        'waiting-children',
      );
    },
    close: () => queue.close(),
  };
}
