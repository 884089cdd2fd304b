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
    /** merged rollbacks of the target in the last day whose alert still fired verifyAfter later */
    rollbacksNotHealedLastDay?: number;
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
  /**
   * Evaluate the loaded policy. Never rejects: a malformed output is a deny with
   * reason "invalid policy output", an evaluation that throws a deny with reason
   * "policy evaluation failed" (both logged). Reasons and labels come sorted.
   */
  evaluate(input: PolicyInput): Promise<Decision>;
  /** true once a policy has been loaded (createPolicyEngine throws policy_unavailable rather than return an unready engine) */
  isReady(): boolean;
  /** Stop watching the policy files; evaluations keep working so in-flight jobs can finish. */
  close(): Promise<void>;
}
