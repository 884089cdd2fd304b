/**
 * Time limits for the listening socket. Node (through Fastify) leaves a
 * request unbounded by default: a client that opens a connection and never
 * finishes its headers holds a socket forever, no token needed.
 */
export interface ServerTimeouts {
  /** an idle socket (nothing received or sent) is closed after this many ms */
  connectionTimeout: number;
  /** the whole request, headers and body, must arrive within this many ms (else 408) */
  requestTimeout: number;
  /** an idle keep-alive connection is closed after this many ms */
  keepAliveTimeout: number;
}

export const DEFAULT_TIMEOUTS: ServerTimeouts = {
  connectionTimeout: 60_000,
  requestTimeout: 30_000,
  // above the 60 s idle timeout of common load balancers, as Fastify's own default
  keepAliveTimeout: 72_000,
};

/** Fastify server options for these limits. */
export function serverTimeouts(t: ServerTimeouts) {
  return {
    connectionTimeout: t.connectionTimeout,
    requestTimeout: t.requestTimeout,
    keepAliveTimeout: t.keepAliveTimeout,
    http: {
      // Node checks request and header deadlines only every connectionsCheckingInterval (30 s by
      // default); check often enough that a limit means what it says
      headersTimeout: t.requestTimeout,
      connectionsCheckingInterval: Math.min(1_000, Math.max(100, Math.floor(t.requestTimeout / 2))),
    },
  };
}
