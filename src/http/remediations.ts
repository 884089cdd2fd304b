import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { ErrorSchema, ListQuerySchema, RemediationSchema } from './schemas.ts';
import type { AppDeps } from './deps.ts';
import { fromStore } from './errors.ts';

export function remediationRoutes(deps: AppDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/v1/remediations',
      {
        schema: {
          summary: 'Audit records, newest first',
          security: [{ bearer: [] }],
          querystring: ListQuerySchema,
          response: {
            200: Type.Object({ remediations: Type.Array(RemediationSchema) }),
            401: ErrorSchema,
            503: ErrorSchema,
          },
        },
      },
      async (req) => {
        const remediations = await fromStore('list remediations', () =>
          deps.store.list({
            ...(req.query.target ? { target: req.query.target } : {}),
            limit: req.query.limit ?? 50,
          }),
        );
        return { remediations };
      },
    );
    app.get(
      '/v1/remediations/:id',
      {
        schema: {
          summary: 'One audit record',
          security: [{ bearer: [] }],
          params: Type.Object({ id: Type.String({ pattern: '^rem_[a-z0-9]{1,40}$' }) }),
          response: { 200: RemediationSchema, 401: ErrorSchema, 404: ErrorSchema, 503: ErrorSchema },
        },
      },
      async (req, reply) => {
        const rec = await fromStore(`read remediation ${req.params.id}`, () => deps.store.get(req.params.id));
        if (!rec)
          return reply.code(404).send({ error: 'not_found', message: `no remediation ${req.params.id}` });
        return rec;
      },
    );
  };
}
