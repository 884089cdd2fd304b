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

/** A URL fit for a log line: any userinfo (user:password@) replaced; anything that is not a URL as is. */
export function redactUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return raw;
  }
  if (url.username === '' && url.password === '') return raw;
  url.username = 'redacted';
  url.password = '';
  return url.toString().replace(/\/$/, raw.endsWith('/') ? '/' : '');
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
