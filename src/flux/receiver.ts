/**
 * The only module that calls Flux: a notification-controller Receiver
 * (`generic`, or `generic-hmac` when a secret is set: `X-Signature:
 * sha256=<hex HMAC of the body>`). The Receiver URL embeds a digest that acts
 * as a credential, so it never appears in an error message.
 */
import { createHmac } from 'node:crypto';
import { RewindError } from '../core/errors.ts';

export interface FluxReceiverOptions {
  /** key of `generic-hmac` Receivers; null for `generic` */
  secret: string | null;
  fetch?: typeof fetch;
  timeoutMs?: number;
}

export type FluxReceiverCaller = (url: string, payload: Record<string, string>) => Promise<void>;

export function signature(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export function createFluxReceiverCaller(opts: FluxReceiverOptions): FluxReceiverCaller {
  const doFetch = opts.fetch ?? globalThis.fetch;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  return async (url, payload) => {
    const body = JSON.stringify(payload);
    let res: Response;
    try {
      res = await doFetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(opts.secret ? { 'x-signature': signature(body, opts.secret) } : {}),
        },
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      const reason = (err as Error).name === 'TimeoutError' ? `no answer in ${timeoutMs} ms` : 'unreachable';
      throw new RewindError('flux_unavailable', `Flux Receiver: ${reason}`, { retryable: true });
    }
    await res.arrayBuffer().catch(() => undefined);
    if (res.ok) return;
    const what = `Flux Receiver answered HTTP ${res.status}`;
    if (res.status === 429 || res.status >= 500)
      throw new RewindError('flux_unavailable', what, { retryable: true });
    throw new RewindError(
      'flux_refused',
      `${what}; check the Receiver URL${opts.secret ? ' and REWIND_FLUX_RECEIVER_SECRET' : ''}`,
    );
  };
}
