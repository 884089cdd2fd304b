import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { ErrorSchema, ListQuerySchema, RemediationSchema } from './schemas.ts';
import type { AppDeps } from './deps.ts';
import { fromStore } from './errors.ts';
import { retryRemediation } from '../queue/retry.ts';

const IdParams = Type.Object({ id: Type.String({ pattern: '^rem_[a-z0-9]{1,40}$' }) });

export function remediationRoutes(deps: AppDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/v1/remediations',
      {
        schema: {
          summary: 'Audit records, newest first (state=failed: the dead letter)',
          security: [{ bearer: [] }],
          querystring: ListQuerySchema,
          response: {
            200: Type.Object({ remediations: Type.Array(RemediationSchema) }),
            400: ErrorSchema,
            401: ErrorSchema,
            503: ErrorSchema,
          },
        },
      },
      async (req) => {
        const remediations = await fromStore('list remediations', () =>
          deps.store.list({
            ...(req.query.target ? { target: req.query.target } : {}),
            ...(req.query.state ? { state: req.query.state } : {}),
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
          params: IdParams,
          response: {
            200: RemediationSchema,
            400: ErrorSchema,
            401: ErrorSchema,
            404: ErrorSchema,
            503: ErrorSchema,
          },
        },
      },
      async (req, reply) => {
        const rec = await fromStore(`read remediation ${req.params.id}`, () => deps.store.get(req.params.id));
        if (!rec)
          return reply.code(404).send({ error: 'not_found', message: `no remediation ${req.params.id}` });
        return rec;
      },
    );
    app.post(
      '/v1/remediations/:id/retry',
      {
        schema: {
          summary: 'Run a failed remediation again from its last checkpoint',
          security: [{ bearer: [] }],
          params: IdParams,
          response: {
            202: Type.Object({ id: Type.String(), state: Type.Literal('queued') }),
            400: ErrorSchema,
            401: ErrorSchema,
            404: ErrorSchema,
            409: ErrorSchema,
            503: ErrorSchema,
          },
        },
      },
      async (req, reply) => {
        const id = req.params.id;
        const res = await fromStore(`retry remediation ${id}`, () =>
          retryRemediation(
            { store: deps.store, enqueue: (d) => deps.queue.enqueue(d), clock: deps.clock },
            id,
          ),
        );
        if (res.kind === 'not_found')
          return reply.code(404).send({ error: 'not_found', message: `no remediation ${id}` });
        if (res.kind === 'conflict') return reply.code(409).send({ error: 'conflict', message: res.message });
        return reply.code(202).send({ id, state: 'queued' as const });
      },
    );
  };
}
