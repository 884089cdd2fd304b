import { leadAlert } from '../core/alerts.ts';
import { RewindError } from '../core/errors.ts';
import { buildPlan, branchPrefix, type RollbackPlan } from '../core/plan.ts';
import type { FileRef, GitOpsRepository, HeadFile, HistoryCache, PullRequest } from '../core/ports.ts';
import { analyzeRevisions, type HistoryAnalysis, type RevisionVersion } from '../core/rollback.ts';
import type { Alert, Target } from '../core/types.ts';
import { formatVersion } from '../core/version.ts';
import { extractImage, replaceVersion, type ImageSpec } from '../manifests/index.ts';
import { holdMarkers } from '../manifests/hold/markers.ts';
import { planHold } from './hold.ts';
import { buildPolicyInput } from '../policy/input.ts';
import type { Decision, PolicyEngine, PolicyInput } from '../policy/types.ts';
import { historyKey, revisionHistory } from './revisions.ts';

export function fileRef(t: Target): FileRef {
  const [owner = '', repo = ''] = t.repo.split('/');
  return { owner, repo, branch: t.branch, path: t.path };
}

export function imageSpec(t: Target): ImageSpec {
  return { image: t.image, ...(t.tagKey ? { tagKey: t.tagKey } : {}) };
}

/** A past revision's version; the head was already read strictly, so old breakage only skips that revision. */
export function revisionVersion(content: string, t: Target): RevisionVersion {
  try {
    const { version, repository } = extractImage(content, imageSpec(t), t.path);
    return { ...version, repository };
  } catch (err) {
    if (err instanceof RewindError && err.code === 'image_not_found') return null;
    if (
      err instanceof RewindError &&
      (err.code === 'manifest_unsupported' || err.code === 'manifest_ambiguous')
    ) {
      return 'unreadable';
    }
    throw err;
  }
}

export interface DecideInput {
  remediationId: string;
  target: Target;
  /** the firing alerts of the incident (at least one) */
  alerts: readonly Alert[];
  targetsFiring: number;
  /** alerts of the incident beyond those kept on the record (counted only) */
  alertsDropped?: number;
  history: Omit<PolicyInput['history'], 'openPullRequest'>;
  now: Date;
}

export interface Decided {
  head: HeadFile;
  analysis: HistoryAnalysis;
  openPr: PullRequest | null;
  input: PolicyInput;
  decision: Decision;
  change: { from: string; to: string | null; fromCommit: string; toCommit: string | null };
  /** the rollback as a value; null when there is no candidate or the policy denies */
  plan: RollbackPlan | null;
}

/** The file at the branch head and what its history says: current release and rollback candidate. */
export async function readHistory(
  deps: { repo: GitOpsRepository; historyCache?: HistoryCache | undefined },
  target: Target,
): Promise<{ head: HeadFile; analysis: HistoryAnalysis }> {
  const ref = fileRef(target);
  const head = await deps.repo.readFile(ref);
  const { version: current, repository } = extractImage(head.content, imageSpec(target), target.path);
  // Pin the walk to the commit the file was read at: a push in between must not mix two heads.
  const revisions = revisionHistory(
    deps.repo,
    { ...ref, branch: head.commitSha },
    (c: string) => revisionVersion(c, target),
    deps.historyCache ? { store: deps.historyCache, key: historyKey(ref, imageSpec(target)) } : undefined,
  );
  const analysis = await analyzeRevisions(revisions, current, { image: target.image, repository });
  return { head, analysis };
}

/** Read Git, find the candidate, ask the policy and build the change. Writes nothing. */
export async function decide(
  deps: { repo: GitOpsRepository; policy: PolicyEngine; historyCache?: HistoryCache | undefined },
  p: DecideInput,
): Promise<Decided> {
  const { target } = p;
  const ref = fileRef(target);
  const lead = leadAlert(p.alerts);
  // independent reads side by side: one GitHub round trip less before the policy can answer
  const [{ head, analysis }, openPr] = await Promise.all([
    readHistory(deps, target),
    deps.repo.findOpenPullRequest(ref, branchPrefix(target)),
  ]);
  const input = buildPolicyInput({
    alert: lead,
    alerts: p.alerts,
    target,
    current: analysis.current,
    candidate: analysis.candidate,
    targetsFiring: p.targetsFiring,
    history: { ...p.history, openPullRequest: openPr !== null },
    now: p.now,
  });
  const decision = await deps.policy.evaluate(input);
  const change = {
    from: formatVersion(analysis.current.version),
    to: analysis.candidate ? formatVersion(analysis.candidate.to) : null,
    fromCommit: analysis.current.commit,
    toCommit: analysis.candidate?.toCommit ?? null,
  };
  let plan: RollbackPlan | null = null;
  if (analysis.candidate && decision.allow) {
    const rolled = replaceVersion(head.content, imageSpec(target), analysis.candidate.to, target.path);
    const markers = holdMarkers(head.content, rolled);
    const hold = await planHold(deps.repo, target, analysis.current.version, markers.held);
    plan = buildPlan({
      remediationId: p.remediationId,
      target,
      lead,
      alertCount: p.alerts.length + (p.alertsDropped ?? 0),
      alerts: p.alerts,
      current: analysis.current,
      candidate: analysis.candidate,
      decision,
      content: markers.content,
      hold,
    });
  }
  return { head, analysis, openPr, input, decision, change, plan };
}
