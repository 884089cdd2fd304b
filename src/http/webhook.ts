import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { triage } from '../core/alerts.ts';
import type { Alert } from '../core/types.ts';
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
        const toEnqueue = new Set<string>();
        try {
          for (const group of t.firing) {
            for (const alert of group.alerts) {
              const adm = await deps.store.admitFiring({
                target: group.target.name,
                alert,
                targetsFiring: t.targetsFiring,
                now,
                dryRun: deps.dryRun,
              });
              if (adm.state === 'queued') toEnqueue.add(adm.remediationId);
              accepted.add(alert);
              remediations.set(adm.remediationId, group.target.name);
              deps.metrics.alerts.inc({
                status: 'firing',
                outcome: adm.outcome === 'seen_again' ? 'seen_again' : 'accepted',
              });
              // repeats arrive every group_interval and in storms: keep them out of the info log
              req.log[adm.outcome === 'seen_again' ? 'debug' : 'info'](
                { remediationId: adm.remediationId, target: group.target.name, outcome: adm.outcome },
                'firing alert admitted',
              );
            }
          }
          // A job that is still queued is (re-)added, once per remediation: a no-op when it exists,
          // a repair when an earlier delivery stored the record but died before enqueuing.
          for (const remediationId of toEnqueue)
            await deps.queue.enqueue({ kind: 'remediate', remediationId, ...traceOf(req) });
          for (const r of t.resolutions) {
            // endsAt is alert content (it ends up in the PR close comment): only an RFC 3339 time is taken
            const resolvedAt =
              RFC3339.test(r.alert.endsAt) && !r.alert.endsAt.startsWith('0001')
                ? r.alert.endsAt
                : now.toISOString();
            const adm = await deps.store.admitResolved({ target: r.target.name, alert: r.alert, resolvedAt });
            if (!adm) continue;
            accepted.add(r.alert);
            remediations.set(adm.remediationId, r.target.name);
            deps.metrics.alerts.inc({ status: 'resolved', outcome: 'accepted' });
            if (adm.allResolved) {
              await deps.queue.enqueue({
                kind: 'resolve',
                remediationId: adm.remediationId,
                resolvedAt: adm.resolvedAt,
                ...traceOf(req),
              });
            }
          }
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
