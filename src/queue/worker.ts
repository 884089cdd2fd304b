import { DelayedError, UnrecoverableError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { errorMessage, isRetryable, PollLater } from '../core/errors.ts';
import { SpanKind, contextFrom, withSpan } from '../observability/tracing.ts';
import { ATTEMPTS, backoffDelay, bullPrefix, QUEUE_NAME, type JobData } from './queue.ts';

export interface Attempt {
  number: number;
  /** no retry follows this attempt if it fails */
  last: boolean;
  jobId: string;
}

/** Processes one job. Throwing a non-retryable RewindError ends the job at once. */
export type JobProcessor = (data: JobData, attempt: Attempt) => Promise<void>;

export interface WorkerOptions {
  connection: Redis | ConnectionOptions;
  prefix: string;
  concurrency: number;
  process: JobProcessor;
  /** base of the exponential backoff; tests shorten it */
  backoffBaseMs?: number;
  onError?: (err: Error) => void;
  /** BullMQ's job lock and stalled-job check (defaults 30 s); tests shorten them to recover a killed worker's job quickly */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  /** the job failed for good (no retry follows); called after BullMQ recorded it */
  onFinalFailure?: (data: JobData, err: Error) => Promise<void>;
}

export function createQueueWorker(opts: WorkerOptions): Worker<JobData> {
  const worker = new Worker<JobData>(
    QUEUE_NAME,
    async (job: Job<JobData>, token?: string) => {
      const attempt = job.attemptsMade + 1;
      const maxAttempts = job.opts.attempts ?? ATTEMPTS;
      try {
        await withSpan(
          `${QUEUE_NAME} process ${job.data.kind}`,
          {
            kind: SpanKind.CONSUMER,
            parent: contextFrom(job.data.trace),
            attributes: {
              'messaging.system': 'bullmq',
              'messaging.destination.name': QUEUE_NAME,
              'messaging.message.id': job.id ?? '',
              'rewind.remediation.id': job.data.remediationId,
              'rewind.attempt': attempt,
            },
          },
          () =>
            opts.process(job.data, { number: attempt, last: attempt >= maxAttempts, jobId: job.id ?? '' }),
        );
      } catch (err) {
        if (err instanceof PollLater) {
          // BullMQ's documented way for a job to run again later under the same id
          await job.moveToDelayed(Date.now() + err.delayMs, token);
          throw new DelayedError();
        }
        // Only the worker decides between retry and give-up (STYLE habit 4).
        if (!isRetryable(err)) throw new UnrecoverableError(errorMessage(err));
        throw err;
      }
    },
    {
      connection: opts.connection,
      prefix: bullPrefix(opts.prefix),
      concurrency: opts.concurrency,
      ...(opts.lockDurationMs !== undefined ? { lockDuration: opts.lockDurationMs } : {}),
      ...(opts.stalledIntervalMs !== undefined ? { stalledInterval: opts.stalledIntervalMs } : {}),
      settings: { backoffStrategy: (attemptsMade: number) => backoffDelay(attemptsMade, opts.backoffBaseMs) },
    },
  );
  worker.on('error', (err) => opts.onError?.(err));
  worker.on('failed', (job, err) => {
    if (!job || !opts.onFinalFailure) return;
    const handler = opts.onFinalFailure;
    // 'failed' fires for every failed attempt; only the final one leaves the job in the failed set.
    void job
      .getState()
      .then((state) => (state === 'failed' ? handler(job.data, err) : undefined))
      .catch((e: unknown) => opts.onError?.(e as Error));
  });
  return worker;
}
