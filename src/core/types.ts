/** Domain values shared by the core and the adapters. Plain data only. */

export type AlertStatus = 'firing' | 'resolved';

/** One alert of an Alertmanager v4 payload, reduced to the fields rewind uses. */
export interface Alert {
  status: AlertStatus;
  labels: Readonly<Record<string, string>>;
  annotations: Readonly<Record<string, string>>;
  startsAt: string;
  endsAt: string;
  fingerprint: string;
  generatorURL: string;
  /** the sending Alertmanager's URL (the payload's externalURL), for links back to it */
  externalURL?: string;
}

/** A configured deployment rewind may roll back. */
export interface Target {
  name: string;
  /** label name → exact value, or "~regex" for a fully anchored regex match */
  match: Readonly<Record<string, string>>;
  /** "owner/name" */
  repo: string;
  branch: string;
  path: string;
  image: string;
  environment: string;
  reviewers: readonly string[];
  /** Helm values: explicit dotted path of the tag (e.g. "subchart.image.tag") */
  tagKey?: string;
  /** Argo CD Application to refresh, sync and verify after the merge */
  argocd?: { app: string; appNamespace?: string };
  /** Flux Receiver to call after the merge; the Kustomization ("ns/name") whose events verify it */
  flux?: { receiver: string; kustomization: string };
  /** how long verification may take (default 10 minutes) */
  verify?: { timeout?: string };
  /** auto-updater hold: an Argo CD Image Updater resource or Application in the same repo */
  hold?: { imageUpdater?: string };
}

/**
 * The version of an image as a manifest pins it: a tag, a digest, or both
 * (`repo:tag@sha256:…`). Two versions are the same when both parts are equal.
 */
export interface ImageVersion {
  tag?: string;
  digest?: string;
}

/** A commit that touched the target file, newest first, with the file as it was then. */
export interface FileCommit {
  sha: string;
  message: string;
  committedAt: string;
  /** file content at this commit; null when the file did not exist */
  content: string | null;
  /**
   * A merge commit that brought the change: its second parent's message (a
   * rewind PR merged with a merge commit keeps its trailers there).
   */
  mergedMessage?: string;
  /** web page of the commit (for links in the pull request body) */
  url?: string;
  author?: CommitAuthor;
  /** the pull request that brought this commit in, when GitHub knows one */
  pullRequest?: { number: number; url: string };
}

export interface CommitAuthor {
  name: string;
  /** GitHub login, when the author's email maps to an account */
  login?: string;
}

/** What the history walk found. */
export interface RollbackCandidate {
  /** the version to roll back to */
  to: ImageVersion;
  /** commit that last deployed `to` (the newest commit whose file pins it) */
  toCommit: string;
}

export interface CurrentRelease {
  version: ImageVersion;
  /** the commit that introduced the current version */
  commit: string;
  committedAt: string;
  /** the commit that introduced it was a rewind rollback */
  isRollback: boolean;
  /** web page, author and pull request of that commit, when the history has them */
  url?: string;
  author?: CommitAuthor;
  pullRequest?: { number: number; url: string };
}
