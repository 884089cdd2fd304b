import Fastify, { LogController, type FastifyError, type FastifyReply, type FastifyRequest } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { bearerChecker } from './auth.ts';
import type { AppDeps } from './deps.ts';
import { remediationRoutes } from './remediations.ts';
import { buildValidator } from './validation.ts';
import { DEFAULT_TIMEOUTS, serverTimeouts } from './timeouts.ts';
import { webhookRoutes } from './webhook.ts';
import { registerTracing } from './tracing.ts';
import { fluxRoutes } from './flux.ts';
import { targetRoutes } from './targets.ts';
import { addMethodNotAllowed, collectRouteMethods } from './method-not-allowed.ts';

/** Fastify's own error codes → the SPEC's `{"error", "message"}` codes. */
const ERROR_CODES: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  404: 'not_found',
  405: 'method_not_allowed',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  503: 'queue_unavailable',
};

/**
 * Two info lines per request (Fastify's default) flood the log in an alert storm and at every probe:
 * one line at completion instead, at debug when it went well and at info when it did not.
 */
class RequestLog extends LogController {
  override incomingRequest(): void {}
  override requestCompleted(error: Error | null | undefined, req: FastifyRequest, reply: FastifyReply): void {
    const level = error || reply.statusCode >= 400 ? 'info' : 'debug';
    reply.log[level](
      {
        method: req.method,
        route: req.routeOptions.url ?? null,
        statusCode: reply.statusCode,
        responseTimeMs: Math.round(reply.elapsedTime * 10) / 10,
      },
      'request completed',
    );
  }
}

/** Builds the app; never listens (fastify/demo: tests use app.inject). */
export async function buildApp(deps: AppDeps) {
  const app = Fastify({
    logger: deps.logger ?? false,
    logController: new RequestLog(),
    bodyLimit: deps.bodyLimit,
    ...serverTimeouts(deps.timeouts ?? DEFAULT_TIMEOUTS),
    trustProxy: false,
    // `__proto__` and `constructor` are valid Prometheus label names. JSON.parse only ever makes
    // them own properties (it never sets a prototype); the webhook copies labels into
    // null-prototype objects, so nothing downstream can be polluted through them.
    onProtoPoisoning: 'ignore',
    onConstructorPoisoning: 'ignore',
    schemaController: { compilersFactory: { buildValidator } },
  }).withTypeProvider<TypeBoxTypeProvider>();
  // Fastify parses text/plain by default; the SPEC answers 415 to any body that is not JSON
  app.removeContentTypeParser('text/plain');

  app.setErrorHandler((err: FastifyError, req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 ? err.statusCode : 500;
    if (status >= 500 && status !== 503) req.log.error({ err }, 'request failed');
    let code = ERROR_CODES[status] ?? 'internal_error';
    let message = status >= 500 && status !== 503 ? 'internal error' : err.message;
    if (err.validation) {
      code = 'invalid_payload';
      message = `${err.validationContext ?? 'body'}${err.validation[0]?.instancePath ?? ''} ${err.validation[0]?.message ?? 'is invalid'}`;
    } else if (err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err instanceof SyntaxError) {
      code = 'invalid_json';
    } else if (err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') {
      code = 'invalid_json';
    }
    return reply.code(status).send({ error: code, message });
  });
  app.setNotFoundHandler((req, reply) =>
    reply.code(404).send({ error: 'not_found', message: `no route ${req.method} ${req.url.split('?')[0]}` }),
  );

  const bearerMatches = bearerChecker(deps.webhookToken);
  app.addHook('onRequest', async (req, reply) => {
    // The matched route decides, not the raw URL: the router also reaches /v1 routes through
    // percent-encoded paths (/%761/...) and absolute-form targets (http://host/v1/...).
    const route = req.routeOptions.url ?? '';
    if (!route.startsWith('/v1/') && !req.url.startsWith('/v1/')) return;
    if (!bearerMatches(req.headers.authorization)) {
      return reply
        .code(401)
        .header('www-authenticate', 'Bearer realm="rewind"')
        .send({ error: 'unauthorized', message: 'missing or invalid bearer token' });
    }
    return undefined;
  });
  registerTracing(app);
  app.addHook('onResponse', async (req, reply) => {
    if (req.routeOptions.url === '/v1/alertmanager' || req.url.startsWith('/v1/alertmanager')) {
      deps.metrics.webhookRequests.inc({ code: String(reply.statusCode) });
    }
  });

  const routeMethods = collectRouteMethods(app);

  await app.register(swagger, {
    openapi: {
      info: {
        title: 'rewind',
        description: 'Alert-driven rollbacks for GitOps',
        version: deps.version ?? '0.1.0',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { hide: true } }, async (_req, reply) => {
    const redis = await deps.checks.redis().catch(() => false);
    const policy = deps.checks.policy();
    const ready = redis && policy;
    return reply
      .code(ready ? 200 : 503)
      .send({ status: ready ? 'ready' : 'not_ready', checks: { redis, policy } });
  });
  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => {
    const body = await deps.metrics.registry.metrics();
    return reply.type(deps.metrics.registry.contentType).send(body);
  });

  if ((deps.routes ?? 'all') === 'all') {
    if (deps.webhookToken.length === 0) throw new Error('buildApp: webhookToken must not be empty');
    await app.register(webhookRoutes(deps));
    await app.register(remediationRoutes(deps));
    await app.register(targetRoutes(deps));
    await app.register(fluxRoutes(deps));
  }
  addMethodNotAllowed(app, routeMethods);
  return app;
}

export type { AppDeps } from './deps.ts';
