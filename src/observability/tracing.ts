/**
 * OpenTelemetry traces: one trace per remediation, from the webhook through
 * the queue to the worker's GitHub and Slack calls. Spans are made by hand at
 * the adapter edges (no auto-instrumentation patching, which is fragile under
 * ESM). Off unless OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT is set: then no
 * provider is registered and the API's no-op tracer costs next to nothing.
 */
import {
  context,
  propagation,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
} from '@opentelemetry/api';

export type Env = Readonly<Record<string, string | undefined>>;

export interface Tracing {
  enabled: boolean;
  /** export what is buffered (tests; shutdown does it too) */
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

const TRACER = 'rewind';

/** The OTLP/HTTP traces URL the standard variables name, or null when tracing is off. */
export function tracesEndpoint(env: Env): string | null {
  if ((env.OTEL_SDK_DISABLED ?? '').toLowerCase() === 'true') return null;
  if ((env.OTEL_TRACES_EXPORTER ?? '').toLowerCase() === 'none') return null;
  const traces = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  if (traces) return traces;
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT;
  return base ? `${base.replace(/\/+$/, '')}/v1/traces` : null;
}

/**
 * Registers the global tracer provider when an OTLP endpoint is configured
 * (once per process). The SDK is loaded only then: off, startup does not pay for it.
 */
export async function startTracing(env: Env, opts: { version?: string } = {}): Promise<Tracing> {
  const url = tracesEndpoint(env);
  if (!url) return { enabled: false, flush: async () => {}, shutdown: async () => {} };
  const { registerProvider } = await import('./tracing-sdk.ts');
  return registerProvider(env, url, opts);
}

export interface SpanOptions {
  kind?: SpanKind;
  attributes?: Attributes;
  /** parent context (e.g. extracted from a queue job); default the active one */
  parent?: Context;
}

/** Runs `fn` inside a span: errors mark the span and are rethrown unchanged. */
export async function withSpan<T>(
  name: string,
  opts: SpanOptions,
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  const tracer = trace.getTracer(TRACER);
  const spanOpts = {
    kind: opts.kind ?? SpanKind.INTERNAL,
    ...(opts.attributes ? { attributes: opts.attributes } : {}),
  };
  return tracer.startActiveSpan(name, spanOpts, opts.parent ?? context.active(), async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      // the message only: some clients' errors carry URLs or headers in other fields
      span.setStatus({
        code: SpanStatusCode.ERROR,
        message: err instanceof Error ? err.message : String(err),
      });
      throw err;
    } finally {
      span.end();
    }
  });
}

/** A span that is not made active (Fastify hooks end it later). */
export function startSpan(name: string, opts: SpanOptions): Span {
  return trace
    .getTracer(TRACER)
    .startSpan(
      name,
      { kind: opts.kind ?? SpanKind.INTERNAL, ...(opts.attributes ? { attributes: opts.attributes } : {}) },
      opts.parent ?? context.active(),
    );
}

/** W3C headers naming `span` as the parent; undefined for a non-recording span (tracing off). */
export function traceCarrierOf(span: Span): Record<string, string> | undefined {
  if (!span.isRecording()) return undefined;
  const carrier: Record<string, string> = {};
  propagation.inject(trace.setSpan(context.active(), span), carrier);
  return Object.keys(carrier).length ? carrier : undefined;
}

/** The active trace as W3C headers for a queue job's data; undefined when there is none (tracing off). */
export function traceCarrier(): Record<string, string> | undefined {
  if (!trace.getSpanContext(context.active())) return undefined;
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return Object.keys(carrier).length ? carrier : undefined;
}

/** The context a job's producer left in its data. */
export function contextFrom(carrier: Readonly<Record<string, string>> | undefined): Context {
  return carrier ? propagation.extract(context.active(), carrier) : context.active();
}

/** pino mixin: every log line written inside a span carries its trace and span id. */
export function traceMixin(): Record<string, string> {
  const span = trace.getSpanContext(context.active());
  return span ? { trace_id: span.traceId, span_id: span.spanId } : {};
}

export { SpanKind, type Span };
