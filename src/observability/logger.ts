import type { LoggerOptions } from 'pino';
import { traceMixin } from './tracing.ts';

/** Pino options shared by every process role. Secrets are redacted wherever they could appear. */
export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    redact: {
      paths: [
        'req.headers.authorization',
        'headers.authorization',
        'authorization',
        'token',
        '*.token',
        'config.github.auth',
        'config.server.webhookToken',
        'config.slackWebhookUrl',
        'config.slack.botToken',
      ],
      censor: '[redacted]',
    },
    // trace_id/span_id on lines written inside a span (tracing on); nothing otherwise
    mixin: traceMixin,
  };
}

/**
 * A URL fit for a log line: any userinfo (user:password@) replaced, and the value of any query
 * parameter named like a secret (`sentinelPassword`, `token`, ...); anything that is not an absolute
 * URL as is. Read with a pattern, not `new URL`: `redis+cluster://u:p@h1:1,h2:2` is no WHATWG URL.
 */
export function redactUrl(raw: string): string {
  const m = /^([a-z][a-z0-9+.-]*:\/\/)(?:[^/?#]*@)?([^?#]*)(\?[^#]*)?(#.*)?$/is.exec(raw);
  if (!m) return raw;
  const [, scheme, rest, query = '', hash = ''] = m;
  const hadUserinfo = raw.length > scheme!.length + rest!.length + query.length + hash.length;
  const q = query.replace(/([?&])([^=&]*(?:token|password|secret|key)[^=&]*)=[^&]*/gi, '$1$2=redacted');
  return `${scheme}${hadUserinfo ? 'redacted@' : ''}${rest}${q}${hash}`;
}

/** What a module logs to: the part of pino it calls, so any (child) logger fits. */
export interface LogSink {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** The subset of pino rewind's modules use, so they can take any child logger. */
export interface Logger extends LogSink {
  child(bindings: Record<string, unknown>): Logger;
}

export const silentLogger: LogSink = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
