import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { RewindError } from '../core/errors.ts';
import type { AppDeps } from './deps.ts';
import { ErrorSchema } from './schemas.ts';

const TargetStatusSchema = Type.Object({
  name: Type.String(),
  environment: Type.String(),
  repo: Type.String(),
  path: Type.String(),
  image: Type.String(),
  currentVersion: Type.Union([Type.String(), Type.Null()]),
  hold: Type.Union([
    Type.Object({ markers: Type.Integer(), ignoredTags: Type.Array(Type.String()), active: Type.Boolean() }),
    Type.Null(),
  ]),
  lastRemediation: Type.Union([
    Type.Object({ id: Type.String(), state: Type.String(), createdAt: Type.String() }),
    Type.Null(),
  ]),
  /** why the current version or hold could not be read from Git */
  error: Type.Union([Type.String(), Type.Null()]),
});

const ReleaseSchema = Type.Object({
  target: Type.String(),
  pullRequest: Type.Object({ number: Type.Integer(), url: Type.String(), branch: Type.String() }),
  released: Type.Object({ markers: Type.Integer(), tags: Type.Array(Type.String()) }),
});

export function targetRoutes(deps: AppDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    const view = deps.targetsView;
    if (!view) return;
    app.get(
      '/v1/targets',
      {
        schema: {
          summary: 'Each target with its current version, active hold and last remediation',
          security: [{ bearer: [] }],
          response: {
            200: Type.Object({ targets: Type.Array(TargetStatusSchema) }),
            401: ErrorSchema,
            503: ErrorSchema,
          },
        },
      },
      async () => ({ targets: await view.list() }),
    );
    app.post(
      '/v1/targets/:name/release',
      {
        schema: {
          summary:
            'Open a pull request that lifts the hold on a target (restores Flux markers, un-ignores the tag)',
          security: [{ bearer: [] }],
          params: Type.Object({ name: Type.String({ pattern: '^[a-z0-9-]{1,63}$' }) }),
          response: {
            201: ReleaseSchema,
            400: ErrorSchema,
            401: ErrorSchema,
            404: ErrorSchema,
            409: ErrorSchema,
            502: ErrorSchema,
            503: ErrorSchema,
          },
        },
      },
      async (req, reply) => {
        try {
          const res = await view.release(req.params.name);
          if (!res)
            return reply
              .code(409)
              .send({ error: 'no_hold', message: `target ${req.params.name} has no active hold to release` });
          return reply.code(201).send({ target: req.params.name, ...res });
        } catch (err) {
          if (err instanceof RewindError && err.code === 'not_found')
            return reply.code(404).send({ error: 'not_found', message: err.message });
          if (err instanceof RewindError)
            return reply.code(err.retryable ? 503 : 502).send({ error: err.code, message: err.message });
          throw err;
        }
      },
    );
  };
}
