/**
 * The rollback pull request's body: what an SRE needs to review it at 3 a.m.
 * without opening five tabs. Every alert-derived string is escaped for
 * Markdown and every alert-derived URL passes safeUrl; the trailer block at
 * the end is rewind's own text and stays verbatim.
 */
import { leadAlert } from './alerts.ts';
import { escapeMarkdown, oneLine, safeUrl } from './text.ts';
import type { Decision } from '../policy/types.ts';
import type { Alert, CurrentRelease, RollbackCandidate, Target } from './types.ts';
import { imageReference } from './version.ts';

/** A long incident lists this many alerts, then says how many more. */
const MAX_LISTED_ALERTS = 20;

export interface PrBodyInput {
  remediationId: string;
  target: Target;
  lead: Alert;
  /** firing alerts in all, counting those the record dropped past its cap */
  alertCount?: number;
  /** every firing alert of the incident; the lead alone when absent */
  alerts?: readonly Alert[] | undefined;
  current: CurrentRelease;
  candidate: RollbackCandidate;
  decision: Decision;
  from: string;
  to: string;
  alertName: string;
  severity: string;
  /** " (+2 more alerts)" or "" */
  more: string;
  /** the Rewind-* trailer lines, rendered as they are */
  trailers: string;
  /** the "Hold" section (rendered by the plan; empty when the target has no hold) */
  holdSection?: readonly string[];
}

/** https://github.com/acme/gitops/commit/<sha> → https://github.com/acme/gitops (GitHub Enterprise alike). */
function repoWebUrl(commitUrl: string | undefined): string | null {
  const m = commitUrl ? /^(https?:\/\/.+)\/commit\/[0-9a-f]{7,64}$/i.exec(commitUrl) : null;
  return m?.[1] ?? null;
}

const short = (sha: string) => sha.slice(0, 7);

function link(text: string, url: string | null): string {
  return url ? `[${text}](${url})` : text;
}

function alertRow(a: Alert): string {
  const name = escapeMarkdown(a.labels.alertname ?? 'alert', 80);
  const severity = escapeMarkdown(a.labels.severity ?? 'none', 20);
  const summary = a.annotations.summary ?? a.annotations.description;
  const graph = safeUrl(a.generatorURL);
  return `| ${name} | ${severity} | ${escapeMarkdown(a.startsAt, 40)} | ${summary ? escapeMarkdown(summary, 200) : ''} | ${graph ? `[graph](${graph})` : ''} |`;
}

function linkLines(p: PrBodyInput, repoUrl: string | null): string[] {
  const { lead, current, candidate } = p;
  const lines: string[] = [];
  const graph = safeUrl(lead.generatorURL);
  if (graph) lines.push(`- Alert graph: [${escapeMarkdown(p.alertName, 80)}](${graph})`);
  const runbook = safeUrl(lead.annotations.runbook_url);
  if (runbook) lines.push(`- Runbook: ${runbook}`);
  const commitUrl = safeUrl(current.url) ?? (repoUrl ? `${repoUrl}/commit/${current.commit}` : null);
  const by = current.author
    ? ` by ${escapeMarkdown(current.author.name, 80)}${current.author.login ? ` (\`${escapeMarkdown(current.author.login, 40)}\`)` : ''}`
    : '';
  const pr = current.pullRequest
    ? ` in ${link(`pull request ${current.pullRequest.number}`, safeUrl(current.pullRequest.url))}`
    : '';
  lines.push(`- \`${p.from}\` came in with ${link(short(current.commit), commitUrl)}${pr}${by}`);
  if (repoUrl) {
    lines.push(
      `- What changed between the two versions: [${short(candidate.toCommit)}...${short(current.commit)}](${repoUrl}/compare/${candidate.toCommit}...${current.commit})`,
    );
  }
  return lines;
}

function alertSection(p: PrBodyInput): string[] {
  const alerts = p.alerts && p.alerts.length > 0 ? [...p.alerts] : [p.lead];
  const ordered = [leadAlert(alerts), ...alerts.filter((a) => a !== leadAlert(alerts))];
  const listed = ordered.slice(0, MAX_LISTED_ALERTS);
  // alerts past the record's cap are only counted, not kept: they are in the total, not the list
  const total = Math.max(p.alertCount ?? 0, alerts.length);
  const rest = total - listed.length;
  return [
    `**Firing alerts of this incident (${total})**`,
    '',
    '| Alert | Severity | Since | Summary | |',
    '| --- | --- | --- | --- | --- |',
    ...listed.map(alertRow),
    ...(rest > 0 ? ['', `…and ${rest} more (see the remediation record).`] : []),
  ];
}

function afterMerge(p: PrBodyInput): string[] {
  const merge =
    p.decision.mode === 'merge'
      ? 'The policy allowed an automatic merge, so rewind squash-merges this pull request itself unless GitHub refuses (branch protection, required reviews); then it waits here for review.'
      : 'The policy asks for review: nothing happens until someone merges this pull request.';
  return [
    '**After the merge**',
    '',
    `- ${merge}`,
    `- Argo CD or Flux reconciles the cluster to the merge commit. Where the target is configured for it, rewind asks the engine to reconcile at once instead of waiting for its next poll, then verifies that the application runs the merge commit and is healthy, and reports verified or unverified in Slack and on the remediation record.`,
    `- Where the target has a hold, image automation is kept from re-applying \`${p.from}\` while newer releases still flow; \`rewind release ${p.target.name}\` lifts it.`,
    `- A later alert on \`${p.to}\` will not roll back to \`${p.from}\`: the trailers below mark it as rolled back from.`,
  ];
}

function rollForward(p: PrBodyInput): string[] {
  return [
    '**Rolling forward**',
    '',
    `- The usual way: release a fixed version; it replaces \`${p.to}\` like any release.`,
    `- To go back to \`${p.from}\` itself (a false alarm): revert the squash-merge commit of this pull request (\`git revert <merge sha>\`), which restores the file byte for byte.`,
    `- Not merged yet and not wanted: close this pull request; rewind does not reopen it for the same incident.`,
  ];
}

export function renderPrBody(p: PrBodyInput): string {
  const { target, lead, current, candidate, decision } = p;
  const repoUrl = repoWebUrl(safeUrl(current.url) ?? undefined);
  const summary = lead.annotations.summary ?? lead.annotations.description;
  return [
    `rewind rolls **${target.name}** (${escapeMarkdown(target.environment)}) back from \`${p.from}\` to \`${p.to}\`.`,
    '',
    '| | |',
    '| --- | --- |',
    `| Alert | ${escapeMarkdown(p.alertName)} (${escapeMarkdown(p.severity)})${p.more} |`,
    `| Firing since | ${escapeMarkdown(lead.startsAt)} |`,
    ...(summary ? [`| Summary | ${escapeMarkdown(summary)} |`] : []),
    `| File | \`${target.repo}/${target.path}\` |`,
    `| From | \`${imageReference(target.image, current.version)}\` (${short(current.commit)}) |`,
    `| To | \`${imageReference(target.image, candidate.to)}\` (${short(candidate.toCommit)}) |`,
    `| Policy | **${decision.mode}** |`,
    '',
    '**Why**',
    ...(decision.reasons.length ? decision.reasons : ['no reason given']).map(
      (r) => `- ${escapeMarkdown(r)}`,
    ),
    '',
    ...(p.holdSection ?? []),
    '**Links**',
    '',
    ...linkLines(p, repoUrl),
    '',
    ...alertSection(p),
    '',
    ...afterMerge(p),
    '',
    ...rollForward(p),
    '',
    `Remediation \`${oneLine(p.remediationId, 80)}\`.`,
    '',
    p.trailers,
    '',
  ].join('\n');
}
