/**
 * POST /graphql: recognizes exactly the query documents rewind sends, by
 * operation name and text, validates their variables, and answers with
 * GitHub's shapes. Any other document is a 400 and an unknown request.
 * `history(path:)` (RewindFileHistory, which rewind no longer sends) is kept
 * with git's real history simplification, so tests can show what it returns
 * on merge commits.
 */
import { blobSha, type RepoModel } from './git-model.ts';
import { HttpError, field, type EmulatorResponse } from './http.ts';
import { pendingCheck } from './routes-pulls.ts';

/** A copy of the adapter's document: a change on either side must be made on both on purpose. */
export const FILE_HISTORY_QUERY = `
query RewindFileHistory($owner: String!, $name: String!, $expression: String!, $path: String!, $first: Int!, $after: String) {
  repository(owner: $owner, name: $name) {
    object(expression: $expression) {
      ... on Commit {
        history(path: $path, first: $first, after: $after) {
          pageInfo { hasNextPage endCursor }
          nodes {
            oid
            message
            committedDate
            url
            author { name user { login } }
            associatedPullRequests(first: 1) { nodes { number url } }
            file(path: $path) { object { ... on Blob { text isTruncated } } }
          }
        }
      }
    }
  }
}`;

/** A copy of the adapter's first-parent document builder (src/github/history.ts). */
export function firstParentsQuery(commits: number, blobs: number, merges: number): string {
  const range = (n: number, p: string) => Array.from({ length: n }, (_, i) => `${p}${i}`);
  const vars = [
    '$owner: String!',
    '$name: String!',
    ...(commits > 0 ? ['$path: String!'] : []),
    ...range(commits, '$c').map((v) => `${v}: String!`),
    ...range(blobs, '$b').map((v) => `${v}: GitObjectID!`),
    ...range(merges, '$m').map((v) => `${v}: String!`),
  ];
  const fields = [
    ...range(commits, 'c').map(
      (a) =>
        `${a}: object(expression: $${a}) { ... on Commit { oid committedDate message url author { name user { login } } associatedPullRequests(first: 1) { nodes { number url } } parents { totalCount } file(path: $path) { oid } } }`,
    ),
    ...range(blobs, 'b').map((a) => `${a}: object(oid: $${a}) { ... on Blob { text isTruncated } }`),
    ...range(merges, 'm').map((a) => `${a}: object(expression: $${a}) { ... on Commit { message } }`),
  ];
  return `query RewindFirstParents(${vars.join(', ')}) { repository(owner: $owner, name: $name) { ${fields.join(' ')} } }`;
}

/** A copy of the adapter's auto-merge mutation (src/github/repository.ts). */
export const ENABLE_AUTO_MERGE_MUTATION = `
mutation RewindEnableAutoMerge($pullRequestId: ID!, $commitHeadline: String, $commitBody: String) {
  enablePullRequestAutoMerge(input: {pullRequestId: $pullRequestId, mergeMethod: SQUASH, commitHeadline: $commitHeadline, commitBody: $commitBody}) {
    pullRequest { number autoMergeRequest { enabledAt } }
  }
}`;

const normalize = (q: string): string =>
  q
    .replace(/\s+/g, ' ')
    .replace(/\s*([{}():,!$])\s*/g, '$1')
    .trim();

/** GitHub's noreply addresses name the account: `login@` or `12345+login@users.noreply.github.com`. */
export function noreplyLogin(email: string): string | undefined {
  return /^(?:\d+\+)?([A-Za-z0-9-]+)@users\.noreply\.github\.com$/i.exec(email)?.[1];
}

export function operationName(query: string): string | undefined {
  return /^\s*(?:query|mutation)\s+([A-Za-z_][A-Za-z0-9_]*)/.exec(query)?.[1];
}

export interface GraphqlOptions {
  repoLookup(owner: string, name: string): RepoModel | undefined;
  /** every repository, to find a pull request by its node id */
  repos(): Iterable<RepoModel>;
  now(): Date;
  /** Blob.text longer than this is cut and isTruncated set, as GitHub does for large blobs. */
  blobTextLimit: number;
  /** http://127.0.0.1:PORT: web pages (commit, pull request) live under it, as github.com's beside api.github.com */
  baseUrl: string;
  /** GitHub login of a commit author's email, as GitHub maps verified emails to accounts */
  loginOf?(email: string): string | undefined;
}

function gqlError(message: string, extra: Record<string, unknown> = {}): EmulatorResponse {
  return { status: 200, body: { data: null, errors: [{ message, locations: [], ...extra }] } };
}

/** How many variables named `<prefix>0`, `<prefix>1`, … the request has. */
function countVars(vars: unknown, prefix: string): number {
  let n = 0;
  while (field(vars, `${prefix}${n}`) !== undefined) n += 1;
  return n;
}

function notFoundRepository(owner: string, name: string): EmulatorResponse {
  return {
    status: 200,
    body: {
      data: { repository: null },
      errors: [
        {
          type: 'NOT_FOUND',
          path: ['repository'],
          message: `Could not resolve to a Repository with the name '${owner}/${name}'.`,
        },
      ],
    },
  };
}

/** GitHub's answers: a repository without "Allow auto-merge", a PR it could merge right now, else armed. */
function enableAutoMerge(body: unknown, opts: GraphqlOptions): EmulatorResponse {
  const vars = field(body, 'variables');
  const id = field(vars, 'pullRequestId');
  const unprocessable = (message: string): EmulatorResponse => ({
    status: 200,
    body: {
      data: { enablePullRequestAutoMerge: null },
      errors: [
        {
          type: 'UNPROCESSABLE',
          path: ['enablePullRequestAutoMerge'],
          locations: [{ line: 3, column: 3 }],
          message,
        },
      ],
    },
  });
  for (const repo of opts.repos()) {
    const pr = repo.allPulls().find((p) => `PR_${p.id}` === id);
    if (pr === undefined) continue;
    if (!repo.allowAutoMerge) return unprocessable('Auto merge is not allowed for this repository');
    if (pr.state !== 'open')
      return unprocessable('Pull request is not in the correct state to enable auto-merge');
    if (pendingCheck(repo, pr) === undefined) return unprocessable('Pull request is in clean status');
    const headline = field(vars, 'commitHeadline');
    const commitBody = field(vars, 'commitBody');
    const enabledAt = opts.now().toISOString();
    pr.autoMerge = {
      commitHeadline: typeof headline === 'string' ? headline : undefined,
      commitBody: typeof commitBody === 'string' ? commitBody : undefined,
      enabledAt,
    };
    return {
      status: 200,
      body: {
        data: {
          enablePullRequestAutoMerge: { pullRequest: { number: pr.number, autoMergeRequest: { enabledAt } } },
        },
      },
    };
  }
  return {
    status: 200,
    body: {
      data: { enablePullRequestAutoMerge: null },
      errors: [
        {
          type: 'NOT_FOUND',
          path: ['enablePullRequestAutoMerge'],
          message: `Could not resolve to a node with the global id of '${String(id)}'`,
        },
      ],
    },
  };
}

/** GitHub lists the pull requests whose merge brought the commit in, or that carry it on their head. */
function associatedPulls(
  repo: RepoModel,
  sha: string,
  opts: GraphqlOptions,
): { number: number; url: string }[] {
  return repo.pulls
    .filter((p) => p.mergeCommitSha === sha || p.headSha === sha)
    .map((p) => ({ number: p.number, url: `${opts.baseUrl}/${repo.fullName}/pull/${p.number}` }));
}

/**
 * RewindFirstParents: aliased `object(expression:)` (rev-parse: `<sha>~<n>`,
 * `<sha>^2`, a branch) and `object(oid:)` lookups; an expression that resolves
 * to nothing is null, as on GitHub.
 */
function firstParents(vars: unknown, opts: GraphqlOptions): EmulatorResponse {
  const owner = field(vars, 'owner');
  const name = field(vars, 'name');
  const path = field(vars, 'path');
  if (typeof owner !== 'string' || typeof name !== 'string')
    return gqlError('Variables owner and name must be strings', { type: 'INVALID_VARIABLES' });
  const repo = opts.repoLookup(owner, name);
  if (repo === undefined) return notFoundRepository(owner, name);
  const out: Record<string, unknown> = {};
  const expr = (k: string): string | undefined => {
    const v = field(vars, k);
    if (typeof v !== 'string') return undefined;
    const sha = repo.resolveExpression(v);
    return sha === undefined || !repo.commits.has(sha) ? undefined : sha;
  };
  for (let i = 0; i < countVars(vars, 'c'); i++) {
    const sha = expr(`c${i}`);
    if (sha === undefined || typeof path !== 'string') {
      out[`c${i}`] = null;
      continue;
    }
    const c = repo.commit(sha);
    const content = c.tree.get(path);
    const login = opts.loginOf?.(c.author.email);
    out[`c${i}`] = {
      oid: c.sha,
      committedDate: c.committer.date,
      message: c.message,
      url: `${opts.baseUrl}/${repo.fullName}/commit/${c.sha}`,
      author: { name: c.author.name, user: login === undefined ? null : { login } },
      associatedPullRequests: { nodes: associatedPulls(repo, c.sha, opts).slice(0, 1) },
      parents: { totalCount: c.parents.length },
      file: content === undefined ? null : { oid: blobSha(content) },
    };
  }
  for (let i = 0; i < countVars(vars, 'b'); i++) {
    const content = repo.blobs.get(String(field(vars, `b${i}`)));
    const text = content?.slice(0, opts.blobTextLimit);
    out[`b${i}`] = content === undefined ? null : { text, isTruncated: (text?.length ?? 0) < content.length };
  }
  for (let i = 0; i < countVars(vars, 'm'); i++) {
    const sha = expr(`m${i}`);
    out[`m${i}`] = sha === undefined ? null : { message: repo.commit(sha).message };
  }
  return { status: 200, body: { data: { repository: out } } };
}

export function handleGraphql(body: unknown, opts: GraphqlOptions): EmulatorResponse {
  const query = field(body, 'query');
  if (typeof query === 'string' && normalize(query) === normalize(ENABLE_AUTO_MERGE_MUTATION))
    return enableAutoMerge(body, opts);
  if (typeof query === 'string' && operationName(query) === 'RewindFirstParents') {
    const vars = field(body, 'variables');
    const expected = firstParentsQuery(countVars(vars, 'c'), countVars(vars, 'b'), countVars(vars, 'm'));
    if (normalize(query) === normalize(expected)) return firstParents(vars, opts);
  }
  if (typeof query !== 'string' || normalize(query) !== normalize(FILE_HISTORY_QUERY)) {
    throw new HttpError(
      400,
      `emulator does not know this GraphQL document (operation ${typeof query === 'string' ? (operationName(query) ?? 'anonymous') : 'missing'})`,
    );
  }
  const vars = field(body, 'variables');
  const str = (k: string): string | undefined => {
    const v = field(vars, k);
    return typeof v === 'string' && v !== '' ? v : undefined;
  };
  const owner = str('owner');
  const name = str('name');
  const expression = str('expression');
  const path = str('path');
  const first = field(vars, 'first');
  const after = field(vars, 'after') ?? null;
  if (owner === undefined || name === undefined || expression === undefined || path === undefined) {
    return gqlError('Variables owner, name, expression and path must be non-empty strings', {
      type: 'INVALID_VARIABLES',
    });
  }
  if (typeof first !== 'number' || !Number.isInteger(first) || first < 1 || first > 100) {
    return gqlError(
      `Requesting ${String(first)} records on the \`history\` connection exceeds the \`first\` limit of 100 records.`,
      { type: 'EXCESSIVE_PAGINATION' },
    );
  }
  if (after !== null && (typeof after !== 'string' || !/^[0-9a-f]{40} \d+$/.test(after))) {
    return gqlError(`\`${String(after)}\` does not appear to be a valid cursor.`, {
      type: 'INVALID_CURSOR_ARGUMENTS',
    });
  }
  const repo = opts.repoLookup(owner, name);
  if (repo === undefined) return notFoundRepository(owner, name);
  // GitHub's history cursors carry the commit the walk started from, so later pages stay on that snapshot.
  const [cursorSha, cursorOffset] =
    after === null ? [undefined, 0] : [after.slice(0, 40), Number(after.slice(41)) + 1];
  const start = cursorSha ?? repo.resolve(expression);
  if (start === undefined || !repo.commits.has(start))
    return { status: 200, body: { data: { repository: { object: null } } } };
  const all = [...repo.pathHistory(start, path)];
  const nodes = all.slice(cursorOffset, cursorOffset + first).map((c) => {
    const content = c.tree.get(path);
    const text = content === undefined ? undefined : content.slice(0, opts.blobTextLimit);
    const login = opts.loginOf?.(c.author.email);
    // GitHub lists the pull requests whose merge brought the commit in, or that carry it on their head.
    const prs = repo.pulls
      .filter((p) => p.mergeCommitSha === c.sha || p.headSha === c.sha)
      .map((p) => ({ number: p.number, url: `${opts.baseUrl}/${repo.fullName}/pull/${p.number}` }));
    return {
      oid: c.sha,
      message: c.message,
      committedDate: c.committer.date,
      url: `${opts.baseUrl}/${repo.fullName}/commit/${c.sha}`,
      author: { name: c.author.name, user: login === undefined ? null : { login } },
      associatedPullRequests: { nodes: prs.slice(0, 1) },
      file:
        content === undefined
          ? null
          : { object: { text, isTruncated: (text?.length ?? 0) < content.length } },
    };
  });
  const end = cursorOffset + nodes.length;
  return {
    status: 200,
    body: {
      data: {
        repository: {
          object: {
            history: {
              pageInfo: {
                hasNextPage: end < all.length,
                endCursor: nodes.length === 0 ? null : `${start} ${end - 1}`,
              },
              nodes,
            },
          },
        },
      },
    },
  };
}
