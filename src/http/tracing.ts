/**
 * A server span per /v1 request, made in Fastify hooks rather than by
 * patching http. The span is not the handler's active context (hooks cannot
 * wrap the handler), so a handler hands it on explicitly: `traceOf(req)` goes
 * into the queue job, and the worker continues the trace from there.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { SpanKind, startSpan, traceCarrierOf, type Span } from '../observability/tracing.ts';

const spans = new WeakMap<FastifyRequest, Span>();

export function registerTracing(app: FastifyInstance): void {
  app.addHook('onRequest', async (req) => {
    const route = req.routeOptions.url ?? '';
    if (!route.startsWith('/v1/')) return;
    spans.set(
      req,
      startSpan(`${req.method} ${route}`, {
        kind: SpanKind.SERVER,
        attributes: { 'http.request.method': req.method, 'http.route': route },
      }),
    );
  });
  app.addHook('onResponse', async (req, reply) => {
    const span = spans.get(req);
    if (!span) return;
    span.setAttribute('http.response.status_code', reply.statusCode);
    span.end();
  });
}

/** The request's trace for a queue job's data (`{}` when tracing is off). */
export function traceOf(req: FastifyRequest): { trace?: Record<string, string> } {
  const span = spans.get(req);
  const carrier = span ? traceCarrierOf(span) : undefined;
  return carrier ? { trace: carrier } : {};
}
