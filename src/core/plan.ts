import { imageReference, formatVersion, versionForRef } from './version.ts';
import { escapeMarkdown, oneLine, refComponent } from './text.ts';
import { renderPrBody } from './pr-body.ts';
import type { Alert, CurrentRelease, ImageVersion, RollbackCandidate, Target } from './types.ts';
import type { Decision } from '../policy/types.ts';
import { REMEDIATION_TRAILER, ROLLED_BACK_FROM_TRAILER } from './rollback.ts';

export const REWIND_LABEL = 'rewind';

/** A rollback as a value: everything needed to write it, nothing written yet. */
export interface RollbackPlan {
  headBranch: string;
  content: string;
  title: string;
  commitMessage: string;
  /** squash-merge commit: title and body separately, as GitHub's merge API takes them */
  mergeTitle: string;
  mergeBody: string;
  prBody: string;
  labels: string[];
  /** the hold's second file, committed with the rollback */
  extraFiles?: { path: string; content: string }[];
}

/** What the rollback commit does to stop an image auto-updater from re-applying the bad tag. */
export interface HoldPlan {
  /** Flux setter markers disabled on the rolled-back line */
  markers: number;
  /** the Image Updater file and its new content, when the tag was added to its ignore list */
  ignoreFile?: { path: string; content: string };
  /** why (part of) the hold could not be written; the rollback goes ahead without it */
  problem?: string;
}

export function branchPrefix(target: Target): string {
  return `rewind/${refComponent(target.name)}/`;
}

export function headBranch(target: Target, to: ImageVersion): string {
  return `${branchPrefix(target)}${refComponent(versionForRef(to))}`;
}

export interface PlanInput {
  remediationId: string;
  target: Target;
  lead: Alert;
  alertCount: number;
  /** every firing alert of the incident (listed in the PR body); defaults to the lead alone */
  alerts?: readonly Alert[];
  current: CurrentRelease;
  candidate: RollbackCandidate;
  decision: Decision;
  /** the file with only the version changed (and held markers) */
  content: string;
  hold?: HoldPlan;
}

function policyLine(decision: Decision): string {
  return `${decision.mode} (${decision.reasons.map((r) => oneLine(r, 200)).join('; ') || 'no reason given'})`;
}

export function buildPlan(p: PlanInput): RollbackPlan {
  const { target, lead, current, candidate, decision } = p;
  const to = formatVersion(candidate.to);
  const from = formatVersion(current.version);
  const alertName = oneLine(lead.labels.alertname ?? 'alert', 80);
  const severity = oneLine(lead.labels.severity ?? 'none', 20);
  const title = `fix(${oneLine(target.environment, 30)}): roll back ${target.name} to ${to}`;
  const more = p.alertCount > 1 ? ` (+${p.alertCount - 1} more alert${p.alertCount > 2 ? 's' : ''})` : '';
  const body = [
    `- Alert: ${alertName} (${severity}) firing since ${oneLine(lead.startsAt, 40)}${more}`,
    `- From: ${imageReference(target.image, current.version)}`,
    `- To: ${imageReference(target.image, candidate.to)} (deployed in ${candidate.toCommit.slice(0, 7)})`,
    `- Policy: ${policyLine(decision)}`,
  ].join('\n');
  const trailers = `${REMEDIATION_TRAILER}: ${p.remediationId}\n${ROLLED_BACK_FROM_TRAILER}: ${from}`;
  const mergeBody = `${body}\n\n${trailers}`;
  const prBody = renderPrBody({
    ...p,
    from,
    to,
    alertName,
    severity,
    more,
    trailers,
    holdSection: holdLines(p.hold, target.name, from),
  });
  return {
    headBranch: headBranch(target, candidate.to),
    content: p.content,
    title,
    commitMessage: `${title}\n\n${mergeBody}\n`,
    mergeTitle: title,
    mergeBody,
    prBody,
    labels: [REWIND_LABEL, ...decision.labels.filter((l) => l !== REWIND_LABEL)],
    ...(p.hold?.ignoreFile ? { extraFiles: [p.hold.ignoreFile] } : {}),
  };
}

function holdLines(hold: HoldPlan | undefined, target: string, from: string): string[] {
  if (!hold || (!hold.markers && !hold.ignoreFile && !hold.problem)) return [];
  return [
    '**Hold** (so the image auto-updater does not re-apply `' + from + '`)',
    ...(hold.markers
      ? [
          '- The Flux `$imagepolicy` marker on the rolled-back line is disabled (`# rewind-hold {"imagepolicy-held": …}`).',
        ]
      : []),
    ...(hold.ignoreFile
      ? [
          `- \`${from}\` is added to the ignore list in \`${hold.ignoreFile.path}\` (lines marked \`# rewind-hold\`).`,
        ]
      : []),
    ...(hold.problem ? [`- Not held: ${escapeMarkdown(hold.problem)}`] : []),
    `- Lift it with \`rewind release ${target}\` or \`POST /v1/targets/${target}/release\`: a pull request restores the marker byte for byte and removes the tag.`,
    '',
  ];
}
