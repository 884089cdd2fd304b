/**
 * An Argo CD API server emulator for tests and `npm run demo`: a real HTTP
 * server answering the routes rewind uses with Argo CD's shapes
 * (pkg/apis/application/v1alpha1 Application JSON; grpc-gateway errors
 * `{"error","code","message"}` with gRPC codes mapped to HTTP) and a small
 * controller: refresh compares with the branch head of the GitHub emulator's
 * repository, automated sync starts an operation, operations go
 * Running → Succeeded/Failed, and health is assessed after the operation, so
 * `reconciledAt` trails `finishedAt` for a moment as in the real controller.
 * There is no background Git poll: without a refresh nothing moves (the real
 * one would wait its 3-minute poll). Unknown calls are recorded and fail tests.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GitHubEmulator } from '../github-emulator.ts';

export type Health = 'Healthy' | 'Degraded' | 'Progressing' | 'Suspended' | 'Missing';

export interface EmulatedApp {
  name: string;
  /** default "argocd" (the control plane's namespace) */
  namespace?: string;
  repo: { owner: string; name: string };
  /** spec.source.targetRevision (a branch of the repository) */
  branch: string;
  path: string;
  automated: boolean;
  /** health the app settles at after running a revision (default Healthy) */
  healthFor?: (revision: string) => Health;
  /** a sync of this revision fails (operation phase Failed) */
  syncFails?: (revision: string) => boolean;
}

export interface RecordedCall {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
  status: number;
  at: number;
}

interface AppState {
  spec: EmulatedApp;
  revision: string;
  health: Health;
  reconciledAt: string;
  operation: { sync: { revision: string } } | null;
  operationState: Record<string, unknown> | null;
  timers: NodeJS.Timeout[];
}

/** gRPC status code → HTTP, as grpc-gateway maps them */
const HTTP: Record<number, number> = { 3: 400, 5: 404, 7: 403, 9: 400, 14: 503, 16: 401 };

export interface ArgoCdEmulator {
  url: string;
  readonly calls: RecordedCall[];
  readonly unknownCalls: RecordedCall[];
  addApp(app: EmulatedApp, deployedRevision?: string): void;
  app(name: string): Record<string, unknown>;
  /** the next `times` sync requests answer "another operation is already in progress" */
  busyFor(times: number): void;
  /** the next request answers with this HTTP status (grpc-gateway body) */
  failNext(status: number, message: string): void;
  assertNoUnknownCalls(): void;
  close(): Promise<void>;
}

export async function startArgoCdEmulator(opts: {
  github: GitHubEmulator;
  token?: string;
  /** controller step time: operation pick-up, finish, health assessment (default 40 ms) */
  stepMs?: number;
}): Promise<ArgoCdEmulator> {
  const token = opts.token ?? 'argocd-test-token';
  const stepMs = opts.stepMs ?? 40;
  const apps = new Map<string, AppState>();
  const calls: RecordedCall[] = [];
  const unknownCalls: RecordedCall[] = [];
  let busy = 0;
  let fail: { status: number; message: string } | null = null;
  const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z'); // metav1.Time: whole seconds

  const key = (ns: string, name: string) => `${ns}/${name}`;
  const head = (s: AppState) =>
    opts.github.listCommits(s.spec.repo.owner, s.spec.repo.name, s.spec.branch)[0]?.sha ?? '';

  function json(s: AppState): Record<string, unknown> {
    const { spec } = s;
    const target = head(s);
    return {
      metadata: { name: spec.name, namespace: spec.namespace ?? 'argocd' },
      spec: {
        source: {
          repoURL: `https://github.com/${spec.repo.owner}/${spec.repo.name}.git`,
          path: spec.path,
          targetRevision: spec.branch,
        },
        destination: { server: 'https://kubernetes.default.svc', namespace: spec.name },
        project: 'default',
        ...(spec.automated ? { syncPolicy: { automated: { prune: false, selfHeal: false } } } : {}),
      },
      ...(s.operation ? { operation: s.operation } : {}),
      status: {
        sync: {
          status: s.revision === target ? 'Synced' : 'OutOfSync',
          comparedTo: { source: { repoURL: spec.repo.name, targetRevision: spec.branch } },
          revision: s.revision,
        },
        health: { status: s.health },
        reconciledAt: s.reconciledAt,
        ...(s.operationState ? { operationState: s.operationState } : {}),
        sourceType: 'Kustomize',
      },
    };
  }

  const later = (s: AppState, fn: () => void, ms = stepMs) => s.timers.push(setTimeout(fn, ms));

  /** The application controller running one sync operation. */
  function startOperation(s: AppState, revision: string, by: string) {
    s.operation = { sync: { revision } };
    later(s, () => {
      s.operation = null;
      s.operationState = {
        operation: {
          sync: { revision },
          initiatedBy: by === 'auto' ? { automated: true } : { username: 'rewind' },
        },
        phase: 'Running',
        message: 'one or more tasks are running',
        startedAt: now(),
      };
      later(s, () => {
        const failed = s.spec.syncFails?.(revision) ?? false;
        const finishedAt = now();
        s.operationState = {
          ...s.operationState,
          phase: failed ? 'Failed' : 'Succeeded',
          message: failed ? 'one or more objects failed to apply' : 'successfully synced (all tasks run)',
          finishedAt,
          syncResult: { revision, source: { targetRevision: s.spec.branch } },
        };
        if (failed) return;
        s.revision = revision;
        s.health = 'Progressing';
        // the health loop runs after the operation loop: reconciledAt stays older for a moment
        later(s, () => {
          s.health = s.spec.healthFor?.(revision) ?? 'Healthy';
          s.reconciledAt = new Date(Math.max(Date.now(), Date.parse(finishedAt)))
            .toISOString()
            .replace(/\.\d+Z$/, 'Z');
        });
      });
    });
  }

  function refresh(s: AppState) {
    const target = head(s);
    s.reconciledAt = now();
    const running = s.operation || (s.operationState && !s.operationState.finishedAt);
    if (s.spec.automated && target && target !== s.revision && !running) startOperation(s, target, 'auto');
  }

  function grpcError(res: ServerResponse, code: number, message: string) {
    const status = HTTP[code] ?? 500;
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: message, code, message }));
    return status;
  }

  function handle(
    method: string,
    path: string,
    q: URLSearchParams,
    body: unknown,
    req: IncomingMessage,
    res: ServerResponse,
  ) {
    if (req.headers.authorization !== `Bearer ${token}`)
      return grpcError(res, 16, 'invalid session: token signature is invalid');
    if (fail) {
      const f = fail;
      fail = null;
      res.writeHead(f.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: f.message, code: f.status === 503 ? 14 : 2, message: f.message }));
      return f.status;
    }
    const m = /^\/api\/v1\/applications\/([^/]+)(\/sync)?$/.exec(path);
    if (!m) return undefined;
    const name = decodeURIComponent(m[1] ?? '');
    const ns = q.get('appNamespace') ?? (body as { appNamespace?: string } | null)?.appNamespace ?? 'argocd';
    const s = apps.get(key(ns, name));
    if (!s) return grpcError(res, 5, `applications.argoproj.io "${name}" not found`);
    if (method === 'GET' && !m[2]) {
      const r = q.get('refresh');
      if (r !== null) refresh(s);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(json(s)));
      return 200;
    }
    if (method === 'POST' && m[2]) {
      const rev = (body as { revision?: string } | null)?.revision ?? '';
      if (busy > 0 || s.operation || (s.operationState && !s.operationState.finishedAt)) {
        if (busy > 0) busy -= 1;
        return grpcError(res, 9, 'another operation is already in progress');
      }
      if (s.spec.automated && rev && rev !== s.spec.branch)
        return grpcError(res, 9, `Cannot sync to ${rev}: auto-sync currently set to ${s.spec.branch}`);
      const resolved = !rev || rev === s.spec.branch ? head(s) : rev;
      startOperation(s, resolved, 'user');
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(json(s)));
      return 200;
    }
    return undefined;
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = null;
      try {
        body = text ? JSON.parse(text) : null;
      } catch {
        body = text;
      }
      const method = req.method ?? 'GET';
      const status = handle(method, url.pathname, url.searchParams, body, req, res);
      const call: RecordedCall = {
        method,
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        body,
        status: status ?? 404,
        at: Date.now(),
      };
      calls.push(call);
      if (status === undefined) {
        unknownCalls.push(call);
        grpcError(res, 5, `emulator: ${method} ${url.pathname} is not implemented`);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    unknownCalls,
    addApp(app, deployedRevision) {
      const s: AppState = {
        spec: app,
        revision: '',
        health: 'Healthy',
        reconciledAt: now(),
        operation: null,
        operationState: null,
        timers: [],
      };
      s.revision = deployedRevision ?? head(s);
      apps.set(key(app.namespace ?? 'argocd', app.name), s);
    },
    app(name) {
      const s = [...apps.values()].find((a) => a.spec.name === name);
      if (!s) throw new Error(`emulator: no app ${name}`);
      return json(s);
    },
    busyFor(times) {
      busy = times;
    },
    failNext(status, message) {
      fail = { status, message };
    },
    assertNoUnknownCalls() {
      if (unknownCalls.length)
        throw new Error(
          `Argo CD emulator got unknown calls: ${unknownCalls.map((c) => `${c.method} ${c.path}`).join(', ')}`,
        );
    },
    async close() {
      for (const s of apps.values()) s.timers.forEach(clearTimeout);
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
