/**
 * A file's history as the branch itself ran it: the first-parent chain from a
 * commit, and at each commit that changed the file (relative to its first
 * parent) the file as it was then.
 *
 * Not GraphQL `history(path:)`: that follows `git log`'s default history
 * simplification, which walks into a merged branch (a merge whose file equals
 * its second parent's is hidden, and the commits of the first-parent line
 * since the fork are never listed). On a repo that merges with merge commits
 * it would offer an rc the branch never ran, dated when it was written on its
 * branch rather than when it reached this one. GitHub has no first-parent
 * filter, so the chain is read with rev-parse expressions (`<sha>~<n>`),
 * `pageSize` commits per request as aliases, each with only the blob id of the
 * file. The texts of the blobs that changed (and, for a merge that brought a
 * change, its second parent's message, where a merged rewind PR keeps its
 * trailers) ride along in the next request, so a walk costs about one request
 * per `pageSize` commits of the branch.
 */
import { RewindError } from '../core/errors.ts';
import type { FileRef, HistoryWalkEnd, HistoryWalkOptions } from '../core/ports.ts';
import type { FileCommit } from '../core/types.ts';
import { call } from './errors.ts';
import type { GitHubClient } from './octokit.ts';

export interface HistoryPaging {
  /** first-parent commits read per request (default 100) */
  pageSize?: number;
}

/**
 * The one document the walk sends, for `commits` chain aliases, `blobs` blob
 * texts and `merges` second-parent messages. Every expression and id is a
 * variable, never spliced into the text. The emulator builds the same
 * document (test/support/github-emulator/graphql.ts): change both together.
 */
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

interface ChainNode {
  oid: string;
  committedDate: string;
  message: string;
  url?: string | null;
  author?: { name: string | null; user: { login: string } | null } | null;
  associatedPullRequests?: { nodes: Array<{ number: number; url: string } | null> | null } | null;
  parents: { totalCount: number };
  file: { oid: string } | null;
}

type Answer = Record<string, unknown> | null;

interface PendingChange {
  node: ChainNode;
  mergedMessage?: string;
}

/** Who made the commit and through which pull request: links for the reviewer, never decisions. */
function details(node: ChainNode): Pick<FileCommit, 'url' | 'author' | 'pullRequest'> {
  const name = node.author?.name ?? node.author?.user?.login;
  const login = node.author?.user?.login;
  const pr = node.associatedPullRequests?.nodes?.[0];
  return {
    ...(node.url ? { url: node.url } : {}),
    ...(name ? { author: { name, ...(login ? { login } : {}) } } : {}),
    ...(pr ? { pullRequest: { number: pr.number, url: pr.url } } : {}),
  };
}

/** A branch name, or a full commit sha to pin the walk to exactly what readFile saw. */
function expressionOf(branchOrSha: string): string {
  return /^[0-9a-f]{40}$/i.test(branchOrSha) ? branchOrSha : `refs/heads/${branchOrSha}`;
}

/** Blob.text is cut for large files; the raw contents endpoint serves them whole (at a commit). */
async function fullText(octokit: GitHubClient, ref: FileRef, commit: string): Promise<string> {
  const res = await call(`read ${ref.owner}/${ref.repo}:${ref.path} at ${commit}`, () =>
    octokit.rest.repos.getContent({
      owner: ref.owner,
      repo: ref.repo,
      path: ref.path,
      ref: commit,
      mediaType: { format: 'raw' },
    }),
  );
  return String(res.data as unknown);
}

/**
 * Commits of the first-parent chain from `ref.branch` that changed `ref.path`,
 * newest first. Stops (returning where) at the root or at a commit in
 * `opts.stopAt` (history below it is already known); stop iterating and no
 * more requests are made.
 */
export async function* fileHistory(
  octokit: GitHubClient,
  ref: FileRef,
  paging: HistoryPaging = {},
  opts: HistoryWalkOptions = {},
): AsyncGenerator<FileCommit, HistoryWalkEnd> {
  const operation = `history of ${ref.owner}/${ref.repo}@${ref.branch}:${ref.path}`;
  const pageSize = Math.max(1, Math.min(paging.pageSize ?? 100, 100));
  const stopAt = opts.stopAt ?? new Set<string>();
  const texts = new Map<string, string>();
  let base = expressionOf(ref.branch);
  let offset = 0;
  /** the newest chain commit not yet classified: that needs its first parent's blob */
  let previous: ChainNode | undefined;
  let pending: PendingChange[] = [];
  let end: HistoryWalkEnd | undefined;
  let first = true;

  while (end === undefined || pending.length > 0) {
    const commits = end === undefined ? pageSize : 0;
    const blobs = [
      ...new Set(
        pending.flatMap((p) => (p.node.file && !texts.has(p.node.file.oid) ? [p.node.file.oid] : [])),
      ),
    ];
    const merges = pending.filter((p) => p.node.parents.totalCount > 1);
    const variables: Record<string, string> = { owner: ref.owner, name: ref.repo };
    if (commits > 0) variables.path = ref.path;
    for (let i = 0; i < commits; i++) variables[`c${i}`] = `${base}~${offset + i}`;
    blobs.forEach((oid, i) => (variables[`b${i}`] = oid));
    merges.forEach((p, i) => (variables[`m${i}`] = `${p.node.oid}^2`));
    const data = await call(operation, () =>
      octokit.graphql<{ repository: Record<string, Answer> | null }>(
        firstParentsQuery(commits, blobs.length, merges.length),
        variables,
      ),
    );
    const answers = data.repository;
    if (answers === null) {
      throw new RewindError(
        'github_not_found',
        `GitHub ${operation} failed: no repository ${ref.owner}/${ref.repo}`,
      );
    }
    for (const [i, oid] of blobs.entries()) {
      const blob = answers[`b${i}`] as { text?: string | null; isTruncated?: boolean } | null;
      const text = blob?.text ?? null;
      const at = pending.find((p) => p.node.file?.oid === oid)?.node.oid ?? '';
      texts.set(oid, text === null || blob?.isTruncated === true ? await fullText(octokit, ref, at) : text);
    }
    merges.forEach((p, i) => {
      const message = (answers[`m${i}`] as { message?: string } | null)?.message;
      if (message !== undefined) p.mergedMessage = message;
    });
    for (const p of pending) {
      yield {
        sha: p.node.oid,
        message: p.node.message,
        committedAt: p.node.committedDate,
        content: p.node.file === null ? null : (texts.get(p.node.file.oid) ?? null),
        ...(p.mergedMessage !== undefined ? { mergedMessage: p.mergedMessage } : {}),
        ...details(p.node),
      };
    }
    pending = [];
    for (let i = 0; i < commits && end === undefined; i++) {
      const node = answers[`c${i}`] as ChainNode | null | undefined;
      if (node === null || node === undefined || typeof node.oid !== 'string') {
        if (first) {
          throw new RewindError(
            'github_not_found',
            `GitHub ${operation} failed: no branch or commit ${ref.branch} in ${ref.owner}/${ref.repo}`,
          );
        }
        // past the root: the root commit changed the file if it has it
        if (previous?.file) pending.push({ node: previous });
        end = { stoppedAt: null };
        break;
      }
      first = false;
      if (previous !== undefined && previous.file?.oid !== node.file?.oid) pending.push({ node: previous });
      if (stopAt.has(node.oid)) {
        end = { stoppedAt: node.oid };
        break;
      }
      previous = node;
      base = node.oid;
      offset = 1;
      if (node.parents.totalCount === 0) {
        // the root: it changed the file if it has it (no page past it needed)
        if (node.file) pending.push({ node });
        end = { stoppedAt: null };
      }
    }
  }
  return end;
}
