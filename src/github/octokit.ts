/**
 * The Octokit client rewind uses: retries for 5xx and network errors,
 * throttling for rate limits, a request counter, and token or GitHub App auth.
 * Built per process by the composition root; tests point it at the emulator.
 */
import { createAppAuth } from '@octokit/auth-app';
import { throttling } from '@octokit/plugin-throttling';
import { Octokit } from '@octokit/rest';
import { transportFailure } from './errors.ts';
import { Limiter, LimiterGroup } from './limiter.ts';
import { redactUrl, silentLogger, type LogSink } from '../observability/logger.ts';
import { SpanKind, withSpan } from '../observability/tracing.ts';

export type GitHubClient = Octokit;

/** `kind` is optional so the config's auth value can be passed as is; 'none' is anonymous (public repos only). */
export type GitHubAuthOptions =
  | { kind?: 'token'; token: string }
  | { kind?: 'app'; appId: string | number; privateKey: string; installationId: string | number }
  | { kind: 'none' };

/** The part of a prom-client Counter<'method' | 'status'> rewind uses. */
export interface RequestCounter {
  inc(labels: { method: string; status: string }, value?: number): void;
}

export interface GitHubMetrics {
  githubRequests: RequestCounter;
  /** rate-limited answers from GitHub, by kind (primary, secondary) */
  githubRateLimits?: { inc(labels: { kind: string }): void };
}

/** pino-shaped: an object, then a static message. */
export interface CreateOctokitOptions {
  /** https://api.github.com, a GHES https://host/api/v3, or the emulator's URL */
  baseUrl: string;
  auth: GitHubAuthOptions;
  request?: { fetch?: typeof fetch };
  logger?: LogSink;
  metrics?: GitHubMetrics;
  /** retries of a 5xx or network failure (default 3; 0 in tests so an injected 500 fails at once) */
  retries?: number;
  /** base of the retry delays (default 1000 ms: 1 s, 4 s, 9 s after errors; GitHub's retry-after in seconds after rate limits) */
  retryAfterBaseMs?: number;
  /** retries after a primary or secondary rate limit (default 2) ... */
  rateLimitRetries?: number;
  /** ... when GitHub asks to wait at most this long (default 60 s) */
  maxRetryAfterSeconds?: number;
  /**
   * GitHub asks integrations to space content-creating requests about a second
   * apart to avoid secondary rate limits; the throttling plugin does so by
   * default. Tests and the demo against the emulator turn it off.
   */
  spaceWrites?: boolean;
  /** per-request timeout (default 30 s): a hung connection must not hold a worker forever */
  timeoutMs?: number;
  userAgent?: string;
}

/** Counts every HTTP attempt: installed before the retry plugin, so retries are counted too. */
function requestMetrics(
  octokit: Pick<Octokit, 'hook'>,
  options: { rewindMetrics?: GitHubMetrics; [option: string]: unknown },
): Record<string, never> {
  const metrics = options.rewindMetrics;
  if (metrics === undefined) return {};
  octokit.hook.after('request', (response, opts) => {
    metrics.githubRequests.inc({ method: opts.method, status: String(response.status) });
  });
  octokit.hook.error('request', (error, opts) => {
    const status = (error as { status?: unknown }).status;
    metrics.githubRequests.inc({
      method: opts.method,
      status: transportFailure(error) ?? (typeof status === 'number' ? String(status) : 'network'),
    });
    throw error;
  });
  return {};
}

/** A client span per HTTP attempt, named by the route template (never the token-bearing headers). */
function requestTracing(octokit: Pick<Octokit, 'hook'>): Record<string, never> {
  octokit.hook.wrap('request', async (request, options) => {
    const route = String(options.url).split('?')[0] ?? '';
    return withSpan(
      `github ${options.method} ${route}`,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'http.request.method': options.method,
          'url.template': route,
          'peer.service': 'github',
        },
      },
      async (span) => {
        try {
          const response = await request(options);
          span.setAttribute('http.response.status_code', response.status);
          return response;
        } catch (err) {
          const status = (err as { status?: unknown }).status;
          if (typeof status === 'number') span.setAttribute('http.response.status_code', status);
          throw err;
        }
      },
    );
  });
  return {};
}

interface RetryOptions {
  retries: number;
  retryAfterBaseValue: number;
  doNotRetry: number[];
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * @octokit/plugin-retry's rules (an answer of 400 or more outside doNotRetry, or a network failure,
 * retried after (n+1)² × the base; GraphQL's "Something went wrong" counts as a 500) without the
 * Bottleneck it runs every request through (src/github/limiter.ts says what that costs).
 */
function requestRetries(
  octokit: Pick<Octokit, 'hook'>,
  options: { retry?: RetryOptions; [option: string]: unknown },
): Record<string, never> {
  const state = options.retry;
  if (state === undefined) return {};
  const retryable = (err: unknown): boolean => {
    const e = err as { request?: unknown; status?: unknown };
    return (
      e.request !== undefined &&
      typeof e.status === 'number' &&
      e.status >= 400 &&
      !state.doNotRetry.includes(e.status)
    );
  };
  octokit.hook.wrap('request', async (request, opts) => {
    const retries = (opts.request as { retries?: number } | undefined)?.retries ?? state.retries;
    for (let n = 0; ; n++) {
      try {
        const response = await request(opts);
        const errors = (response.data as { errors?: { message?: string }[] } | null)?.errors;
        const hiccup = /Something went wrong while executing your query/.test(errors?.[0]?.message ?? '');
        if (!hiccup || n >= retries) return response;
      } catch (err) {
        if (!retryable(err) || n >= retries) throw err;
      }
      await sleep((n + 1) ** 2 * state.retryAfterBaseValue);
    }
  });
  return {};
}

const RewindOctokit = Octokit.plugin(requestTracing, requestMetrics, requestRetries, throttling);

export function createOctokit(opts: CreateOctokitOptions): GitHubClient {
  const logger = opts.logger ?? silentLogger;
  const rateLimitRetries = opts.rateLimitRetries ?? 2;
  const maxRetryAfter = opts.maxRetryAfterSeconds ?? 60;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const baseFetch = opts.request?.fetch ?? globalThis.fetch;
  const fetchWithTimeout: typeof fetch = (input, init) => {
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = init?.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
    return baseFetch(input, { ...init, signal });
  };
  const onLimit =
    (kind: string) =>
    (
      retryAfter: number,
      options: { method: string; url: string },
      _octokit: unknown,
      retryCount: number,
    ): boolean => {
      const willRetry = retryCount < rateLimitRetries && retryAfter <= maxRetryAfter;
      opts.metrics?.githubRateLimits?.inc({ kind });
      logger.warn(
        { kind, method: options.method, url: redactUrl(options.url), retryAfter, retryCount, willRetry },
        'GitHub rate limit hit',
      );
      return willRetry;
    };
  const spaceWrites = opts.spaceWrites !== false;
  // GitHub's limits as the plugin sets them (its defaults, and its retry hook), on limiters that start
  // a job in the same tick; the plugin takes them from its options, though its types do not name them.
  const limiters: Record<string, unknown> = {
    retryLimiter: new Limiter(),
    global: new LimiterGroup({ maxConcurrent: 10 }),
    auth: new LimiterGroup({ maxConcurrent: 1 }),
    search: new LimiterGroup({ maxConcurrent: 1, minTime: 2_000 }),
    write: new LimiterGroup({ maxConcurrent: 1, minTime: spaceWrites ? 1_000 : 0 }),
    notifications: new LimiterGroup({ maxConcurrent: 1, minTime: spaceWrites ? 3_000 : 0 }),
  };
  const a = opts.auth;
  const auth =
    'token' in a
      ? { auth: a.token }
      : 'appId' in a
        ? {
            authStrategy: createAppAuth,
            auth: { appId: a.appId, privateKey: a.privateKey, installationId: a.installationId },
          }
        : {};
  return new RewindOctokit({
    ...auth,
    baseUrl: opts.baseUrl.replace(/\/+$/, ''),
    userAgent: opts.userAgent ?? 'rewind',
    request: { fetch: fetchWithTimeout },
    // Only the message: Octokit's debug objects carry request options, and headers must never reach the logs.
    log: {
      debug: (message: string) => logger.debug({}, message),
      info: (message: string) => logger.debug({}, message),
      warn: (message: string) => logger.warn({}, message),
      // request errors are mapped to RewindError and reported by the caller; logging them here would duplicate
      error: (message: string) => logger.debug({}, message),
    },
    rewindMetrics: opts.metrics,
    retry: {
      retries: opts.retries ?? 3,
      retryAfterBaseValue: opts.retryAfterBaseMs ?? 1000,
      // 405/409/422 answer the same to the same request; 429 belongs to the throttling plugin.
      doNotRetry: [400, 401, 403, 404, 405, 409, 410, 422, 429, 451],
    },
    throttle: {
      onRateLimit: onLimit('primary'),
      onSecondaryRateLimit: onLimit('secondary'),
      retryAfterBaseValue: opts.retryAfterBaseMs ?? 1000,
      ...limiters,
    },
  });
}
