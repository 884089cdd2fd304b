/**
 * The only module that talks to Argo CD's API server (REST through its
 * grpc-gateway). Errors are classified here: 401/403/404 and refusals cannot
 * succeed on retry; 5xx, timeouts and network errors can. The token never
 * appears in an error message.
 */
import { RewindError } from '../core/errors.ts';
import { SpanKind, withSpan } from '../observability/tracing.ts';
import type { ArgoApplication } from './types.ts';

export interface ArgoCdClientOptions {
  /** https://argocd.example.com (no trailing slash) */
  url: string;
  token: string;
  fetch?: typeof fetch;
  timeoutMs?: number;
}

export interface AppRef {
  app: string;
  appNamespace?: string | undefined;
}

export interface ArgoCdClient {
  /** `refresh: 'normal'` asks Argo CD to compare with Git now instead of at its next poll. */
  getApplication(ref: AppRef, opts?: { refresh?: 'normal' | 'hard' }): Promise<ArgoApplication>;
  /** Starts a sync; `revision` pins the commit (refused by Argo CD while automated sync is on). */
  sync(ref: AppRef, opts: { revision?: string }): Promise<ArgoApplication>;
}

/** grpc-gateway error body: {"error", "code", "message"} (code: the gRPC status code). */
function gatewayMessage(body: unknown): string {
  const b = body as { message?: unknown; error?: unknown } | null;
  const m = typeof b?.message === 'string' ? b.message : typeof b?.error === 'string' ? b.error : '';
  return m.replace(/\s+/g, ' ').slice(0, 300);
}

export function classify(operation: string, status: number, message: string): RewindError {
  const what = `Argo CD ${operation}: HTTP ${status}${message ? ` (${message})` : ''}`;
  if (status === 401 || status === 403)
    return new RewindError(
      'argocd_auth',
      `${what}; check ARGOCD_AUTH_TOKEN and its RBAC (applications, get/sync)`,
    );
  if (status === 404) return new RewindError('argocd_not_found', what);
  if (/another operation is already in progress/i.test(message))
    return new RewindError('argocd_busy', what, { retryable: true });
  if (status === 429 || status >= 500)
    return new RewindError('argocd_unavailable', what, { retryable: true });
  // FailedPrecondition and InvalidArgument arrive as 400: auto-sync refusing a revision, a deleting app.
  return new RewindError('argocd_refused', what);
}

export function createArgoCdClient(opts: ArgoCdClientOptions): ArgoCdClient {
  const doFetch = opts.fetch ?? globalThis.fetch;
  const timeoutMs = opts.timeoutMs ?? 15_000;

  /** A client span per request, named by its route (not the app: span names stay few). */
  function traced(
    route: string,
    ref: AppRef,
    operation: string,
    path: string,
    init: RequestInit = {},
  ): Promise<ArgoApplication> {
    const method = init.method ?? 'GET';
    return withSpan(
      `argocd ${method} ${route}`,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'peer.service': 'argocd',
          'http.request.method': method,
          'http.route': route,
          'argocd.app.name': ref.app,
          ...(ref.appNamespace ? { 'argocd.app.namespace': ref.appNamespace } : {}),
        },
      },
      () => call(operation, path, init),
    );
  }

  async function call(operation: string, path: string, init: RequestInit = {}): Promise<ArgoApplication> {
    let res: Response;
    try {
      res = await doFetch(`${opts.url}${path}`, {
        ...init,
        headers: {
          accept: 'application/json',
          authorization: `Bearer ${opts.token}`,
          ...(init.body ? { 'content-type': 'application/json' } : {}),
        },
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      const reason =
        (err as Error).name === 'TimeoutError' ? `no answer in ${timeoutMs} ms` : (err as Error).message;
      throw new RewindError('argocd_unavailable', `Argo CD ${operation}: ${reason}`, { retryable: true });
    }
    const text = await res.text();
    let body: unknown = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = { message: text.slice(0, 200) };
    }
    if (!res.ok) throw classify(operation, res.status, gatewayMessage(body));
    const app = body as ArgoApplication | null;
    if (!app || typeof app !== 'object' || !app.metadata || !app.spec)
      throw new RewindError('argocd_invalid', `Argo CD ${operation}: the answer is not an Application`, {
        retryable: true,
      });
    return app;
  }

  const appPath = (ref: AppRef) => `/api/v1/applications/${encodeURIComponent(ref.app)}`;
  const query = (params: Record<string, string | undefined>) => {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, v);
    const s = q.toString();
    return s ? `?${s}` : '';
  };

  return {
    getApplication(ref, o = {}) {
      return traced(
        '/api/v1/applications/{name}',
        ref,
        `${o.refresh ? 'refresh' : 'read'} application ${ref.app}`,
        `${appPath(ref)}${query({ refresh: o.refresh, appNamespace: ref.appNamespace })}`,
      );
    },
    sync(ref, o) {
      const body = {
        name: ref.app,
        ...(ref.appNamespace ? { appNamespace: ref.appNamespace } : {}),
        ...(o.revision ? { revision: o.revision } : {}),
        prune: false,
      };
      return traced(
        '/api/v1/applications/{name}/sync',
        ref,
        `sync application ${ref.app}`,
        `${appPath(ref)}/sync`,
        {
          method: 'POST',
          body: JSON.stringify(body),
        },
      );
    },
  };
}
