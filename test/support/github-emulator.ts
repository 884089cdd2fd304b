/**
 * A GitHub REST/GraphQL API emulator for tests and `npm run demo`: a real HTTP
 * server on 127.0.0.1 over an exact in-memory Git model. It answers only the
 * endpoints rewind's adapter uses, with GitHub's status codes and shapes, and
 * records every other call in `unknownRequests` so tests fail on them.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileDiff } from './github-emulator/diff.ts';
import type {
  GitHubEmulator,
  GitHubEmulatorOptions,
  Person,
  RecordedRequest,
  RequestMatcher,
  FailRule,
  BeforeRule,
} from './github-emulator/api.ts';
import { RepoModel, gitTime, type Signature } from './github-emulator/git-model.ts';
import { handleGraphql, noreplyLogin, operationName } from './github-emulator/graphql.ts';
import {
  DOCS_URL,
  HttpError,
  type EmulatorResponse,
  type RequestContext,
  type Route,
} from './github-emulator/http.ts';
import { gitDataRoutes } from './github-emulator/routes-git-data.ts';
import { gitRoutes } from './github-emulator/routes-git.ts';
import { performMerge, pendingCheck, pullChanges, pullRoutes } from './github-emulator/routes-pulls.ts';

export type * from './github-emulator/api.ts';

function matches(rule: RequestMatcher, method: string, path: string): boolean {
  if (rule.method !== undefined && rule.method.toUpperCase() !== method) return false;
  return typeof rule.pathPattern === 'string' ? path.includes(rule.pathPattern) : rule.pathPattern.test(path);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function errorBody(
  status: number,
  message: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return { message, ...extra, documentation_url: DOCS_URL, status: String(status) };
}

export async function startGitHubEmulator(opts: GitHubEmulatorOptions = {}): Promise<GitHubEmulator> {
  const token = opts.token ?? 'test-token';
  const login = opts.login ?? 'rewind-bot';
  const now = opts.now ?? (() => new Date());
  const repos = new Map<string, RepoModel>();
  const requests: RecordedRequest[] = [];
  const unknownRequests: RecordedRequest[] = [];
  const failRules: (FailRule & { left: number })[] = [];
  type HangRule = RequestMatcher & {
    after?: boolean;
    left: number;
    arrive(): void;
    onDrop(f: () => void): void;
  };
  const hangRules: HangRule[] = [];
  // what GitHub answers when content creation comes too fast (REST, 403)
  const SECONDARY_RATE_LIMIT_MESSAGE =
    'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.';
  const beforeRules: (BeforeRule & { left: number })[] = [];
  const routes: Route[] = [...gitRoutes, ...gitDataRoutes, ...pullRoutes];
  let baseUrl = '';

  const repoOrThrow = (owner: string, name: string): RepoModel => {
    const repo = repos.get(`${owner}/${name}`.toLowerCase());
    if (repo === undefined) throw new Error(`emulator: no repository ${owner}/${name}`);
    return repo;
  };

  const takeRule = <T extends RequestMatcher & { left: number }>(
    rules: T[],
    method: string,
    path: string,
  ): T | undefined => {
    const rule = rules.find((r) => r.left > 0 && matches(r, method, path));
    if (rule !== undefined) rule.left -= 1;
    return rule;
  };

  function installationToken(installationId: string, jwt: string | undefined): EmulatorResponse {
    let iss: unknown;
    try {
      iss = (
        JSON.parse(Buffer.from(jwt?.split('.')[1] ?? '', 'base64url').toString('utf8')) as { iss?: unknown }
      ).iss;
    } catch {
      iss = undefined;
    }
    if (iss === undefined || String(iss) !== String(opts.app?.appId))
      return { status: 401, body: errorBody(401, 'A JSON web token could not be decoded') };
    if (installationId !== String(opts.app?.installationId))
      return { status: 404, body: errorBody(404, 'Not Found') };
    const expires = new Date(now().getTime() + 3_600_000).toISOString();
    return {
      status: 201,
      body: {
        token,
        expires_at: expires,
        permissions: { contents: 'write', pull_requests: 'write' },
        repository_selection: 'all',
      },
    };
  }

  function dispatch(
    method: string,
    path: string,
    query: URLSearchParams,
    body: unknown,
    headers: IncomingMessage['headers'],
    record: RecordedRequest,
  ): EmulatorResponse & { unknown?: boolean } {
    const presented = /^(?:token|bearer)\s+(\S+)$/i.exec(headers.authorization ?? '')?.[1];
    const installation = /^\/app\/installations\/([^/]+)\/access_tokens$/.exec(path)?.[1];
    if (method === 'POST' && installation !== undefined && opts.app !== undefined)
      return installationToken(installation, presented);
    if (presented === undefined) return { status: 401, body: errorBody(401, 'Requires authentication') };
    if (presented !== token) return { status: 401, body: errorBody(401, 'Bad credentials') };
    takeRule(beforeRules, method, path)?.run();
    const fault = takeRule(failRules, method, path);
    if (fault !== undefined) {
      // after: GitHub did the work and the answer was lost (a 502 from its edge after the merge went through)
      if (fault.after === true) handle(method, path, query, body, headers, record);
      const res: EmulatorResponse = {
        status: fault.status,
        body: fault.body ?? errorBody(fault.status, `emulator: injected ${fault.status}`),
      };
      return fault.headers === undefined ? res : { ...res, headers: fault.headers };
    }
    return handle(method, path, query, body, headers, record);
  }

  function handle(
    method: string,
    path: string,
    query: URLSearchParams,
    body: unknown,
    headers: IncomingMessage['headers'],
    record: RecordedRequest,
  ): EmulatorResponse & { unknown?: boolean } {
    try {
      if (method === 'POST' && path === '/graphql') {
        const query =
          typeof body === 'object' && body !== null ? (body as { query?: unknown }).query : undefined;
        const op = typeof query === 'string' ? operationName(query) : undefined;
        if (op !== undefined) record.operationName = op;
        return handleGraphql(body, {
          repoLookup: (o, n) => repos.get(`${o}/${n}`.toLowerCase()),
          repos: () => repos.values(),
          now,
          blobTextLimit: opts.blobTextLimit ?? 512 * 1024,
          baseUrl,
          loginOf: noreplyLogin,
        });
      }
      for (const route of routes) {
        const m = route.method === method ? route.pattern.exec(path) : null;
        if (m === null) continue;
        const ctx: RequestContext = {
          method,
          params: m.slice(1).map((p) => p ?? ''),
          query,
          accept: headers.accept ?? '',
          body,
          baseUrl,
          login,
          now,
          repo: (owner, name) => {
            const repo = repos.get(`${owner}/${name}`.toLowerCase());
            if (repo === undefined) throw new HttpError(404, 'Not Found');
            return repo;
          },
        };
        return route.handle(ctx);
      }
      // 404 rather than 501: Octokit retries 5xx, and an unknown call should fail fast and loudly.
      return {
        status: 404,
        body: errorBody(404, `emulator does not implement ${method} ${path}`),
        unknown: true,
      };
    } catch (err) {
      if (err instanceof HttpError) {
        // A GraphQL document the emulator does not know is an unknown request too.
        return {
          status: err.status,
          body: errorBody(err.status, err.message, err.extra),
          unknown: path === '/graphql',
        };
      }
      throw err;
    }
  }

  async function onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const receivedAt = Date.now();
    // network + GitHub's own time, for benchmarks that separate rewind's time from time spent waiting
    if (opts.latencyMs) await new Promise((r) => setTimeout(r, opts.latencyMs));
    const url = new URL(req.url ?? '/', baseUrl);
    const method = (req.method ?? 'GET').toUpperCase();
    const path = decodeURIComponent(url.pathname);
    const text = await readBody(req);
    const hang = takeRule(hangRules, method, path);
    if (hang !== undefined) {
      if (hang.after === true) {
        const parsed = text === '' ? undefined : (JSON.parse(text) as unknown);
        const rec = { method, path, query: {}, body: parsed, status: 0, receivedAt };
        dispatch(method, path, url.searchParams, parsed, req.headers, rec);
      }
      hang.arrive();
      await new Promise<void>((r) => hang.onDrop(() => (res.destroy(), r())));
      return;
    }
    let body: unknown = undefined;
    let out: EmulatorResponse & { unknown?: boolean };
    const record: RecordedRequest = {
      method,
      path,
      query: Object.fromEntries(url.searchParams),
      body: undefined,
      status: 0,
      receivedAt,
    };
    try {
      body = text === '' ? undefined : (JSON.parse(text) as unknown);
      record.body = body;
      out = dispatch(method, path, url.searchParams, body, req.headers, record);
    } catch (err) {
      out =
        err instanceof SyntaxError
          ? { status: 400, body: errorBody(400, 'Problems parsing JSON') }
          : { status: 500, body: errorBody(500, `emulator bug: ${String(err)}`) };
    }
    record.status = out.status;
    record.answeredAt = Date.now();
    requests.push(record);
    if (out.unknown === true) unknownRequests.push(record);
    const reset = Math.floor(Date.now() / 1000) + 3600;
    res.writeHead(out.status, {
      'content-type': out.raw === undefined ? 'application/json; charset=utf-8' : 'text/plain; charset=utf-8',
      'x-github-request-id': `EMU:${requests.length}`,
      'x-ratelimit-limit': '5000',
      'x-ratelimit-remaining': '4999',
      'x-ratelimit-reset': String(reset),
      ...out.headers,
    });
    res.end(out.raw ?? (out.status === 204 || out.body === undefined ? undefined : JSON.stringify(out.body)));
  }

  const server = createServer((req, res) => {
    onRequest(req, res).catch((err: unknown) => {
      res.writeHead(500).end(String(err));
    });
  });
  const host = opts.listen?.host ?? '127.0.0.1';
  await new Promise<void>((resolve) => server.listen(opts.listen?.port ?? 0, host, resolve));
  baseUrl =
    opts.listen?.publicUrl?.replace(/\/+$/, '') ??
    `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${(server.address() as AddressInfo).port}`;

  const seedSignature = (
    author: Person | undefined,
    date: string | Date | undefined,
    fallback: Date,
  ): Signature => ({
    ...(author ?? { name: 'Seed Author', email: 'seed@example.com' }),
    date: gitTime(date === undefined ? fallback : date),
  });

  const emulator: GitHubEmulator = {
    url: baseUrl,
    requests,
    unknownRequests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err === undefined ? resolve() : reject(err)));
        server.closeAllConnections();
      }),
    seedRepo(seed) {
      const branch = seed.defaultBranch ?? 'main';
      const repo = new RepoModel(seed.owner, seed.repo, branch);
      if (seed.collaborators !== undefined) repo.collaborators = new Set(seed.collaborators);
      repos.set(repo.fullName.toLowerCase(), repo);
      // Undated seed commits are spaced a minute apart, ending now, so history reads naturally.
      const end = now().getTime();
      const shas = seed.commits.map((c, i) => {
        const sig = seedSignature(c.author, c.date, new Date(end - (seed.commits.length - 1 - i) * 60_000));
        return repo.commitChanges(branch, c.files, c.message, sig, sig).sha;
      });
      return { shas, headSha: repo.refs.get(branch) ?? '' };
    },
    commit(input) {
      const repo = repoOrThrow(input.owner, input.repo);
      if (!repo.refs.has(input.branch)) throw new Error(`emulator: no branch ${input.branch}`);
      const sig = seedSignature(input.author, input.date, now());
      return repo.commitChanges(input.branch, input.files, input.message, sig, sig).sha;
    },
    createBranch(owner, name, branch, from) {
      const repo = repoOrThrow(owner, name);
      const sha = repo.resolve(from ?? repo.defaultBranch);
      if (sha === undefined) throw new Error(`emulator: cannot resolve ${from ?? repo.defaultBranch}`);
      repo.refs.set(branch, sha);
      return sha;
    },
    mergeBranch(input) {
      const repo = repoOrThrow(input.owner, input.repo);
      const sig = seedSignature(undefined, input.date, now());
      const message = input.message ?? `Merge branch '${input.head}' into ${input.base}`;
      return repo.mergeBranches(input.base, input.head, message, sig, input.resolutions).sha;
    },
    openPullRequest(input) {
      const repo = repoOrThrow(input.owner, input.repo);
      const base = input.base ?? repo.defaultBranch;
      if (!repo.refs.has(input.head)) {
        emulator.createBranch(input.owner, input.repo, input.head, base);
        const sig = seedSignature(undefined, undefined, now());
        repo.commitChanges(
          input.head,
          input.files ?? { [`.seed/${input.head}`]: `${input.head}\n` },
          input.title,
          sig,
          sig,
        );
      }
      const at = now().toISOString();
      const number = repo.pulls.length + 1;
      repo.pulls.push({
        number,
        id: repo.nextId(),
        title: input.title,
        body: input.body ?? null,
        user: login,
        headRef: input.head,
        headSha: repo.refs.get(input.head) ?? '',
        baseRef: base,
        state: 'open',
        merged: false,
        mergedAt: null,
        mergeCommitSha: null,
        labels: [...(input.labels ?? [])],
        requestedReviewers: [],
        comments: [],
        createdAt: at,
        updatedAt: at,
        closedAt: null,
      });
      return number;
    },
    setSquashDefaults(owner, name, defaults) {
      repoOrThrow(owner, name).squashDefaults = { ...defaults };
    },
    protectBranch(owner, name, branch, protection) {
      repoOrThrow(owner, name).requiredChecks.set(branch, [...protection.requiredChecks]);
    },
    setAllowAutoMerge(owner, name, allow) {
      repoOrThrow(owner, name).allowAutoMerge = allow;
    },
    completeChecks(owner, name, prNumber, state = 'success') {
      const repo = repoOrThrow(owner, name);
      const pr = repo.pull(prNumber);
      if (pr === undefined) throw new Error(`emulator: no pull request #${prNumber} in ${owner}/${name}`);
      const states = repo.checks.get(pr.headSha) ?? new Map();
      for (const c of repo.requiredChecks.get(pr.baseRef) ?? []) states.set(c, state);
      repo.checks.set(pr.headSha, states);
      // GitHub merges an auto-merge PR as soon as its requirements are met
      if (pr.autoMerge && pr.state === 'open' && pendingCheck(repo, pr) === undefined) {
        performMerge(repo, pr, {
          method: 'squash',
          title: pr.autoMerge.commitHeadline,
          message: pr.autoMerge.commitBody,
          now: now(),
        });
      }
    },
    autoMergeEnabled(owner, name, prNumber) {
      return repoOrThrow(owner, name).pull(prNumber)?.autoMerge != null;
    },
    setCollaborators(owner, name, logins) {
      repoOrThrow(owner, name).collaborators = logins === null ? null : new Set(logins);
    },
    failNext(rule) {
      failRules.push({ ...rule, left: rule.times ?? 1 });
    },
    secondaryRateLimitNext(rule) {
      const { retryAfterSeconds, ...matcher } = rule;
      failRules.push({
        ...matcher,
        left: rule.times ?? 1,
        status: 403,
        body: {
          message: SECONDARY_RATE_LIMIT_MESSAGE,
          documentation_url:
            'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits',
        },
        headers: {
          'x-ratelimit-remaining': '4990',
          ...(retryAfterSeconds === undefined ? {} : { 'retry-after': String(retryAfterSeconds) }),
        },
      });
    },
    hangNext(rule) {
      let arrive = () => {};
      const arrived = new Promise<void>((r) => (arrive = r));
      let dropped = false;
      let dropIt: (() => void) | undefined;
      hangRules.push({
        ...rule,
        left: 1,
        arrive,
        onDrop: (f) => (dropped ? f() : (dropIt = f)),
      });
      return {
        arrived,
        drop: () => {
          dropped = true;
          dropIt?.();
        },
      };
    },
    beforeNext(rule) {
      beforeRules.push({ ...rule, left: rule.times ?? 1 });
    },
    getFile(owner, name, branch, path) {
      const repo = repoOrThrow(owner, name);
      const sha = repo.resolve(branch);
      return sha === undefined ? undefined : repo.commit(sha).tree.get(path);
    },
    listCommits(owner, name, branch) {
      const repo = repoOrThrow(owner, name);
      const sha = repo.resolve(branch);
      if (sha === undefined) return [];
      return [...repo.firstParentLog(sha)].map((c) => {
        const parent =
          c.parents[0] === undefined ? new Map<string, string>() : repo.commit(c.parents[0]).tree;
        return {
          sha: c.sha,
          parents: c.parents,
          message: c.message,
          author: c.author,
          committer: c.committer,
          changedPaths: RepoModel.changedPaths(parent, c.tree),
        };
      });
    },
    branches: (owner, name) => [...repoOrThrow(owner, name).refs.keys()].sort(),
    pulls(owner, name) {
      return repoOrThrow(owner, name)
        .allPulls()
        .map((p) => ({
          number: p.number,
          title: p.title,
          body: p.body,
          state: p.state,
          merged: p.merged,
          headRef: p.headRef,
          headSha: p.headSha,
          baseRef: p.baseRef,
          labels: [...p.labels],
          requestedReviewers: [...p.requestedReviewers],
          comments: p.comments.map((c) => c.body),
          mergeCommitSha: p.mergeCommitSha,
        }));
    },
    diff(owner, name, prNumber) {
      const repo = repoOrThrow(owner, name);
      const pr = repo.pull(prNumber);
      if (pr === undefined) throw new Error(`emulator: no pull request #${prNumber} in ${owner}/${name}`);
      return pullChanges(repo, pr)
        .map((f) => fileDiff(f.path, f.before, f.after))
        .join('');
    },
    clearRequests() {
      requests.length = 0;
      unknownRequests.length = 0;
    },
    assertNoUnknownRequests() {
      if (unknownRequests.length > 0) {
        const list = unknownRequests.map(
          (r) =>
            `${r.method} ${r.path}${r.operationName === undefined ? '' : ` (${r.operationName})`} → ${r.status}`,
        );
        throw new Error(
          `GitHub emulator received ${unknownRequests.length} unknown request(s):\n  ${list.join('\n  ')}`,
        );
      }
    },
  };
  return emulator;
}
