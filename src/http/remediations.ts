import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { IndexPosition } from '../audit/store.ts';
import { ErrorSchema, ListQuerySchema, ListResponseSchema, RemediationSchema } from './schemas.ts';
import type { AppDeps } from './deps.ts';
import { fromStore } from './errors.ts';
import { retryRemediation } from '../queue/retry.ts';

const IdParams = Type.Object({ id: Type.String({ pattern: '^rem_[a-z0-9]{1,40}$' }) });

/** Bound on a list response: a record can be large (many alerts), `limit` alone does not bound bytes. */
export const DEFAULT_LIST_MAX_BYTES = 4 * 1024 * 1024;

const cursorOf = (at: IndexPosition) => `${at.score}.${at.id}`;

function parseCursor(cursor: string): IndexPosition {
  const dot = cursor.indexOf('.');
  return { score: Number(cursor.slice(0, dot)), id: cursor.slice(dot + 1) };
}

export function remediationRoutes(deps: AppDeps): FastifyPluginAsyncTypebox {
  const maxBytes = deps.listMaxBytes ?? DEFAULT_LIST_MAX_BYTES;
  return async (app) => {
    app.get(
      '/v1/remediations',
      {
        schema: {
          summary:
            'Audit records, newest first, a page at a time (follow nextCursor); state=failed: the dead letter, newest failure first',
          security: [{ bearer: [] }],
          querystring: ListQuerySchema,
          response: {
            200: ListResponseSchema,
            400: ErrorSchema,
            401: ErrorSchema,
            503: ErrorSchema,
          },
        },
      },
      async (req) => {
        const limit = req.query.limit ?? 50;
        // one more than asked: whether a next page exists
        const rows = await fromStore('list remediations', () =>
          deps.store.listPage({
            ...(req.query.target ? { target: req.query.target } : {}),
            ...(req.query.state ? { state: req.query.state } : {}),
            limit: limit + 1,
            ...(req.query.cursor ? { after: parseCursor(req.query.cursor) } : {}),
          }),
        );
        const page: typeof rows = [];
        let bytes = 0;
        for (const row of rows.slice(0, limit)) {
          const size = Buffer.byteLength(JSON.stringify(row.record));
          if (page.length > 0 && bytes + size > maxBytes) break;
          page.push(row);
          bytes += size;
        }
        const last = page.at(-1);
        const more = page.length < rows.length;
        return {
          remediations: page.map((r) => r.record),
          nextCursor: more && last ? cursorOf(last.at) : null,
        };
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
