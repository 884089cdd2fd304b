/**
 * The history walk: from the commits that touched the target file (newest
 * first, each with the file as it was), find where the current version came
 * from and the version to roll back to. Pure: it only consumes the iterable,
 * and stops it as soon as the answer is known so no further pages are read.
 */
import { RewindError } from './errors.ts';
import type { CommitAuthor, CurrentRelease, FileCommit, ImageVersion, RollbackCandidate } from './types.ts';
import { formatVersion, parseVersion, versionsEqual } from './version.ts';

/** Trailer on rewind's commits naming the version it rolled back from (the bad one). */
export const ROLLED_BACK_FROM_TRAILER = 'Rewind-Rolled-Back-From';
/** Trailer on rewind's commits naming the remediation that made them. */
export const REMEDIATION_TRAILER = 'Rewind-Remediation';

export interface HistoryAnalysis {
  current: CurrentRelease;
  candidate: RollbackCandidate | null;
  /** why there is no candidate */
  reason?: string;
  /** commits consumed from the iterable (the cost of the walk) */
  commitsRead: number;
  /** the walk stopped at `maxCommits` before the start of the history */
  truncated?: boolean;
}

/**
 * What `versionOf` says of one revision: the version it pins, `null` when the
 * image is absent (the start of its history: the walk stops), or 'unreadable'
 * when the revision cannot be parsed (a broken commit long since fixed): it is
 * passed over, since it can be neither the current release nor a target.
 */
export type RevisionVersion = (ImageVersion & { repository?: string }) | null | 'unreadable';

export interface AnalyzeOptions {
  /** read at most this many commits (default 3000: 31 GitHub requests) */
  maxCommits?: number;
  /** names the image in `reason` (e.g. "registry.example.com/acme/checkout") */
  image?: string;
  /**
   * The repository the head pins (after a registry move, the new one): a
   * revision of another repository is never a candidate, whatever its tag.
   */
  repository?: string;
}

const TRAILER_LINE = /^([A-Za-z0-9][A-Za-z0-9-]*):\s*(.*)$/;

/** "rewind-rolled-back-from" → "Rewind-Rolled-Back-From": git compares trailer keys case-insensitively. */
function canonicalKey(key: string): string {
  return key
    .split('-')
    .map((w) => (w === '' ? w : w[0]?.toUpperCase() + w.slice(1).toLowerCase()))
    .join('-');
}

/** A paragraph that is a trailer block: every line `Key: value` (or an indented continuation); else null. */
function trailerBlock(paragraph: string): [string, string][] | null {
  const entries: [string, string][] = [];
  for (const line of paragraph.split('\n')) {
    const m = TRAILER_LINE.exec(line);
    const last = entries[entries.length - 1];
    if (m !== null) entries.push([canonicalKey(m[1] ?? ''), (m[2] ?? '').trim()]);
    else if (/^[ \t]/.test(line) && last !== undefined) last[1] = `${last[1]} ${line.trim()}`;
    else return null;
  }
  return entries;
}

/**
 * Git trailers, in any paragraph after the subject that is wholly a trailer
 * block, not only the last: a squash commit made from the pull request's
 * description (where rewind repeats its trailers) may end with more text or
 * GitHub's own lines. Forgery stays impossible: rewind writes alert text only
 * through oneLine/escapeMarkdown and behind a fixed line prefix ("- Alert: ",
 * "| Alert |"), so no alert can start a line, let alone a whole paragraph.
 * Keys are canonicalized so `trailers[ROLLED_BACK_FROM_TRAILER]` finds any spelling.
 */
export function parseTrailers(message: string): Record<string, string[]> {
  const paragraphs = message
    .replace(/\r\n/g, '\n')
    .trim()
    .split(/\n[ \t]*\n/);
  const result: Record<string, string[]> = {};
  for (const paragraph of paragraphs.slice(1)) {
    for (const [key, value] of trailerBlock(paragraph) ?? []) (result[key] ??= []).push(value);
  }
  return result;
}

function versionOnly(v: ImageVersion): ImageVersion {
  return {
    ...(v.tag !== undefined ? { tag: v.tag } : {}),
    ...(v.digest !== undefined ? { digest: v.digest } : {}),
  };
}

/** Formatted through parseVersion so "v1@sha256:…" and spacing variants compare equal. */
function rolledBackFrom(message: string): string[] {
  return (parseTrailers(message)[ROLLED_BACK_FROM_TRAILER] ?? [])
    .filter((v) => v !== '')
    .map((v) => formatVersion(parseVersion(v)));
}

/**
 * "Never rolled back from" is a fact about the whole history: a tag rewind
 * rolled back from may have been re-released by hand later, and its trailer
 * then sits *older* than the re-release. So the walk reads to the start of
 * the image's history (or `maxCommits`), collecting trailers, and only then
 * picks the newest version no trailer condemns. The pages are 100 commits
 * with contents each, so a 500-commit history costs 6 requests.
 *
 * `versionOf` returns null when the image is absent from a revision of the
 * file: that is the beginning of its history for rewind, and the walk stops.
 */
export async function analyzeHistory(
  commits: AsyncIterable<FileCommit>,
  versionOf: (content: string) => RevisionVersion,
  current: ImageVersion,
  opts: AnalyzeOptions = {},
): Promise<HistoryAnalysis> {
  return analyzeRevisions(revisions(commits, versionOf), current, opts);
}

/**
 * What the analysis needs of one commit, and all a history cache keeps: its
 * version (`versionOf` applied) and the versions its trailers (and those of
 * the commit it merged) rolled back from.
 */
export interface Revision {
  sha: string;
  committedAt: string;
  version: RevisionVersion;
  rolledBackFrom: string[];
  /** links for the pull request body (web page, author, the PR that brought it) */
  url?: string;
  author?: CommitAuthor;
  pullRequest?: { number: number; url: string };
}

export function toRevision(commit: FileCommit, versionOf: (content: string) => RevisionVersion): Revision {
  return {
    sha: commit.sha,
    committedAt: commit.committedAt,
    version: commit.content === null ? null : versionOf(commit.content),
    rolledBackFrom: [...rolledBackFrom(commit.message), ...rolledBackFrom(commit.mergedMessage ?? '')],
    ...(commit.url !== undefined ? { url: commit.url } : {}),
    ...(commit.author !== undefined ? { author: commit.author } : {}),
    ...(commit.pullRequest !== undefined ? { pullRequest: commit.pullRequest } : {}),
  };
}

async function* revisions(
  commits: AsyncIterable<FileCommit>,
  versionOf: (content: string) => RevisionVersion,
): AsyncGenerator<Revision> {
  for await (const commit of commits) yield toRevision(commit, versionOf);
}

export async function analyzeRevisions(
  commits: AsyncIterable<Revision> | Iterable<Revision>,
  current: ImageVersion,
  opts: AnalyzeOptions = {},
): Promise<HistoryAnalysis> {
  const image = opts.image ?? 'the image';
  const maxCommits = opts.maxCommits ?? 3000;
  const skipped = new Set<string>();
  /** distinct earlier versions, newest first, each with the newest commit that pins it */
  const earlier = new Map<string, RollbackCandidate>();
  let introducedBy: Revision | undefined;
  let inCurrentRun = true;
  let commitsRead = 0;
  let truncated = false;

  for await (const commit of commits) {
    if (commitsRead >= maxCommits) {
      truncated = true;
      break; // the iterator's return() runs: no further pages are fetched
    }
    commitsRead += 1;
    for (const v of commit.rolledBackFrom) skipped.add(v);
    const version = commit.version;
    if (version === null) break;
    if (version === 'unreadable') continue;
    const foreign =
      opts.repository !== undefined &&
      version.repository !== undefined &&
      version.repository !== opts.repository;
    if (inCurrentRun) {
      if (!foreign && versionsEqual(version, current)) {
        introducedBy = commit;
        continue;
      }
      inCurrentRun = false;
      if (introducedBy === undefined) {
        // The newest commit must pin what was read at the head; otherwise the
        // file moved between reading it and walking its history.
        throw new RewindError(
          'github_conflict',
          `history of the file does not start at the current version ${formatVersion(current)} of ${image} (newest commit ${commit.sha} pins ${formatVersion(version)}); the file changed during the walk`,
          { retryable: true },
        );
      }
    }
    // another registry's tag may not exist in this one (or be another build)
    if (foreign) continue;
    // A revision that pins nothing (Helm `tag: ""`, a bare `image: app`) is not a version to return to.
    const unpinned = (version.tag ?? '') === '' && (version.digest ?? '') === '';
    const key = formatVersion(version);
    if (unpinned || versionsEqual(version, current) || earlier.has(key)) continue;
    earlier.set(key, { to: versionOnly(version), toCommit: commit.sha });
  }

  if (introducedBy === undefined) {
    throw new RewindError(
      'github_conflict',
      `history of the file has no commit pinning the current version ${formatVersion(current)} of ${image}`,
      { retryable: true },
    );
  }
  const release: CurrentRelease = {
    version: current,
    commit: introducedBy.sha,
    committedAt: introducedBy.committedAt,
    isRollback: introducedBy.rolledBackFrom.length > 0,
    ...(introducedBy.url !== undefined ? { url: introducedBy.url } : {}),
    ...(introducedBy.author !== undefined ? { author: introducedBy.author } : {}),
    ...(introducedBy.pullRequest !== undefined ? { pullRequest: introducedBy.pullRequest } : {}),
  };
  const candidate = [...earlier.values()].find((c) => !skipped.has(formatVersion(c.to))) ?? null;
  const base = { current: release, commitsRead, ...(truncated ? { truncated } : {}) };
  if (candidate !== null) return { ...base, candidate };
  const condemned = [...earlier.keys()].filter((v) => skipped.has(v));
  const reason =
    condemned.length === 0
      ? `no earlier version of ${image} in the file's history`
      : `every earlier version of ${image} was rolled back from: ${condemned.join(', ')}`;
  return {
    ...base,
    candidate: null,
    reason: truncated ? `${reason} (read the newest ${maxCommits} commits only)` : reason,
  };
}
