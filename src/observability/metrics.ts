import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type Metrics = ReturnType<typeof createMetrics>;

/** Every rewind metric on an explicit registry (no global default registry). */
export interface MetricsOptions {
  registry?: Registry;
  defaultMetrics?: boolean;
  /** read at scrape time for rewind_queue_jobs{state} */
  queueCounts?: () => Promise<Record<string, number>>;
  /** target names: their remediation series exist at 0 from the start (see primeSeries) */
  targets?: readonly string[];
}

/**
 * Outcomes counted in rewind_remediations_total{outcome}: each state the lifecycle table
 * (src/remediation/lifecycle.ts) enters with the `count` effect, `planned` as `dry_run`.
 * verified/unverified are not outcomes here: rewind_verifications_total{result} counts them.
 */
export const REMEDIATION_OUTCOMES = [
  'merged',
  'pr_opened',
  'auto_merge',
  'denied',
  'noop',
  'failed',
  'closed',
  'dry_run',
] as const;

/** Results of a merged rollback's verification (rewind_verifications_total{result}). */
export const VERIFICATION_RESULTS = ['verified', 'unverified'] as const;

/** What POST /v1/flux/events did with an event (rewind_flux_events_total{outcome}). */
export const FLUX_EVENT_OUTCOMES = ['verified', 'unverified', 'noted', 'ignored'] as const;

export function createMetrics(opts: MetricsOptions = {}) {
  const registry = opts.registry ?? new Registry();
  if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'rewind_' });
  const registers = [registry];
  const metrics = {
    registry,
    webhookRequests: new Counter({
      name: 'rewind_webhook_requests_total',
      help: 'Alertmanager webhook requests by HTTP status code',
      labelNames: ['code'] as const,
      registers,
    }),
    alerts: new Counter({
      name: 'rewind_alerts_total',
      help: 'Alerts received, by status (firing/resolved) and outcome (accepted/ignored/seen_again)',
      labelNames: ['status', 'outcome'] as const,
      registers,
    }),
    remediations: new Counter({
      name: 'rewind_remediations_total',
      help: 'Remediations finished, by target and outcome',
      labelNames: ['target', 'outcome'] as const,
      registers,
    }),
    policyEvaluationSeconds: new Histogram({
      name: 'rewind_policy_evaluation_seconds',
      help: 'Time to evaluate the rollback policy',
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.1],
      registers,
    }),
    policyReloads: new Counter({
      name: 'rewind_policy_reloads_total',
      help: 'Policy (re)loads by result',
      labelNames: ['result'] as const,
      registers,
    }),
    githubRequests: new Counter({
      name: 'rewind_github_requests_total',
      help: 'GitHub API requests by method and status',
      labelNames: ['method', 'status'] as const,
      registers,
    }),
    remediationDuration: new Histogram({
      name: 'rewind_remediation_duration_seconds',
      help: 'Alert received to pull request opened or merged, by outcome',
      labelNames: ['outcome'] as const,
      buckets: [0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600],
      registers,
    }),
    queueJobs: new Gauge({
      name: 'rewind_queue_jobs',
      help: 'Jobs in the remediation queue by state',
      labelNames: ['state'] as const,
      registers,
      async collect() {
        if (!opts.queueCounts) return;
        try {
          for (const [state, n] of Object.entries(await opts.queueCounts())) this.set({ state }, n);
        } catch {
          // Redis down: /metrics still answers with the last values; /readyz reports the outage
        }
      },
    }),
    verifications: new Counter({
      name: 'rewind_verifications_total',
      help: 'Merged rollbacks the GitOps engine verified or not, by result (verified/unverified)',
      labelNames: ['result'] as const,
      registers,
    }),
    fluxEvents: new Counter({
      name: 'rewind_flux_events_total',
      help: 'Flux notification-controller events received, by outcome (verified/unverified/noted/ignored)',
      labelNames: ['outcome'] as const,
      registers,
    }),
    mergeToVerified: new Histogram({
      name: 'rewind_merge_to_verified_seconds',
      help: 'Rollback merged to the GitOps engine running it healthy',
      buckets: [1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200],
      registers,
    }),
    timeToRecovery: new Histogram({
      name: 'rewind_time_to_recovery_seconds',
      help: 'Alert start to alert resolution, for remediations whose rollback merged',
      buckets: [60, 120, 300, 600, 900, 1800, 3600, 7200, 14400],
      registers,
    }),
  };
  primeSeries(metrics, opts.targets ?? []);
  return metrics;
}

/**
 * Creates the labelled series rewind knows in advance at 0. rate() and increase()
 * work on the difference between samples, so a series born at its first event
 * hides that event: a dashboard would show no rollback at all after the first one.
 */
function primeSeries(m: Omit<Metrics, 'registry'>, targets: readonly string[]): void {
  for (const code of ['202', '400', '401', '413', '415', '503']) m.webhookRequests.inc({ code }, 0);
  for (const status of ['firing', 'resolved'])
    for (const outcome of ['accepted', 'seen_again', 'ignored', 'truncated'])
      m.alerts.inc({ status, outcome }, 0);
  for (const target of targets)
    for (const outcome of REMEDIATION_OUTCOMES) m.remediations.inc({ target, outcome }, 0);
  for (const outcome of ['merged', 'pr_opened', 'auto_merge']) m.remediationDuration.zero({ outcome });
  for (const result of VERIFICATION_RESULTS) m.verifications.inc({ result }, 0);
  for (const outcome of FLUX_EVENT_OUTCOMES) m.fluxEvents.inc({ outcome }, 0);
  for (const result of ['success', 'failure']) m.policyReloads.inc({ result }, 0);
  // the statuses the rate-limit and credentials alerts watch
  for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'])
    for (const status of ['401', '403', '429']) m.githubRequests.inc({ method, status }, 0);
}
