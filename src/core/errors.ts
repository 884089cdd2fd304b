/**
 * Typed errors. Every error rewind raises on purpose carries a stable `code`
 * and says whether retrying the same work can help. Only the queue worker turns
 * a non-retryable error into BullMQ's UnrecoverableError.
 */
export type ErrorCode =
  | 'config_invalid'
  | 'manifest_unsupported'
  | 'manifest_ambiguous'
  | 'image_not_found'
  | 'edit_not_confirmed'
  | 'github_auth'
  | 'github_not_found'
  | 'github_conflict'
  | 'github_unavailable'
  | 'github_invalid'
  | 'policy_unavailable'
  | 'policy_invalid_output'
  | 'queue_unavailable'
  | 'argocd_auth'
  | 'argocd_not_found'
  | 'argocd_unavailable'
  | 'argocd_busy'
  | 'argocd_refused'
  | 'argocd_invalid'
  | 'flux_unavailable'
  | 'flux_refused'
  | 'in_progress'
  | 'not_found';

export class RewindError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;

  constructor(code: ErrorCode, message: string, options: { retryable?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RewindError';
    this.code = code;
    this.retryable = options.retryable ?? false;
  }
}

export function isRetryable(err: unknown): boolean {
  return err instanceof RewindError ? err.retryable : true;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Not a failure: the job looks again after `delayMs` (verification polling Argo CD).
 * The worker re-schedules the same job, so its id stays the same and no attempt is used up.
 */
export class PollLater extends Error {
  readonly delayMs: number;

  constructor(delayMs: number, reason: string) {
    super(reason);
    this.name = 'PollLater';
    this.delayMs = delayMs;
  }
}
