import type { FastifyServerOptions } from 'fastify';
import type { Clock } from '../core/ports.ts';
import type { TargetIndex } from '../core/targets.ts';
import type { AuditStore } from '../audit/store.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { JobData } from '../queue/queue.ts';
import type { ReleaseResult, TargetStatus } from '../remediation/release.ts';
import type { FluxEvent, FluxEventOutcome } from '../flux/events.ts';

/** What the HTTP app is built from (injected; the app creates no clients of its own). */
export interface AppDeps {
  targets: TargetIndex;
  store: AuditStore;
  queue: { enqueue(data: JobData): Promise<void>; enqueueMany(data: readonly JobData[]): Promise<void> };
  metrics: Metrics;
  clock: Clock;
  dryRun: boolean;
  webhookToken: string;
  /** 'ops' serves only health, readiness, metrics and docs (worker replicas) */
  routes?: 'all' | 'ops';
  bodyLimit: number;
  /** readiness of what the API depends on */
  checks: { redis(): Promise<boolean>; policy(): boolean };
  logger?: FastifyServerOptions['logger'];
  /** GET /v1/targets and POST /v1/targets/{name}/release (src/remediation/release.ts) */
  targetsView?: {
    list(): Promise<TargetStatus[]>;
    release(name: string): Promise<ReleaseResult | null>;
  };
  /** POST /v1/flux/events (src/remediation/flux-events.ts) */
  fluxEvents?: { handle(event: FluxEvent): Promise<FluxEventOutcome> };
  version?: string;
}
