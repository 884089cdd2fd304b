/** The emulator's public types: what tests and the demo call. */
import type { FileChanges, Signature } from './git-model.ts';

export interface RecordedRequest {
  method: string;
  /** decoded pathname, e.g. /repos/acme/gitops/git/ref/heads/main */
  path: string;
  query: Record<string, string>;
  body: unknown;
  status: number;
  /** GraphQL operation name, for POST /graphql */
  operationName?: string;
  /** Date.now() when the request arrived and when its answer was written */
  receivedAt?: number;
  answeredAt?: number;
}

export interface RequestMatcher {
  method?: string;
  /** a RegExp tested against the decoded pathname, or a substring of it */
  pathPattern: string | RegExp;
  /** how many matching requests the rule applies to (default 1) */
  times?: number;
}

export interface FailRule extends RequestMatcher {
  status: number;
  /** default: GitHub's error shape with a message naming the injected fault */
  body?: unknown;
  headers?: Record<string, string>;
  /** handle the request first, then answer with the fault: the effect happened, the response was lost */
  after?: boolean;
}

export interface BeforeRule extends RequestMatcher {
  /** runs before the request is handled, e.g. to change a file behind the client's back */
  run(): void;
}

export interface Person {
  name: string;
  email: string;
}

export interface SeedCommit {
  message: string;
  /** path → new content, or null to delete; applied on top of the previous commit */
  files: FileChanges;
  date?: string | Date;
  author?: Person;
}

export interface SeedRepoOptions {
  owner: string;
  repo: string;
  defaultBranch?: string;
  commits: readonly SeedCommit[];
  /** logins that may be requested as reviewers; omitted = anyone */
  collaborators?: readonly string[];
}

export interface CommitSummary {
  sha: string;
  parents: readonly string[];
  message: string;
  author: Signature;
  committer: Signature;
  /** paths changed relative to the first parent */
  changedPaths: string[];
}

export interface PullSummary {
  number: number;
  title: string;
  body: string | null;
  state: 'open' | 'closed';
  merged: boolean;
  headRef: string;
  headSha: string;
  baseRef: string;
  labels: string[];
  requestedReviewers: string[];
  comments: string[];
  mergeCommitSha: string | null;
}

export interface GitHubEmulatorOptions {
  /** the token clients must send (default "test-token") */
  token?: string;
  /** the login the token belongs to (default "rewind-bot") */
  login?: string;
  now?: () => Date;
  /** GraphQL Blob.text beyond this many characters is truncated (default 512 KiB) */
  blobTextLimit?: number;
  /** a GitHub App installation: its JWT (iss = appId; signature not checked) is exchanged for `token` */
  app?: { appId: string | number; installationId: string | number };
  /** where to listen (default 127.0.0.1 on a free port); `publicUrl` is the base its links name */
  listen?: { host?: string; port?: number; publicUrl?: string };
  /** delay before each answer (network and GitHub's own time; benchmarks), default 0 */
  latencyMs?: number;
}

export interface GitHubEmulator {
  /** http://127.0.0.1:PORT: the baseUrl for Octokit */
  url: string;
  /** every request, in arrival order (cleared by clearRequests) */
  readonly requests: RecordedRequest[];
  readonly unknownRequests: RecordedRequest[];
  close(): Promise<void>;
  /** builds history commit by commit; returns the shas, oldest first */
  seedRepo(opts: SeedRepoOptions): { shas: string[]; headSha: string };
  /** a commit straight onto a branch (no HTTP): changes "behind the client's back" */
  commit(input: {
    owner: string;
    repo: string;
    branch: string;
    message: string;
    files: FileChanges;
    date?: string | Date;
    author?: Person;
  }): string;
  createBranch(owner: string, repo: string, branch: string, from?: string): string;
  /**
   * `git merge --no-ff head` into `base` (a merge commit with two parents, as
   * GitHub's "Create a merge commit" or a pushed local merge); a path both
   * sides changed must be given in `resolutions`. Returns the merge commit sha.
   */
  mergeBranch(input: {
    owner: string;
    repo: string;
    base: string;
    head: string;
    message?: string;
    date?: string | Date;
    resolutions?: FileChanges;
  }): string;
  /** seeds an open pull request, creating its head branch with one commit when missing */
  openPullRequest(input: {
    owner: string;
    repo: string;
    head: string;
    base?: string;
    title: string;
    body?: string;
    labels?: string[];
    files?: FileChanges;
  }): number;
  setCollaborators(owner: string, repo: string, logins: readonly string[] | null): void;
  /** the repository's squash merge commit defaults (Settings → Pull Requests) */
  setSquashDefaults(
    owner: string,
    repo: string,
    defaults: { title: 'PR_TITLE' | 'COMMIT_OR_PR_TITLE'; message: 'PR_BODY' | 'COMMIT_MESSAGES' | 'BLANK' },
  ): void;
  /** branch protection: merges into `branch` need these status checks to succeed on the PR head */
  protectBranch(
    owner: string,
    repo: string,
    branch: string,
    protection: { requiredChecks: readonly string[] },
  ): void;
  /** the repository setting "Allow auto-merge" (default off, as on GitHub) */
  setAllowAutoMerge(owner: string, repo: string, allow: boolean): void;
  /** report the required checks of a PR's head (default success); an armed auto-merge then merges */
  completeChecks(owner: string, repo: string, prNumber: number, state?: 'success' | 'failure'): void;
  autoMergeEnabled(owner: string, repo: string, prNumber: number): boolean;
  failNext(rule: FailRule): void;
  /**
   * The next matching request never gets an answer (a worker dies while it waits): with `after`,
   * GitHub does the work first. `arrived` resolves when it came in; `drop()` ends the connection.
   */
  hangNext(rule: RequestMatcher & { after?: boolean }): { arrived: Promise<void>; drop(): void };
  /**
   * The next matching requests hit GitHub's secondary rate limit: 403, GitHub's
   * message, `retry-after` in seconds (omitted when undefined, as GitHub sometimes
   * does), and a primary quota that is not exhausted.
   */
  secondaryRateLimitNext(rule: RequestMatcher & { retryAfterSeconds?: number }): void;
  beforeNext(rule: BeforeRule): void;
  getFile(owner: string, repo: string, branch: string, path: string): string | undefined;
  /** newest first along first parents */
  listCommits(owner: string, repo: string, branch: string): CommitSummary[];
  branches(owner: string, repo: string): string[];
  pulls(owner: string, repo: string): PullSummary[];
  /** unified diff of the pull request (head against its merge base with base) */
  diff(owner: string, repo: string, prNumber: number): string;
  clearRequests(): void;
  /** throws listing every request the emulator did not implement */
  assertNoUnknownRequests(): void;
}
