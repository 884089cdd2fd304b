/** Redis (queue and audit store) unreachable: 503, so callers such as Alertmanager retry. */
export class QueueUnavailableError extends Error {
  readonly statusCode = 503;
  readonly code = 'queue_unavailable';
}

/** Runs a Redis-backed read; an outage is a 503 with a clear message, not a 500. */
export async function fromStore<T>(what: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch {
    throw new QueueUnavailableError(`${what}: the audit store (Redis) is unavailable; retry later`);
  }
}
