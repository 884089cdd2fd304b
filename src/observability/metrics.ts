import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type Metrics = ReturnType<typeof createMetrics>;

/** Every rewind metric on an explicit registry (no global default registry). */
export interface MetricsOptions {
  registry?: Registry;
  defaultMetrics?: boolean;
  /** read at scrape time for rewind_queue_jobs{state} */
  queueCounts?: () => Promise<Record<string, number>>;
}

export function createMetrics(opts: MetricsOptions = {}) {
  const registry = opts.registry ?? new Registry();
  if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'rewind_' });
  const registers = [registry];
  return {
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
    githubRateLimits: new Counter({
      name: 'rewind_github_rate_limited_total',
      help: 'Answers from GitHub that were a rate limit, by kind (primary, secondary)',
      labelNames: ['kind'] as const,
      registers,
    }),
    queueRateLimitDelays: new Counter({
      name: 'rewind_queue_rate_limit_delays_total',
      help: 'Job attempts postponed to honour a rate limit (retry-after or the quota reset) instead of the backoff',
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
    timeToRecovery: new Histogram({
      name: 'rewind_time_to_recovery_seconds',
      help: 'Alert start to alert resolution, for remediations whose rollback merged',
      buckets: [60, 120, 300, 600, 900, 1800, 3600, 7200, 14400],
      registers,
    }),
  };
}
