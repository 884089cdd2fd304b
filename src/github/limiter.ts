/**
 * The part of Bottleneck's API that @octokit/plugin-throttling drives (a limiter's `schedule` and its
 * "failed" retry hook, a group's `key(id)`), without Bottleneck's scheduling: its local datastore yields
 * to the event loop with setTimeout(0) several times per job, about 5 ms a job, and the plugins put two
 * or three jobs around every request: 15 ms per GitHub request, 150 ms of a rollback's own time
 * (bench:own-time). Here a job starts in the same tick when the limits allow it.
 */

type Job = (...args: unknown[]) => unknown;

export interface LimiterOptions {
  /** jobs running at once (default unlimited) */
  maxConcurrent?: number;
  /** least milliseconds between two job starts (default 0) */
  minTime?: number;
}

/** Bottleneck's per-job options the plugin passes: a weight-0 job (a retry) is not counted against maxConcurrent. */
interface JobOptions {
  weight?: number;
}

type FailedHandler = (error: unknown, info: { args: unknown[]; retryCount: number }) => unknown;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class Limiter {
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  private nextStart = 0;
  private onFailed: FailedHandler | undefined;

  constructor(private readonly opts: LimiterOptions = {}) {}

  /** Bottleneck's events: only "failed" is used (its handler's number is a delay before a retry). */
  on(event: string, handler: FailedHandler): this {
    if (event === 'failed') this.onFailed = handler;
    return this;
  }

  schedule(...a: unknown[]): Promise<unknown> {
    const [options, fn, args] =
      typeof a[0] === 'function'
        ? [{} as JobOptions, a[0] as Job, a.slice(1)]
        : [(a[0] ?? {}) as JobOptions, a[1] as Job, a.slice(2)];
    return this.run(options, fn, args, 0);
  }

  private async run(options: JobOptions, fn: Job, args: unknown[], retryCount: number): Promise<unknown> {
    const counted = options.weight !== 0;
    await this.start(counted);
    let failure: { error: unknown } | undefined;
    try {
      return await fn(...args);
    } catch (error) {
      failure = { error };
    } finally {
      if (counted) this.finish();
    }
    const wait = await this.onFailed?.(failure.error, { args, retryCount });
    if (typeof wait !== 'number') throw failure.error;
    await sleep(wait);
    return this.run(options, fn, args, retryCount + 1);
  }

  private async start(counted: boolean): Promise<void> {
    const max = this.opts.maxConcurrent ?? Infinity;
    if (counted) {
      if (this.running >= max) await new Promise<void>((resolve) => this.waiting.push(resolve));
      this.running += 1;
    }
    const minTime = this.opts.minTime ?? 0;
    if (minTime <= 0) return;
    const now = Date.now();
    const at = Math.max(now, this.nextStart);
    this.nextStart = at + minTime;
    if (at > now) await sleep(at - now);
  }

  private finish(): void {
    this.running -= 1;
    const next = this.waiting.shift();
    if (next) next();
  }
}

/** Bottleneck.Group's `key(id)`: one limiter per key, created on first use. */
export class LimiterGroup {
  private readonly limiters = new Map<string, Limiter>();

  constructor(private readonly opts: LimiterOptions = {}) {}

  key(id = ''): Limiter {
    let limiter = this.limiters.get(id);
    if (limiter === undefined) {
      limiter = new Limiter(this.opts);
      this.limiters.set(id, limiter);
    }
    return limiter;
  }
}
