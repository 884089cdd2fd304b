/**
 * The parts of an Argo CD Application (argoproj.io/v1alpha1, as
 * `GET /api/v1/applications/{name}` returns it) that rewind reads. Field names
 * follow pkg/apis/application/v1alpha1/types.go.
 */
export interface ArgoApplication {
  metadata: { name: string; namespace?: string };
  spec: {
    source?: { repoURL?: string; targetRevision?: string; path?: string };
    sources?: { repoURL?: string; targetRevision?: string }[];
    syncPolicy?: { automated?: { enabled?: boolean; prune?: boolean; selfHeal?: boolean } | null } | null;
  };
  /** an operation requested but not yet picked up by the controller */
  operation?: { sync?: { revision?: string } } | null;
  status?: {
    sync?: { status?: string; revision?: string; revisions?: string[] };
    health?: { status?: string; message?: string };
    conditions?: { type: string; message: string; lastTransitionTime?: string }[];
    reconciledAt?: string;
    operationState?: {
      phase?: string;
      message?: string;
      startedAt?: string;
      finishedAt?: string;
      operation?: { sync?: { revision?: string } };
      syncResult?: { revision?: string };
    } | null;
  };
}

/** IsAutomatedSyncEnabled in types.go: `automated` present and `enabled` not false. */
export function automatedSyncEnabled(app: ArgoApplication): boolean {
  const automated = app.spec.syncPolicy?.automated;
  return automated !== undefined && automated !== null && automated.enabled !== false;
}
