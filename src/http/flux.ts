import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { AppDeps } from './deps.ts';
import { fromStore } from './errors.ts';
import { ErrorSchema } from './schemas.ts';

/** notification-controller's Event (generic provider), only the fields rewind reads; others pass. */
const FluxEventSchema = Type.Object({
  involvedObject: Type.Object({
    kind: Type.String({ maxLength: 128 }),
    name: Type.String({ maxLength: 253 }),
    namespace: Type.Optional(Type.String({ maxLength: 253 })),
    apiVersion: Type.Optional(Type.String({ maxLength: 256 })),
  }),
  severity: Type.String({ maxLength: 32 }),
  reason: Type.String({ maxLength: 256 }),
  message: Type.String({ maxLength: 32768 }),
  metadata: Type.Optional(Type.Record(Type.String({ maxLength: 256 }), Type.String({ maxLength: 4096 }))),
  timestamp: Type.Optional(Type.String({ maxLength: 64 })),
  reportingController: Type.Optional(Type.String({ maxLength: 256 })),
});

const OutcomeSchema = Type.Object({
  outcome: Type.String(),
  remediationId: Type.Optional(Type.String()),
  reason: Type.Optional(Type.String()),
});

export function fluxRoutes(deps: AppDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    const handler = deps.fluxEvents;
    if (!handler) return;
    app.post(
      '/v1/flux/events',
      {
        schema: {
          summary: 'Flux notification-controller events (generic provider): verify merged rollbacks',
          description:
            'Events for a Kustomization at the merge commit of a rollback verify it (ReconciliationSucceeded) or not (severity error). Any other event is accepted and counted as ignored, so Flux never retries it.',
          security: [{ bearer: [] }],
          body: FluxEventSchema,
          response: {
            202: OutcomeSchema,
            400: ErrorSchema,
            401: ErrorSchema,
            413: ErrorSchema,
            415: ErrorSchema,
            503: ErrorSchema,
          },
        },
      },
      async (req, reply) => {
        const out = await fromStore('record the Flux event', () => handler.handle(req.body));
        return reply.code(202).send(out);
      },
    );
  };
}
