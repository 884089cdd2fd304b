/**
 * GitOpsRepository on GitHub's REST API (and GraphQL for history). Every
 * write is an idempotent `ensure` step that looks before it creates, so a
 * retried job converges on one branch, one commit and one pull request.
 */
import { RewindError } from '../core/errors.ts';
import type {
  ChangeRequest,
  FileRef,
  GitOpsRepository,
  HeadFile,
  HistoryWalkEnd,
  HistoryWalkOptions,
  MergeRequest,
  PullRequest,
  RepoRef,
  AutoMergeResult,
} from '../core/ports.ts';
import type { FileCommit } from '../core/types.ts';
import { call, githubMessage, httpStatus } from './errors.ts';
import { fileHistory, type HistoryPaging } from './history.ts';
import type { GitHubClient } from './octokit.ts';
import { silentLogger, type LogSink } from '../observability/logger.ts';
import { REWIND_LABEL } from '../core/plan.ts';
export { REWIND_LABEL };

export interface GitHubRepositoryOptions {
  octokit: GitHubClient;
  logger?: LogSink;
  history?: HistoryPaging;
}

interface PullLike {
  number: number;
  html_url: string;
  title: string;
  state: string;
  merged?: boolean;
  merged_at: string | null;
  merge_commit_sha?: string | null;
  node_id?: string;
  head: { ref: string; sha: string; repo: { full_name: string } | null };
  base?: { sha: string };
  labels: ({ name?: string } | string)[];
  requested_reviewers?: ({ login: string } | null)[] | null;
}

function toPullRequest(p: PullLike, headSha = p.head.sha): PullRequest {
  return {
    number: p.number,
    htmlUrl: p.html_url,
    headBranch: p.head.ref,
    headSha,
    title: p.title,
    state: p.state === 'closed' ? 'closed' : 'open',
    merged: p.merged ?? p.merged_at !== null,
    mergeCommitSha: (p.merged ?? p.merged_at !== null) ? (p.merge_commit_sha ?? null) : null,
  };
}

const labelNames = (p: PullLike): string[] =>
  p.labels.map((l) => (typeof l === 'string' ? l : (l.name ?? '')));
const sameRepo = (p: PullLike, r: RepoRef): boolean =>
  p.head.repo?.full_name.toLowerCase() === `${r.owner}/${r.repo}`.toLowerCase();

/** The contents API answers a stale `sha` with 409, and a missing one (file created meanwhile) with 422. */
const contentsConflict = (status: number, message: string): boolean =>
  status === 409 || (status === 422 && /"?sha"?/.test(message));
/** 409 "Head branch was modified"; 405 "Base branch was modified" while GitHub recomputes mergeability. */
const mergeConflict = (status: number, message: string): boolean =>
  status === 409 || (status === 405 && /branch was modified/i.test(message));

/** GitHub's mutation; the emulator keeps a copy of this document. */
export const ENABLE_AUTO_MERGE = `
mutation RewindEnableAutoMerge($pullRequestId: ID!, $commitHeadline: String, $commitBody: String) {
  enablePullRequestAutoMerge(input: {pullRequestId: $pullRequestId, mergeMethod: SQUASH, commitHeadline: $commitHeadline, commitBody: $commitBody}) {
    pullRequest { number autoMergeRequest { enabledAt } }
  }
}`;

function autoMergeErrors(err: unknown): string[] {
  const errors = (err as { errors?: unknown } | null)?.errors;
  if ((err as Error | null)?.name !== 'GraphqlResponseError' || !Array.isArray(errors)) return [];
  return (errors as { message?: unknown }[]).map((e) => (typeof e.message === 'string' ? e.message : ''));
}

export function createGitHubRepository(opts: GitHubRepositoryOptions): GitOpsRepository {
  const { octokit } = opts;
  const logger = opts.logger ?? silentLogger;

  async function branchHead(r: RepoRef, branch: string, operation: string): Promise<string> {
    const res = await call(operation, () =>
      octokit.rest.git.getRef({ owner: r.owner, repo: r.repo, ref: `heads/${branch}` }),
    );
    return res.data.object.sha;
  }

  /** The file at a ref, or undefined when it does not exist there. */
  async function fileAt(
    ref: FileRef,
    at: string,
    operation: string,
  ): Promise<{ content: string; blobSha: string } | undefined> {
    try {
      const res = await octokit.rest.repos.getContent({
        owner: ref.owner,
        repo: ref.repo,
        path: ref.path,
        ref: at,
      });
      const data = res.data;
      if (Array.isArray(data) || data.type !== 'file')
        throw new RewindError('github_invalid', `GitHub ${operation}: ${ref.path} is not a file`);
      if (!('content' in data) || data.encoding !== 'base64') {
        throw new RewindError(
          'github_invalid',
          `GitHub ${operation}: ${ref.path} is too large for the contents API (${data.size} bytes)`,
        );
      }
      return { content: Buffer.from(data.content, 'base64').toString('utf8'), blobSha: data.sha };
    } catch (err) {
      if (httpStatus(err) === 404) return undefined;
      return call(operation, () => Promise.reject(err));
    }
  }

  async function findOpenPullFor(r: RepoRef, branch: string, base: string): Promise<PullLike | undefined> {
    const res = await call(`find the pull request for ${branch}`, () =>
      octokit.rest.pulls.list({
        owner: r.owner,
        repo: r.repo,
        state: 'open',
        head: `${r.owner}:${branch}`,
        base,
        per_page: 10,
      }),
    );
    return (res.data as PullLike[]).find((p) => p.head.ref === branch && sameRepo(p, r));
  }

  /**
   * Opens the head branch's PR. No look first: proposeChange calls this only when there is none, either
   * because it created the branch just now (GitHub closes a branch's PRs when the branch is deleted) or
   * because it has just looked. A racing worker's PR answers 422 "already exists", and is then taken.
   */
  async function openPull(req: ChangeRequest): Promise<{ pull: PullLike; created: boolean }> {
    const { owner, repo, branch: base } = req.file;
    try {
      const res = await octokit.rest.pulls.create({
        owner,
        repo,
        head: req.headBranch,
        base,
        title: req.title,
        body: req.body,
      });
      return { pull: res.data as PullLike, created: true };
    } catch (err) {
      // Another worker opened it meanwhile.
      if (httpStatus(err) === 422 && /already exists/i.test(githubMessage(err))) {
        const raced = await findOpenPullFor(req.file, req.headBranch, base);
        if (raced !== undefined) return { pull: raced, created: false };
      }
      return call(`open a pull request for ${req.headBranch}`, () => Promise.reject(err));
    }
  }

  /**
   * Points an existing head branch at exactly one new commit on top of the base (stale: an earlier
   * remediation's, a half-done attempt's, or main moved since). The commit is built first with the
   * Git Data API and the ref moved once, straight from its old commit to the new one: moving it to
   * the base first would leave an open PR with no commits, and GitHub closes such a PR.
   */
  async function replaceBranchCommit(req: ChangeRequest): Promise<string> {
    const { owner, repo, path } = req.file;
    const base = req.base.commitSha;
    const baseCommit = await call(`read commit ${base} of ${owner}/${repo}`, () =>
      octokit.rest.git.getCommit({ owner, repo, commit_sha: base }),
    );
    // 100644: the contents API cannot tell the mode, and a GitOps manifest is never executable.
    const tree = await call(`build the tree of ${path} for ${req.headBranch}`, () =>
      octokit.rest.git.createTree({
        owner,
        repo,
        base_tree: baseCommit.data.tree.sha,
        tree: [
          { path, mode: '100644', type: 'blob', content: req.content },
          ...(req.extraFiles ?? []).map((f) => ({
            path: f.path,
            mode: '100644' as const,
            type: 'blob' as const,
            content: f.content,
          })),
        ],
      }),
    );
    const commit = await call(`commit ${path} for ${req.headBranch}`, () =>
      octokit.rest.git.createCommit({
        owner,
        repo,
        message: req.commitMessage,
        tree: tree.data.sha,
        parents: [base],
        author: req.author,
        committer: req.author,
      }),
    );
    const sha = commit.data.sha;
    await call(`move ${req.headBranch} to ${sha}`, () =>
      octokit.rest.git.updateRef({ owner, repo, ref: `heads/${req.headBranch}`, sha, force: true }),
    );
    return sha;
  }

  async function ensureReviewers(r: RepoRef, pr: PullLike, reviewers: readonly string[]): Promise<void> {
    const already = new Set((pr.requested_reviewers ?? []).map((u) => u?.login));
    const missing = [...new Set(reviewers)].filter((r) => !already.has(r));
    if (missing.length === 0) return;
    const request = (logins: string[]) =>
      octokit.rest.pulls.requestReviewers({
        owner: r.owner,
        repo: r.repo,
        pull_number: pr.number,
        reviewers: logins,
      });
    try {
      await request(missing);
    } catch (err) {
      if (httpStatus(err) !== 422)
        return call(`request reviewers on #${pr.number}`, () => Promise.reject(err));
      // GitHub rejects the whole list for one bad login: ask one by one so the valid ones still get asked.
      for (const login of missing) {
        try {
          if (missing.length > 1) await request([login]);
          else throw err;
        } catch (one) {
          if (httpStatus(one) !== 422)
            return call(`request reviewers on #${pr.number}`, () => Promise.reject(one));
          logger.warn(
            { pr: pr.number, reviewer: login, reason: githubMessage(one) },
            'reviewer could not be requested',
          );
        }
      }
    }
    return undefined;
  }

  /** Deletes a branch; false when there was none. */
  async function deleteBranch(r: RepoRef, branch: string): Promise<boolean> {
    const { owner, repo } = r;
    try {
      await octokit.rest.git.deleteRef({ owner, repo, ref: `heads/${branch}` });
      return true;
    } catch (err) {
      // GitHub answers 422 "Reference does not exist" (404 on some versions): nothing to delete.
      if (httpStatus(err) === 422 || httpStatus(err) === 404) return false;
      return call(`delete branch ${branch}`, () => Promise.reject(err));
    }
  }

  return {
    async readFile(ref: FileRef): Promise<HeadFile> {
      const operation = `read ${ref.owner}/${ref.repo}@${ref.branch}:${ref.path}`;
      // Read at the head commit, not the branch name, so content and commitSha belong together.
      const commitSha = await branchHead(ref, ref.branch, operation);
      const file = await fileAt(ref, commitSha, operation);
      if (file === undefined)
        throw new RewindError(
          'github_not_found',
          `GitHub ${operation} failed: ${ref.path} does not exist at ${ref.branch} (${commitSha})`,
        );
      return { ...file, commitSha };
    },

    fileHistory(
      ref: FileRef,
      walk?: HistoryWalkOptions,
    ): AsyncGenerator<FileCommit, HistoryWalkEnd, undefined> {
      return fileHistory(octokit, ref, opts.history, walk);
    },

    async findOpenPullRequest(
      r: RepoRef,
      headPrefix: string,
      opts: { unlabelled?: boolean } = {},
    ): Promise<PullRequest | null> {
      const pages = octokit.paginate.iterator(octokit.rest.pulls.list, {
        owner: r.owner,
        repo: r.repo,
        state: 'open',
        per_page: 100,
      });
      try {
        for await (const page of pages) {
          const hit = (page.data as PullLike[]).find(
            (p) =>
              p.head.ref.startsWith(headPrefix) &&
              sameRepo(p, r) &&
              (opts.unlabelled === true || labelNames(p).includes(REWIND_LABEL)),
          );
          if (hit !== undefined) return toPullRequest(hit);
        }
      } catch (err) {
        return call(`list open pull requests of ${r.owner}/${r.repo}`, () => Promise.reject(err));
      }
      return null;
    },

    async proposeChange(req: ChangeRequest): Promise<PullRequest> {
      const { owner, repo, path } = req.file;
      const branchOp = `create branch ${req.headBranch} in ${owner}/${repo}`;
      let created = true;
      try {
        await octokit.rest.git.createRef({
          owner,
          repo,
          ref: `refs/heads/${req.headBranch}`,
          sha: req.base.commitSha,
        });
      } catch (err) {
        if (!(httpStatus(err) === 422 && /already exists/i.test(githubMessage(err))))
          await call(branchOp, () => Promise.reject(err));
        created = false;
      }
      let pull: PullLike | undefined;
      let headSha: string | undefined;
      if (created && req.extraFiles?.length) {
        // two files in one commit: the contents API writes one, the Git Data API a whole tree
        headSha = await replaceBranchCommit(req);
      } else if (created) {
        const res = await call(
          `commit ${path} on ${req.headBranch}`,
          () =>
            octokit.rest.repos.createOrUpdateFileContents({
              owner,
              repo,
              path,
              branch: req.headBranch,
              message: req.commitMessage,
              content: Buffer.from(req.content, 'utf8').toString('base64'),
              sha: req.base.blobSha,
              author: req.author,
              committer: req.author,
            }),
          { isConflict: contentsConflict },
        );
        headSha = res.data.commit.sha;
      } else {
        // A retry of this remediation finds its branch and PR: nothing to write when the content is there.
        pull = await findOpenPullFor(req.file, req.headBranch, req.file.branch);
        const onBranch = await fileAt(req.file, req.headBranch, `read ${path} on ${req.headBranch}`);
        let same = onBranch?.content === req.content;
        for (const f of req.extraFiles ?? []) {
          if (!same) break;
          const extra = await fileAt(
            { ...req.file, path: f.path },
            req.headBranch,
            `read ${f.path} on ${req.headBranch}`,
          );
          same = extra?.content === f.content;
        }
        if (pull === undefined || !same) headSha = await replaceBranchCommit(req);
      }
      let createdPull = false;
      if (pull === undefined) ({ pull, created: createdPull } = await openPull(req));
      const wanted = [...new Set([REWIND_LABEL, ...req.labels])];
      const have = new Set(labelNames(pull));
      const missingLabels = wanted.filter((l) => !have.has(l));
      if (missingLabels.length > 0) {
        const number = pull.number;
        await call(`label #${number}`, () =>
          octokit.rest.issues.addLabels({ owner, repo, issue_number: number, labels: missingLabels }),
        );
      }
      await ensureReviewers(req.file, pull, req.reviewers);
      const proposed = toPullRequest(pull, headSha ?? pull.head.sha);
      return createdPull && pull.base?.sha ? { ...proposed, baseShaAtCreation: pull.base.sha } : proposed;
    },

    async mergePullRequest(req: MergeRequest): Promise<{ sha: string }> {
      const res = await call(
        `squash-merge #${req.number} of ${req.repo.owner}/${req.repo.repo}`,
        () =>
          octokit.rest.pulls.merge({
            owner: req.repo.owner,
            repo: req.repo.repo,
            pull_number: req.number,
            merge_method: 'squash',
            sha: req.headSha,
            commit_title: req.commitTitle,
            commit_message: req.commitMessage,
          }),
        { isConflict: mergeConflict },
      );
      return { sha: res.data.sha };
    },

    async getPullRequest(r: RepoRef, number: number): Promise<PullRequest> {
      const res = await call(`read #${number} of ${r.owner}/${r.repo}`, () =>
        octokit.rest.pulls.get({ owner: r.owner, repo: r.repo, pull_number: number }),
      );
      return toPullRequest(res.data as PullLike);
    },

    async enableAutoMerge(r: RepoRef, number: number, req): Promise<AutoMergeResult> {
      const pr = (
        await call(`read #${number} of ${r.owner}/${r.repo}`, () =>
          octokit.rest.pulls.get({ owner: r.owner, repo: r.repo, pull_number: number }),
        )
      ).data as PullLike;
      if (pr.merged === true) return { kind: 'merged' };
      try {
        await octokit.graphql(ENABLE_AUTO_MERGE, {
          pullRequestId: pr.node_id,
          commitHeadline: req.commitTitle,
          commitBody: req.commitMessage,
        });
        return { kind: 'enabled' };
      } catch (err) {
        const messages = autoMergeErrors(err);
        // GitHub refuses to arm auto-merge on a PR it could merge right now ("clean status"): the caller merges.
        if (messages.some((m) => /clean status/i.test(m))) return { kind: 'merged' };
        const off = messages.find((m) => /auto ?merge is not allowed/i.test(m));
        if (off !== undefined) return { kind: 'unavailable', reason: off };
        return call(`enable auto-merge on #${number}`, () => Promise.reject(err));
      }
    },

    async closePullRequest(r: RepoRef, number: number, comment: string): Promise<void> {
      const { owner, repo } = r;
      const pr = (
        await call(`read #${number} of ${owner}/${repo}`, () =>
          octokit.rest.pulls.get({ owner, repo, pull_number: number }),
        )
      ).data as PullLike;
      if (pr.state === 'closed') return;
      await call(`comment on #${number}`, () =>
        octokit.rest.issues.createComment({ owner, repo, issue_number: number, body: comment }),
      );
      await call(`close #${number}`, () =>
        octokit.rest.pulls.update({ owner, repo, pull_number: number, state: 'closed' }),
      );
      // Already gone (deleted by hand or by the repository's auto-delete) is the goal reached too.
      if (sameRepo(pr, r)) await deleteBranch(r, pr.head.ref);
    },

    deleteBranch,
  };
}
