/**
 * A file's history with its content at each commit, through GraphQL:
 * `history(path:)` returns up to 100 commits per request together with the
 * file's text, where REST needs one extra request per commit for contents.
 * Pages are full (100, GitHub's maximum): the rollback analysis reads the
 * whole history for rollback trailers, so a small first page would only add a request.
 */
import { RewindError } from '../core/errors.ts';
import type { FileRef } from '../core/ports.ts';
import type { FileCommit } from '../core/types.ts';
import { call } from './errors.ts';
import type { GitHubClient } from './octokit.ts';

/** The emulator keeps a copy of this document (test/support/github-emulator/graphql.ts); change both together. */
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

interface HistoryNode {
  oid: string;
  message: string;
  committedDate: string;
  url?: string | null;
  author?: { name: string | null; user: { login: string } | null } | null;
  associatedPullRequests?: { nodes: Array<{ number: number; url: string } | null> } | null;
  file: { object: { text?: string | null; isTruncated?: boolean } | null } | null;
}

interface HistoryResponse {
  repository: {
    object: {
      history?: { pageInfo: { hasNextPage: boolean; endCursor: string | null }; nodes: HistoryNode[] };
    } | null;
  } | null;
}

export interface HistoryPaging {
  /** size of the first page (default 100) */
  firstPage?: number;
  /** size of every later page (default 100, GitHub's maximum) */
  pageSize?: number;
}

/** Who made the commit and through which pull request: links for the reviewer, never decisions. */
function details(node: HistoryNode): Pick<FileCommit, 'url' | 'author' | 'pullRequest'> {
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

/** Blob.text is cut for large files; the raw contents endpoint serves them whole. */
async function fullText(octokit: GitHubClient, ref: FileRef, oid: string): Promise<string> {
  const res = await call(`read ${ref.owner}/${ref.repo}:${ref.path} at ${oid}`, () =>
    octokit.rest.repos.getContent({
      owner: ref.owner,
      repo: ref.repo,
      path: ref.path,
      ref: oid,
      mediaType: { format: 'raw' },
    }),
  );
  return String(res.data as unknown);
}

export async function* fileHistory(
  octokit: GitHubClient,
  ref: FileRef,
  paging: HistoryPaging = {},
): AsyncGenerator<FileCommit> {
  const operation = `history of ${ref.owner}/${ref.repo}@${ref.branch}:${ref.path}`;
  let after: string | null = null;
  let first = paging.firstPage ?? 100;
  for (;;) {
    const vars = {
      owner: ref.owner,
      name: ref.repo,
      expression: expressionOf(ref.branch),
      path: ref.path,
      first,
      after,
    };
    const data: HistoryResponse = await call(operation, () =>
      octokit.graphql<HistoryResponse>(FILE_HISTORY_QUERY, vars),
    );
    const history = data.repository?.object?.history;
    if (history === undefined) {
      throw new RewindError(
        'github_not_found',
        `GitHub ${operation} failed: no branch or commit ${ref.branch} in ${ref.owner}/${ref.repo}`,
      );
    }
    for (const node of history.nodes) {
      const blob = node.file?.object ?? null;
      let content: string | null = null;
      if (node.file !== null) {
        content = blob?.text ?? null;
        if (content === null || blob?.isTruncated === true) content = await fullText(octokit, ref, node.oid);
      }
      yield {
        sha: node.oid,
        message: node.message,
        committedAt: node.committedDate,
        content,
        ...details(node),
      };
    }
    if (!history.pageInfo.hasNextPage || history.pageInfo.endCursor === null) return;
    after = history.pageInfo.endCursor;
    first = paging.pageSize ?? 100;
  }
}
