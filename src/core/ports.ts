/**
 * The interfaces the processor needs from the outside world. Adapters in
 * src/github, src/policy, src/notify and src/audit implement them; tests may
 * pass real adapters pointed at local emulators.
 */
import type { Revision } from './rollback.ts';
import type { FileCommit } from './types.ts';

export interface RepoRef {
  owner: string;
  repo: string;
}

export interface FileRef extends RepoRef {
  branch: string;
  path: string;
}

export interface HeadFile {
  content: string;
  /** blob sha of the file at the branch head (needed to update it) */
  blobSha: string;
  /** commit sha of the branch head the file was read at */
  commitSha: string;
}

export interface PullRequest {
  number: number;
  htmlUrl: string;
  headBranch: string;
  headSha: string;
  title: string;
  state: 'open' | 'closed';
  merged: boolean;
  /** the commit on the base branch once merged */
  mergeCommitSha?: string | null;
  /**
   * the base branch's head when GitHub created this PR; set only by the call that created it (a
   * listed PR's base may be stale), so "the base did not move since we read it" costs no request
   */
  baseShaAtCreation?: string;
}

/** What enabling auto-merge achieved. */
export type AutoMergeResult =
  | { kind: 'enabled' }
  /** GitHub merged at once (the checks had passed meanwhile) */
  | { kind: 'merged' }
  /** the repository does not allow auto-merge: the PR waits for a human */
  | { kind: 'unavailable'; reason: string };

export interface ChangeRequest {
  file: FileRef;
  /** what was read at the base head: the update is based on it */
  base: HeadFile;
  /** head branch, e.g. rewind/checkout-prod/v1.1.0 */
  headBranch: string;
  /** the whole new file content */
  content: string;
  /** more files of the same repo in the same commit (the hold's ignore list), whole new contents */
  extraFiles?: readonly { path: string; content: string }[];
  commitMessage: string;
  author: { name: string; email: string };
  title: string;
  body: string;
  labels: readonly string[];
  reviewers: readonly string[];
}

export interface MergeRequest {
  repo: RepoRef;
  number: number;
  /** head sha the merge must apply to (GitHub answers 409 if it moved) */
  headSha: string;
  commitTitle: string;
  commitMessage: string;
}

export interface GitOpsRepository {
  /** The file at the branch head. github_not_found (non-retryable) when the repo, branch or file is missing. */
  readFile(ref: FileRef): Promise<HeadFile>;
  /**
   * The commits of the first-parent chain from `ref.branch` (a branch or a
   * commit sha) that changed `ref.path` relative to their first parent, newest
   * first, each with the file content at that commit: what the branch itself
   * ran, each version dated by when it reached the branch. Lazily paginated:
   * stop iterating and no more requests are made. Returns where it stopped.
   */
  fileHistory(ref: FileRef, opts?: HistoryWalkOptions): AsyncGenerator<FileCommit, HistoryWalkEnd, undefined>;
  /** The open pull request labelled `rewind` whose head branch starts with `headPrefix`, if any. */
  findOpenPullRequest(
    repo: RepoRef,
    headPrefix: string,
    /** unlabelled too: a PR whose labelling was cut short (its head branch alone names it rewind's) */
    opts?: { unlabelled?: boolean },
  ): Promise<PullRequest | null>;
  /**
   * Idempotently: branch `headBranch` from base.commitSha, one commit writing
   * `content` to the path (skipped when the branch already has it), the pull
   * request (reused when open), labels and reviewers. A file changed under
   * our feet is a retryable github_conflict.
   */
  proposeChange(req: ChangeRequest): Promise<PullRequest>;
  /** Squash merge. Returns the merge commit sha. */
  mergePullRequest(req: MergeRequest): Promise<{ sha: string }>;
  /** The pull request as GitHub has it now (merged? merge commit?): what a resumed remediation trusts. */
  getPullRequest(repo: RepoRef, number: number): Promise<PullRequest>;
  /**
   * Squash auto-merge (GraphQL enablePullRequestAutoMerge): GitHub merges once
   * required checks and reviews pass. Idempotent.
   */
  enableAutoMerge(
    repo: RepoRef,
    number: number,
    req: { commitTitle: string; commitMessage: string },
  ): Promise<AutoMergeResult>;
  /** Comment, then close; deletes the head branch. No-op when already closed. */
  closePullRequest(repo: RepoRef, number: number, comment: string): Promise<void>;
  /** Deletes a branch; false when there was none. The caller makes sure it is its own and unused. */
  deleteBranch(repo: RepoRef, branch: string): Promise<boolean>;
}

export interface HistoryWalkOptions {
  /** chain commits whose history is already known: the walk stops on reaching one */
  stopAt?: ReadonlySet<string>;
}

export interface HistoryWalkEnd {
  /** the `stopAt` commit the walk reached, or null at the root of the history */
  stoppedAt: string | null;
}

/** What one walk learned of a file's history below (and at) the commit it started from. */
export interface KnownHistory {
  /** newest first, up to the revision that ended the walk */
  revisions: Revision[];
}

/**
 * History below a commit never changes: a walk's result is kept per file (a
 * key naming repo, path and how versions are read) and commit, so the next
 * walk reads only the commits since.
 */
export interface HistoryCache {
  /** commits a stored walk started from, newest first */
  heads(file: string): Promise<string[]>;
  get(file: string, head: string): Promise<KnownHistory | null>;
  put(file: string, head: string, known: KnownHistory): Promise<void>;
}

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
