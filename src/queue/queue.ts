import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { SpanKind, contextFrom, traceCarrier, withSpan } from '../observability/tracing.ts';

export const QUEUE_NAME = 'remediations';

export type JobData = (
  | { kind: 'remediate'; remediationId: string }
  /** `after: 'remediation'`: handed over by a remediation that finished after the alert resolved */
  | { kind: 'resolve'; remediationId: string; resolvedAt: string; after?: 'remediation' }
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
  if (data.kind === 'remediate') return `remediate-${data.remediationId}`;
  return data.after ? `resolve-${data.remediationId}-after-${data.after}` : `resolve-${data.remediationId}`;
}

export interface RemediationQueue {
  enqueue(data: JobData): Promise<void>;
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
  return {
    queue,
    async enqueue(data) {
      await withSpan(
        `${QUEUE_NAME} publish`,
        {
          kind: SpanKind.PRODUCER,
          parent: contextFrom(data.trace),
          attributes: {
            'messaging.system': 'bullmq',
            'messaging.destination.name': QUEUE_NAME,
            'messaging.message.id': jobId(data),
          },
        },
        async () => {
          // the job carries this span as its parent; without tracing the data stays as it was
          const trace = traceCarrier();
          const { trace: _producer, ...rest } = data;
          await queue.add(data.kind, trace ? { ...rest, trace } : rest, { jobId: jobId(data) });
        },
      );
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
