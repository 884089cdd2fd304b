/** The only shape Rego sees (SPEC "Policy"), and the decision it returns. */

export interface PolicyAlert {
  name: string;
  severity: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  fingerprint: string;
}

export interface PolicyInput {
  alert: PolicyAlert;
  alerts: PolicyAlert[];
  target: { name: string; environment: string; repo: string; path: string; image: string };
  change: {
    /** formatted current version ("v1.2.0", "sha256:…", "v1@sha256:…") */
    from: string;
    /** formatted candidate version; null when there is no candidate */
    to: string | null;
    fromCommit: string;
    toCommit: string | null;
    fromCommittedAt: string;
    fromAgeSeconds: number;
    fromIsRollback: boolean;
  };
  incident: { targetsFiring: number };
  history: {
    rollbacksLastHour: number;
    rollbacksLastDay: number;
    lastRollbackAt: string | null;
    openPullRequest: boolean;
  };
  now: string;
}

export type DecisionMode = 'merge' | 'pull_request';

export interface Decision {
  allow: boolean;
  mode: DecisionMode;
  reasons: string[];
  labels: string[];
}

export interface PolicyEngine {
  /** Evaluate the loaded policy. A malformed output is a deny with reason "invalid policy output". */
  evaluate(input: PolicyInput): Promise<Decision>;
  /** true once a policy has been loaded */
  isReady(): boolean;
  close(): Promise<void>;
}
