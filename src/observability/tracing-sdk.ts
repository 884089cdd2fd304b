/** The OpenTelemetry SDK part of tracing, imported only when an OTLP endpoint is set. */
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import type { Env, Tracing } from './tracing.ts';

export function registerProvider(env: Env, url: string, opts: { version?: string }): Tracing {
  const provider = new NodeTracerProvider({
    resource: defaultResource().merge(
      resourceFromAttributes({
        [ATTR_SERVICE_NAME]: env.OTEL_SERVICE_NAME || 'rewind',
        ...(opts.version ? { [ATTR_SERVICE_VERSION]: opts.version } : {}),
      }),
    ),
    // headers, timeout and compression come from the standard OTEL_EXPORTER_OTLP_* variables
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url }))],
  });
  // AsyncLocalStorage context and the W3C traceparent propagator
  provider.register();
  return {
    enabled: true,
    flush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
}
