/**
 * GitHub failures → RewindError, so the worker knows whether a retry can
 * help. Messages name the operation, the call and GitHub's own message; the
 * request headers (and so the token) are never part of them.
 */
import { RewindError, errorMessage, type ErrorCode } from '../core/errors.ts';

interface HttpFailure {
  status: number;
  request?: { method?: string; url?: string };
  response?: { data?: unknown; headers?: Record<string, string | number | undefined> };
}

/**
 * Octokit reports a request that got no HTTP answer (refused, reset, timed out)
 * as status 500 without a response; tell those apart from a real 500.
 */
export function transportFailure(err: unknown): 'timeout' | 'network' | undefined {
  const e = err as { status?: unknown; response?: unknown; name?: unknown; cause?: unknown } | null;
  if (e === null || typeof e !== 'object' || e.response !== undefined) return undefined;
  const names = [e.name, (e.cause as { name?: unknown } | undefined)?.name];
  if (names.includes('TimeoutError') || names.includes('AbortError')) return 'timeout';
  return e.status === 500 || e.status === undefined ? 'network' : undefined;
}

export function httpStatus(err: unknown): number | undefined {
  const status = (err as { status?: unknown } | null)?.status;
  return typeof status === 'number' ? status : undefined;
}

/** GitHub's message plus any detail messages of a 422 "Validation Failed". */
export function githubMessage(err: unknown): string {
  const data = (err as HttpFailure | null)?.response?.data as
    { message?: unknown; errors?: unknown } | undefined;
  if (data === undefined || typeof data !== 'object' || data === null) return errorMessage(err);
  const details = Array.isArray(data.errors)
    ? data.errors
        .map((e: unknown) =>
          typeof e === 'string'
            ? e
            : typeof (e as { message?: unknown }).message === 'string'
              ? (e as { message: string }).message
              : '',
        )
        .filter((m) => m !== '')
    : [];
  const main = typeof data.message === 'string' ? data.message : errorMessage(err);
  return details.length > 0 ? `${main}: ${details.join('; ')}` : main;
}

function callOf(err: unknown): string {
  const req = (err as HttpFailure | null)?.request;
  if (req?.method === undefined || req.url === undefined) return '';
  let path = req.url;
  try {
    path = new URL(req.url).pathname;
  } catch {
    // a relative url is already a path
  }
  return ` (${req.method} ${decodeURIComponent(path)})`;
}

export interface MapOptions {
  /** this failure means "the file or branch moved under us": re-read and retry */
  isConflict?: (status: number, message: string) => boolean;
}

function isRateLimit(err: unknown, message: string): boolean {
  const remaining = (err as HttpFailure | null)?.response?.headers?.['x-ratelimit-remaining'];
  return String(remaining) === '0' || /rate limit/i.test(message);
}

const SECONDARY = /secondary rate limit/i;
// GitHub: "If you receive a secondary rate limit without a retry-after header, wait at least one minute"
const SECONDARY_DEFAULT_WAIT_MS = 60_000;

/**
 * How long GitHub asked us to wait after a rate-limited answer, from
 * `retry-after` (seconds) or, for an exhausted quota, `x-ratelimit-reset`
 * (epoch seconds, plus one second as GitHub advises); undefined when the
 * failure is not a rate limit.
 */
export function rateLimitWaitMs(err: unknown, status: number | undefined, message: string, nowMs: number) {
  if (status !== 403 && status !== 429) return undefined;
  const headers = (err as HttpFailure | null)?.response?.headers ?? {};
  const retryAfter = Number(headers['retry-after']);
  if (Number.isFinite(retryAfter) && retryAfter > 0) return Math.ceil(retryAfter) * 1000;
  const reset = Number(headers['x-ratelimit-reset']);
  if (String(headers['x-ratelimit-remaining']) === '0' && Number.isFinite(reset) && reset > 0)
    return Math.max(0, (reset + 1) * 1000 - nowMs);
  if (SECONDARY.test(message) || status === 429) return SECONDARY_DEFAULT_WAIT_MS;
  return undefined;
}

function classify(
  status: number | undefined,
  message: string,
  err: unknown,
  opts: MapOptions,
): { code: ErrorCode; retryable: boolean } {
  if (status === undefined || status >= 500) return { code: 'github_unavailable', retryable: true };
  if (opts.isConflict?.(status, message) === true) return { code: 'github_conflict', retryable: true };
  if (status === 429 || (status === 403 && isRateLimit(err, message)))
    return { code: 'github_unavailable', retryable: true };
  if (status === 401 || status === 403) return { code: 'github_auth', retryable: false };
  if (status === 404) return { code: 'github_not_found', retryable: false };
  if (status === 409) return { code: 'github_conflict', retryable: true };
  return { code: 'github_invalid', retryable: false };
}

/** GraphQL answers 200 with `errors`: NOT_FOUND and RATE_LIMITED have meaning, the rest is a bad request. */
function graphqlErrors(err: unknown): { type?: string; message?: string }[] | undefined {
  const errors = (err as { errors?: unknown } | null)?.errors;
  return (err as Error | null)?.name === 'GraphqlResponseError' && Array.isArray(errors)
    ? (errors as { type?: string; message?: string }[])
    : undefined;
}

export function toRewindError(err: unknown, operation: string, opts: MapOptions = {}): RewindError {
  if (err instanceof RewindError) return err;
  const gql = graphqlErrors(err);
  if (gql !== undefined) {
    const message = gql.map((e) => e.message ?? e.type ?? 'error').join('; ');
    // an error without a type is GitHub failing to run the query (a timeout: {"message": "timedout"}),
    // not a fault of the query: retry it
    const code: ErrorCode = gql.some((e) => e.type === 'NOT_FOUND')
      ? 'github_not_found'
      : gql.some((e) => e.type === 'RATE_LIMITED' || e.type === undefined)
        ? 'github_unavailable'
        : 'github_invalid';
    return new RewindError(code, `GitHub ${operation} failed (POST /graphql): ${message}`, {
      retryable: code === 'github_unavailable',
      cause: err,
    });
  }
  const transport = transportFailure(err);
  if (transport !== undefined) {
    const what =
      transport === 'timeout' ? 'timed out (no answer from GitHub)' : `network error: ${errorMessage(err)}`;
    return new RewindError('github_unavailable', `GitHub ${operation} failed${callOf(err)}: ${what}`, {
      retryable: true,
      cause: err,
    });
  }
  const status = httpStatus(err);
  const message = status === undefined ? errorMessage(err) : githubMessage(err);
  const { code, retryable } = classify(status, message, err, opts);
  const what = status === undefined ? message : `${status} ${message}`;
  const waitMs =
    code === 'github_unavailable' ? rateLimitWaitMs(err, status, message, Date.now()) : undefined;
  // the record keeps this message: it tells an operator why nothing happens for a while
  const wait =
    waitMs === undefined
      ? ''
      : ` (rate limited: GitHub asks to wait ${Math.ceil(waitMs / 1000)} s; the next attempt waits until then)`;
  return new RewindError(code, `GitHub ${operation} failed${callOf(err)}: ${what}${wait}`, {
    retryable,
    cause: err,
    ...(waitMs === undefined ? {} : { retryAfterMs: waitMs }),
  });
}

/** Runs one GitHub call, mapping its failure. */
export async function call<T>(operation: string, fn: () => Promise<T>, opts: MapOptions = {}): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toRewindError(err, operation, opts);
  }
}
