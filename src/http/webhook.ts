import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { triage } from '../core/alerts.ts';
import type { Alert } from '../core/types.ts';
import type { AdmissionItem } from '../audit/store.ts';
import type { JobData } from '../queue/queue.ts';
import { ErrorSchema, WebhookAcceptedSchema, WebhookSchema, payloadAlerts } from './schemas.ts';
import type { AppDeps } from './deps.ts';
import { QueueUnavailableError } from './errors.ts';
import { traceOf } from './tracing.ts';

const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)$/i;

/**
 * POST /v1/alertmanager. Answers 2xx only once every accepted alert is stored
 * in Redis (Alertmanager retries a 5xx), so nothing is lost on an outage.
 */
export function webhookRoutes(deps: AppDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/v1/alertmanager',
      {
        schema: {
          summary: 'Alertmanager webhook (payload version 4)',
          security: [{ bearer: [] }],
          body: WebhookSchema,
          response: {
            202: WebhookAcceptedSchema,
            400: ErrorSchema,
            401: ErrorSchema,
            413: ErrorSchema,
            415: ErrorSchema,
            503: ErrorSchema,
          },
        },
      },
      async (req, reply) => {
        const alerts = payloadAlerts(req.body);
        const t = triage(alerts, deps.targets);
        const now = deps.clock.now();
        const remediations = new Map<string, string>();
        const accepted = new Set<Alert>();
        // the whole notification, in order: firing alerts first, so a resolution in the same
        // notification finds the remediation its firing sibling created
        const items: AdmissionItem[] = [
          ...t.firing.flatMap((g) =>
            g.alerts.map((alert) => ({ kind: 'firing' as const, target: g.target.name, alert })),
          ),
          ...t.resolutions.map((r) => ({
            kind: 'resolved' as const,
            target: r.target.name,
            alert: r.alert,
            // endsAt is alert content (it ends up in the PR close comment): only an RFC 3339 time is taken
            resolvedAt:
              RFC3339.test(r.alert.endsAt) && !r.alert.endsAt.startsWith('0001')
                ? r.alert.endsAt
                : now.toISOString(),
          })),
        ];
        try {
          const results = await deps.store.admit(items, {
            targetsFiring: t.targetsFiring,
            now,
            dryRun: deps.dryRun,
          });
          const jobs: JobData[] = [];
          const queued = new Set<string>();
          results.forEach((res, i) => {
            const item = items[i];
            if (!item || res.kind === 'unknown') return;
            accepted.add(item.alert);
            remediations.set(res.remediationId, item.target);
            if (res.kind === 'firing') {
              // A job that is still queued and not in the queue is (re-)added, once per remediation: a repair
              // when an earlier delivery stored the record but died before enqueuing. Admission says whether
              // it exists, so repeats in a storm cost one round trip, not two.
              if (res.state === 'queued' && !res.jobQueued && !queued.has(res.remediationId)) {
                queued.add(res.remediationId);
                jobs.push({ kind: 'remediate', remediationId: res.remediationId, ...traceOf(req) });
              }
              deps.metrics.alerts.inc({
                status: 'firing',
                outcome: res.outcome === 'seen_again' ? 'seen_again' : 'accepted',
              });
              // Repeats arrive every group_interval, and a bad release makes every pod fire a new incident
              // that joins the running remediation (the record keeps them): only a new remediation is news.
              req.log[res.outcome === 'created' ? 'info' : 'debug'](
                { remediationId: res.remediationId, target: item.target, outcome: res.outcome },
                'firing alert admitted',
              );
            } else {
              deps.metrics.alerts.inc({ status: 'resolved', outcome: 'accepted' });
              if (res.allResolved)
                jobs.push({
                  kind: 'resolve',
                  remediationId: res.remediationId,
                  resolvedAt: res.resolvedAt,
                  ...traceOf(req),
                });
            }
          });
          await deps.queue.enqueueMany(jobs);
        } catch (err) {
          req.log.error({ err: (err as Error).message }, 'queue unavailable');
          throw new QueueUnavailableError('the queue (Redis) is unavailable; retry later');
        }
        const ignored = alerts.length - accepted.size;
        const unmatched = alerts.filter((a) => !accepted.has(a));
        for (const a of unmatched) deps.metrics.alerts.inc({ status: a.status, outcome: 'ignored' });
        const truncated = req.body.truncatedAlerts ?? 0;
        if (truncated > 0) {
          // max_alerts hides alerts from rewind, and with them targets that may be firing
          // (incident.targetsFiring undercounts): make that visible rather than silent.
          deps.metrics.alerts.inc({ status: req.body.status ?? 'firing', outcome: 'truncated' }, truncated);
          req.log.warn(
            { truncatedAlerts: truncated },
            'Alertmanager truncated this notification (max_alerts)',
          );
        }
        return reply.code(202).send({
          received: alerts.length,
          accepted: accepted.size,
          ignored,
          remediations: [...remediations].map(([id, target]) => ({ id, target })),
        });
      },
    );
  };
}
