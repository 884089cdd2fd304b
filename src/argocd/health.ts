/**
 * Is the rollback live and healthy? Kargo's Argo CD health checker, adapted
 * (pkg/health/checker/builtin/argocd.go): pure, from one Application read.
 *
 * - Health is unknown while `status.reconciledAt` is older than the last
 *   operation's `finishedAt`: the health loop has not looked since the sync.
 * - Any `*Error` condition (ComparisonError, InvalidSpecError, SyncError…) is unhealthy.
 * - Sync before health: a running operation is still progressing; a finished one
 *   that failed at the merge commit is a failure; `status.sync.revision` must be
 *   the merge commit.
 * - Then `status.health.status`: Healthy verifies; Progressing, Suspended (Kargo:
 *   progressing until the suspension is lifted), Missing and Unknown keep waiting;
 *   Degraded fails.
 */
import type { ArgoApplication } from './types.ts';

export type Assessment =
  | { verdict: 'verified'; reason: string }
  | { verdict: 'unverified'; reason: string }
  | { verdict: 'pending'; reason: string };

const FAILED_PHASES = new Set(['Failed', 'Error']);

export function assessApplication(app: ArgoApplication, mergeCommit: string): Assessment {
  const name = app.metadata.name;
  const st = app.status ?? {};
  const op = st.operationState ?? undefined;
  const finishedAt = op?.finishedAt ? Date.parse(op.finishedAt) : undefined;
  const reconciledAt = st.reconciledAt ? Date.parse(st.reconciledAt) : undefined;
  if (finishedAt !== undefined && (reconciledAt === undefined || reconciledAt < finishedAt)) {
    return {
      verdict: 'pending',
      reason: `${name} was not reconciled after its last operation finished; health not trusted yet`,
    };
  }
  const errors = (st.conditions ?? []).filter((c) => /Error$/.test(c.type));
  if (errors.length) {
    return {
      verdict: 'unverified',
      reason: `${name} has ${errors.map((c) => `${c.type}: ${c.message}`).join('; ')}`,
    };
  }
  const opRevision = op?.syncResult?.revision ?? op?.operation?.sync?.revision;
  if (app.operation?.sync || (op && !op.finishedAt)) {
    return { verdict: 'pending', reason: `${name} is being synced` };
  }
  if (op && FAILED_PHASES.has(op.phase ?? '') && opRevision === mergeCommit) {
    return {
      verdict: 'unverified',
      reason: `sync of ${mergeCommit.slice(0, 7)} ${op.phase?.toLowerCase()}: ${op.message ?? 'no message'}`,
    };
  }
  const synced = st.sync?.revisions?.length ? st.sync.revisions : [st.sync?.revision ?? ''];
  if (!synced.includes(mergeCommit)) {
    const at =
      synced
        .filter(Boolean)
        .map((r) => r.slice(0, 7))
        .join(', ') || 'no revision';
    return { verdict: 'pending', reason: `${name} is at ${at}, not yet at ${mergeCommit.slice(0, 7)}` };
  }
  const health = st.health?.status ?? '';
  switch (health) {
    case 'Healthy':
      return { verdict: 'verified', reason: `${name} is Healthy at ${mergeCommit.slice(0, 7)}` };
    case 'Degraded':
      return {
        verdict: 'unverified',
        reason: `${name} is Degraded at ${mergeCommit.slice(0, 7)}${st.health?.message ? `: ${st.health.message}` : ''}`,
      };
    default:
      return {
        verdict: 'pending',
        reason: `${name} is ${health || 'Progressing'} at ${mergeCommit.slice(0, 7)}`,
      };
  }
}
