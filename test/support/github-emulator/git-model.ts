/**
 * An exact in-memory model of the Git history the emulator serves: commits
 * with parents and full trees, branches, and the pull requests on top. Trees
 * are flat maps path → content; shas are computed the way git computes blob
 * shas, and tree and commit shas hash a canonical serialization, so equal
 * trees and commits get equal shas just as in git (though not git's own tree
 * shas). Every tree a commit or POST git/trees produced is kept by sha, with
 * its directories as subtrees, and every blob by its sha, for the Git Data API.
 */
import { createHash } from 'node:crypto';

export interface Signature {
  name: string;
  email: string;
  date: string;
}

export interface Commit {
  sha: string;
  parents: readonly string[];
  tree: ReadonlyMap<string, string>;
  treeSha: string;
  message: string;
  author: Signature;
  committer: Signature;
}

export interface PullState {
  number: number;
  id: number;
  title: string;
  body: string | null;
  user: string;
  headRef: string;
  /** last known head sha: follows the branch while the PR is open and the branch exists */
  headSha: string;
  baseRef: string;
  state: 'open' | 'closed';
  merged: boolean;
  mergedAt: string | null;
  mergeCommitSha: string | null;
  labels: string[];
  requestedReviewers: string[];
  comments: { id: number; body: string; user: string; createdAt: string }[];
  createdAt: string;
  updatedAt: string;
  closedAt: string | null;
  /** GraphQL enablePullRequestAutoMerge: GitHub merges (squash) once the required checks pass */
  autoMerge?: {
    commitHeadline: string | undefined;
    commitBody: string | undefined;
    enabledAt: string;
  } | null;
}

export function sha1(text: string | Buffer): string {
  return createHash('sha1').update(text).digest('hex');
}

/** git's blob sha: sha1("blob <byte length>\0" + content) */
export function blobSha(content: string): string {
  const buf = Buffer.from(content, 'utf8');
  return createHash('sha1').update(`blob ${buf.length}\0`).update(buf).digest('hex');
}

export function treeSha(tree: ReadonlyMap<string, string>): string {
  const entries = [...tree.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return sha1(`tree\0${entries.map(([p, c]) => `${p}\0${blobSha(c)}`).join('\n')}`);
}

function sig(s: Signature): string {
  return `${s.name} <${s.email}> ${Math.floor(Date.parse(s.date) / 1000)} +0000`;
}

export type FileChanges = Readonly<Record<string, string | null>>;

/** The entries under `dir/`, with the prefix taken off. */
export function subtree(tree: ReadonlyMap<string, string>, dir: string): Map<string, string> {
  const prefix = `${dir}/`;
  return new Map(
    [...tree].filter(([p]) => p.startsWith(prefix)).map(([p, c]) => [p.slice(prefix.length), c]),
  );
}

export class RepoModel {
  readonly commits = new Map<string, Commit>();
  /** tree sha → flat tree (roots and their directories) */
  readonly trees = new Map<string, ReadonlyMap<string, string>>();
  /** blob sha → content */
  readonly blobs = new Map<string, string>();
  /** branch name → commit sha */
  readonly refs = new Map<string, string>();
  readonly pulls: PullState[] = [];
  /** null = everyone may be requested as a reviewer */
  collaborators: Set<string> | null = null;
  /**
   * The repository's default squash commit (`squash_merge_commit_title` /
   * `squash_merge_commit_message`), used when a merge sends no commit_title or
   * commit_message. GitHub's defaults: the commit's (one-commit PR) or the PR's
   * title, and the commit messages.
   */
  squashDefaults: {
    title: 'PR_TITLE' | 'COMMIT_OR_PR_TITLE';
    message: 'PR_BODY' | 'COMMIT_MESSAGES' | 'BLANK';
  } = { title: 'COMMIT_OR_PR_TITLE', message: 'COMMIT_MESSAGES' };
  /** branch protection: branch → status check contexts that must succeed before a merge */
  readonly requiredChecks = new Map<string, string[]>();
  /** commit sha → context → state of its status checks */
  readonly checks = new Map<string, Map<string, 'pending' | 'success' | 'failure'>>();
  /** the repository setting "Allow auto-merge" (off by default on GitHub) */
  allowAutoMerge = false;
  private seq = 0;

  constructor(
    readonly owner: string,
    readonly name: string,
    readonly defaultBranch: string,
  ) {}

  nextId(): number {
    this.seq += 1;
    return this.seq;
  }

  get fullName(): string {
    return `${this.owner}/${this.name}`;
  }

  /** Stores a tree, its directories and its blobs; returns its sha. */
  storeTree(tree: ReadonlyMap<string, string>): string {
    const sha = treeSha(tree);
    if (this.trees.has(sha)) return sha;
    this.trees.set(sha, new Map(tree));
    const dirs = new Map<string, Map<string, string>>();
    for (const [path, content] of tree) {
      this.blobs.set(blobSha(content), content);
      const parts = path.split('/');
      for (let i = 1; i < parts.length; i++) {
        const dir = parts.slice(0, i).join('/');
        const sub = dirs.get(dir) ?? new Map<string, string>();
        sub.set(parts.slice(i).join('/'), content);
        dirs.set(dir, sub);
      }
    }
    for (const sub of dirs.values()) {
      const subSha = treeSha(sub);
      if (!this.trees.has(subSha)) this.trees.set(subSha, sub);
    }
    return sha;
  }

  createCommit(input: {
    parents: readonly string[];
    tree: ReadonlyMap<string, string>;
    message: string;
    author: Signature;
    committer: Signature;
  }): Commit {
    const tsha = this.storeTree(input.tree);
    const text = [
      `tree ${tsha}`,
      ...input.parents.map((p) => `parent ${p}`),
      `author ${sig(input.author)}`,
      `committer ${sig(input.committer)}`,
      '',
      input.message,
    ].join('\n');
    const commit: Commit = {
      ...input,
      tree: new Map(input.tree),
      treeSha: tsha,
      sha: sha1(`commit ${Buffer.byteLength(text)}\0${text}`),
    };
    this.commits.set(commit.sha, commit);
    return commit;
  }

  /** A commit on top of `branch` (created from nothing when it does not exist yet) applying `changes`. */
  commitChanges(
    branch: string,
    changes: FileChanges,
    message: string,
    author: Signature,
    committer: Signature = author,
  ): Commit {
    const parentSha = this.refs.get(branch);
    const tree = new Map(parentSha === undefined ? [] : this.commit(parentSha).tree);
    for (const [path, content] of Object.entries(changes)) {
      if (content === null) tree.delete(path);
      else tree.set(path, content);
    }
    const commit = this.createCommit({
      parents: parentSha === undefined ? [] : [parentSha],
      tree,
      message,
      author,
      committer,
    });
    this.refs.set(branch, commit.sha);
    return commit;
  }

  /**
   * `git merge --no-ff <from>` on `into`: a merge commit with two parents
   * (`into`'s head first). The tree is a file-level three-way merge; a path
   * both sides changed differently must be resolved in `resolutions`.
   */
  mergeBranches(
    into: string,
    from: string,
    message: string,
    committer: Signature,
    resolutions: FileChanges = {},
  ): Commit {
    const ours = this.resolve(into);
    const theirs = this.resolve(from);
    if (ours === undefined || theirs === undefined)
      throw new Error(`emulator: cannot merge ${from} into ${into}`);
    const base = this.mergeBase(ours, theirs);
    const baseTree = base === undefined ? new Map<string, string>() : this.commit(base).tree;
    const oursTree = this.commit(ours).tree;
    const theirsTree = this.commit(theirs).tree;
    const tree = new Map(oursTree);
    for (const path of RepoModel.changedPaths(baseTree, theirsTree)) {
      const mine = oursTree.get(path);
      const their = theirsTree.get(path);
      if (mine !== baseTree.get(path) && mine !== their && !(path in resolutions))
        throw new Error(`emulator: merge conflict on ${path}; resolve it`);
      if (their === undefined) tree.delete(path);
      else tree.set(path, their);
    }
    for (const [path, content] of Object.entries(resolutions)) {
      if (content === null) tree.delete(path);
      else tree.set(path, content);
    }
    const commit = this.createCommit({
      parents: [ours, theirs],
      tree,
      message,
      author: committer,
      committer,
    });
    this.refs.set(into, commit.sha);
    return commit;
  }

  /**
   * Moves a branch the way a push or PATCH git/refs does. GitHub closes an open
   * pull request whose head no longer has commits its base lacks (the head was
   * force-moved to the base head or one of its ancestors): returns the numbers
   * of the pull requests this closed.
   */
  moveBranch(branch: string, sha: string, at: string): number[] {
    this.refs.set(branch, sha);
    const closed: number[] = [];
    for (const pr of this.pulls) {
      if (pr.state !== 'open' || pr.headRef !== branch) continue;
      pr.headSha = sha;
      const baseSha = this.refs.get(pr.baseRef);
      if (baseSha === undefined || !this.ancestors(baseSha).has(sha)) continue;
      Object.assign(pr, { state: 'closed', merged: false, closedAt: at, updatedAt: at });
      closed.push(pr.number);
    }
    return closed;
  }

  commit(sha: string): Commit {
    const c = this.commits.get(sha);
    if (c === undefined) throw new Error(`emulator: no commit ${sha}`);
    return c;
  }

  /** A branch name, "heads/<branch>", or a full commit sha → commit sha. */
  resolve(ref: string): string | undefined {
    const name = ref.startsWith('refs/heads/')
      ? ref.slice(11)
      : ref.startsWith('heads/')
        ? ref.slice(6)
        : ref;
    return this.refs.get(name) ?? (this.commits.has(ref) ? ref : undefined);
  }

  *firstParentLog(sha: string): Generator<Commit> {
    let cur: string | undefined = sha;
    while (cur !== undefined) {
      const c = this.commit(cur);
      yield c;
      cur = c.parents[0];
    }
  }

  /** `sha~n`: the n-th first-parent ancestor, or undefined past the root. */
  firstParentAncestor(sha: string, n: number): string | undefined {
    let cur: string | undefined = sha;
    for (let i = 0; i < n && cur !== undefined; i++) cur = this.commit(cur).parents[0];
    return cur;
  }

  /**
   * A rev-parse expression as GitHub's `object(expression:)` takes it, for the
   * forms rewind sends: a branch, a full sha, `<sha>~<n>` and `<sha>^<n>`.
   */
  resolveExpression(expression: string): string | undefined {
    const m = /^(.+?)(?:([~^])(\d*))?$/.exec(expression);
    if (m === null) return undefined;
    const base = this.resolve(m[1] ?? '');
    if (base === undefined || m[2] === undefined) return base;
    const n = m[3] === '' || m[3] === undefined ? 1 : Number(m[3]);
    if (m[2] === '~') return this.firstParentAncestor(base, n);
    return n === 0 ? base : this.commit(base).parents[n - 1];
  }

  /**
   * `git log [<sha>]` without paths: every reachable commit, newest committer
   * date first (a parent never before its child when dates tie).
   */
  *log(sha: string): Generator<Commit> {
    yield* this.walk(sha, (c) => ({ show: true, parents: c.parents }));
  }

  /**
   * `git log <sha> -- <path>` with git's default history simplification, as
   * GitHub's GraphQL `history(path:)` and REST `commits?path=` serve it: a
   * commit whose file equals one parent's (TREESAME) is hidden and only that
   * parent (the first such) is followed, so a merge that took the file from its
   * second parent is skipped and the walk continues down the merged branch;
   * commits of the first-parent line between the fork and the merge are then
   * never listed. A merge that differs from every parent is shown and both
   * sides are walked.
   */
  *pathHistory(sha: string, path: string): Generator<Commit> {
    yield* this.walk(sha, (c) => {
      const mine = c.tree.get(path);
      if (c.parents.length === 0) return { show: mine !== undefined, parents: [] };
      const same = c.parents.find((p) => this.commit(p).tree.get(path) === mine);
      return same === undefined ? { show: true, parents: c.parents } : { show: false, parents: [same] };
    });
  }

  private *walk(
    sha: string,
    visit: (c: Commit) => { show: boolean; parents: readonly string[] },
  ): Generator<Commit> {
    const seen = new Set<string>([sha]);
    const queue: Commit[] = [this.commit(sha)];
    const time = (c: Commit): number => Date.parse(c.committer.date);
    while (queue.length > 0) {
      // newest committer date first; insertion order breaks ties (children were queued before parents)
      let best = 0;
      for (let i = 1; i < queue.length; i++) {
        if (time(queue[i] as Commit) > time(queue[best] as Commit)) best = i;
      }
      const c = queue.splice(best, 1)[0] as Commit;
      const { show, parents } = visit(c);
      if (show) yield c;
      for (const p of parents) {
        if (seen.has(p)) continue;
        seen.add(p);
        queue.push(this.commit(p));
      }
    }
  }

  ancestors(sha: string): Set<string> {
    const seen = new Set<string>();
    const todo = [sha];
    while (todo.length > 0) {
      const cur = todo.pop() as string;
      if (seen.has(cur)) continue;
      seen.add(cur);
      todo.push(...this.commit(cur).parents);
    }
    return seen;
  }

  /** The nearest common ancestor (breadth first from b), or undefined for unrelated histories. */
  mergeBase(a: string, b: string): string | undefined {
    const ofA = this.ancestors(a);
    const queue = [b];
    const seen = new Set<string>();
    while (queue.length > 0) {
      const cur = queue.shift() as string;
      if (ofA.has(cur)) return cur;
      if (seen.has(cur)) continue;
      seen.add(cur);
      queue.push(...this.commit(cur).parents);
    }
    return undefined;
  }

  /** Paths whose content differs between two trees (sorted). */
  static changedPaths(from: ReadonlyMap<string, string>, to: ReadonlyMap<string, string>): string[] {
    const paths = new Set([...from.keys(), ...to.keys()]);
    return [...paths].filter((p) => from.get(p) !== to.get(p)).sort();
  }

  pull(number: number): PullState | undefined {
    const pr = this.pulls.find((p) => p.number === number);
    // GitHub keeps an open PR's head sha in step with its branch.
    if (pr !== undefined && pr.state === 'open') {
      const head = this.refs.get(pr.headRef);
      if (head !== undefined) pr.headSha = head;
    }
    return pr;
  }

  allPulls(): PullState[] {
    return this.pulls.map((p) => this.pull(p.number) as PullState);
  }
}

/** Git stores whole seconds and GitHub prints them without a fraction: 2026-11-26T10:01:00Z. */
export function gitTime(d: Date | string): string {
  return new Date(Math.floor(new Date(d).getTime() / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}
