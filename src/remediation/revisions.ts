/**
 * The revisions of a target's file, newest first, read through the history
 * cache when there is one: the walk stops at the newest commit an earlier
 * walk started from and splices in what that walk learned, so a warm walk
 * costs the commits since (one request per 100 of the branch), whatever the
 * history's length. Without a cache, the walk is lazy as before.
 */
import { createHash } from 'node:crypto';
import type { FileRef, GitOpsRepository, HistoryCache, KnownHistory } from '../core/ports.ts';
import { toRevision, type Revision, type RevisionVersion } from '../core/rollback.ts';

/** Bump when what a revision records (or how a version is read) changes: old entries are then never read. */
const FORMAT = 1;
/** As analyzeHistory's default: the revisions a walk keeps. */
const MAX_REVISIONS = 3000;

/** The cache key of a file as a target reads it: repo, path and the image spec that turns content into versions. */
export function historyKey(ref: FileRef, spec: { image: string; tagKey?: string }): string {
  const text = JSON.stringify([
    FORMAT,
    ref.owner.toLowerCase(),
    ref.repo.toLowerCase(),
    ref.path,
    spec.image,
    spec.tagKey ?? null,
  ]);
  return createHash('sha256').update(text).digest('hex').slice(0, 32);
}

/** A revision that ends the history for rewind: the file or the image is absent. */
const isStart = (r: Revision): boolean => r.version === null;

export async function* revisionHistory(
  repo: GitOpsRepository,
  /** `branch` is the commit sha the head was read at */
  ref: FileRef,
  versionOf: (content: string) => RevisionVersion,
  cache?: { store: HistoryCache; key: string },
): AsyncGenerator<Revision> {
  if (cache === undefined) {
    for await (const c of repo.fileHistory(ref)) yield toRevision(c, versionOf);
    return;
  }
  const store = tolerant(cache.store);
  const known = await store.get(cache.key, ref.branch);
  if (known !== null) {
    yield* known.revisions;
    return;
  }
  const heads = await store.heads(cache.key);
  const walk = repo.fileHistory(ref, { stopAt: new Set(heads) });
  const fresh: Revision[] = [];
  let tail: Revision[] = [];
  for (;;) {
    const next = await walk.next();
    if (next.done === true) {
      const below = next.value.stoppedAt === null ? null : await store.get(cache.key, next.value.stoppedAt);
      if (below !== null) tail = below.revisions;
      // a stored walk that expired meanwhile: read on from there, as a cold walk would
      else if (next.value.stoppedAt !== null)
        tail = await rest(repo, { ...ref, branch: next.value.stoppedAt }, versionOf);
      break;
    }
    const r = toRevision(next.value, versionOf);
    fresh.push(r);
    if (isStart(r) || fresh.length >= MAX_REVISIONS) {
      await walk.return(undefined as never);
      break;
    }
  }
  const result: KnownHistory = { revisions: [...fresh, ...tail].slice(0, MAX_REVISIONS) };
  await store.put(cache.key, ref.branch, result);
  yield* result.revisions;
}

/** A cache that fails (Redis down) costs GitHub requests, never a rollback: misses and lost writes. */
function tolerant(store: HistoryCache): HistoryCache {
  return {
    heads: (file) => store.heads(file).catch(() => []),
    get: (file, head) => store.get(file, head).catch(() => null),
    put: (file, head, known) => store.put(file, head, known).catch(() => undefined),
  };
}

/** The revisions from a commit down, without stopping at known heads. */
async function rest(
  repo: GitOpsRepository,
  ref: FileRef,
  versionOf: (content: string) => RevisionVersion,
): Promise<Revision[]> {
  const out: Revision[] = [];
  for await (const c of repo.fileHistory(ref)) {
    const r = toRevision(c, versionOf);
    out.push(r);
    if (isStart(r) || out.length >= MAX_REVISIONS) break;
  }
  return out;
}
