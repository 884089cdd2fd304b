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
