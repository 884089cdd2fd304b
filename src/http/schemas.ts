import Type, { type Static } from 'typebox';
import { truncateText } from '../core/text.ts';
import type { Alert } from '../core/types.ts';
import { STATES } from '../remediation/lifecycle.ts';

/**
 * Longest label or annotation value (and label name) kept, in characters;
 * longer ones are cut and end with "… [truncated]". Rejecting them instead
 * would drop the whole notification: Alertmanager never retries a 4xx.
 */
export const MAX_ALERT_TEXT = 4096;

// no length limits here (bodyLimit bounds the body): long values are truncated, not refused
const StringMap = Type.Record(Type.String(), Type.String());

/** Alertmanager webhook payload v4, only the fields rewind reads; unknown fields are accepted (newer Alertmanagers add some). */
export const AlertSchema = Type.Object({
  status: Type.Union([Type.Literal('firing'), Type.Literal('resolved')]),
  labels: StringMap,
  annotations: Type.Optional(StringMap),
  startsAt: Type.String({ format: 'date-time' }),
  endsAt: Type.Optional(Type.String({ maxLength: 64 })),
  // Prometheus puts the whole URL-encoded expression here; only bodyLimit caps it, since a 400 for
  // one long URL makes Alertmanager drop the whole notification (it retries 5xx only).
  generatorURL: Type.Optional(Type.String()),
  fingerprint: Type.String({ pattern: '^[0-9a-fA-F]{1,64}$' }),
});

/** Far above any alert group Alertmanager can hold in memory, far below what breaks a counter. */
export const MAX_TRUNCATED_ALERTS = 10_000_000;

export const WebhookSchema = Type.Object({
  version: Type.Optional(Type.String({ maxLength: 8 })),
  status: Type.Optional(Type.Union([Type.Literal('firing'), Type.Literal('resolved')])),
  // not read by rewind: no limit of its own (a 400 would drop the whole notification)
  receiver: Type.Optional(Type.String()),
  alerts: Type.Array(AlertSchema, { maxItems: 10000 }),
  /** Alertmanager's own URL: Slack links to it and to a prefilled silence */
  externalURL: Type.Optional(Type.String({ maxLength: 2048 })),
  /** alerts Alertmanager left out (receiver `max_alerts`): rewind never sees them */
  // a count of alerts that existed: anything larger is not an Alertmanager payload (1e300 once
  // reached a counter as is)
  truncatedAlerts: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_TRUNCATED_ALERTS })),
});
export type WebhookPayload = Static<typeof WebhookSchema>;

/**
 * Labels or annotations as a null-prototype object with bounded strings:
 * `__proto__` and `constructor` are valid label names, stored as plain keys
 * and never read through Object.prototype.
 */
function boundedMap(m: Readonly<Record<string, string>>): Record<string, string> {
  const out = Object.create(null) as Record<string, string>;
  for (const [k, v] of Object.entries(m)) {
    const name = truncateText(k, MAX_ALERT_TEXT);
    if (!Object.hasOwn(out, name)) out[name] = truncateText(v, MAX_ALERT_TEXT);
  }
  return out;
}

/** A validated payload's alerts as domain values (absent optional fields made explicit). */
export function payloadAlerts(p: WebhookPayload): Alert[] {
  return p.alerts.map((a) => ({
    status: a.status,
    labels: boundedMap(a.labels),
    annotations: boundedMap(a.annotations ?? {}),
    startsAt: a.startsAt,
    endsAt: a.endsAt ?? '',
    fingerprint: a.fingerprint,
    generatorURL: a.generatorURL ?? '',
    ...(p.externalURL ? { externalURL: p.externalURL } : {}),
  }));
}

export const ErrorSchema = Type.Object({ error: Type.String(), message: Type.String() });

export const WebhookAcceptedSchema = Type.Object({
  received: Type.Integer(),
  accepted: Type.Integer(),
  ignored: Type.Integer(),
  remediations: Type.Array(Type.Object({ id: Type.String(), target: Type.String() })),
});

const AlertOut = Type.Object({
  status: Type.String(),
  labels: Type.Record(Type.String(), Type.String()),
  annotations: Type.Record(Type.String(), Type.String()),
  startsAt: Type.String(),
  endsAt: Type.String(),
  fingerprint: Type.String(),
  generatorURL: Type.String(),
  externalURL: Type.Optional(Type.String()),
});

/** "<creation time in ms>.<id>": the position of the last record served */
const CURSOR_PATTERN = '^[0-9]{1,16}\\.rem_[a-z0-9]{1,40}$';

export const RemediationSchema = Type.Object({
  id: Type.String(),
  target: Type.String(),
  state: Type.String(),
  createdAt: Type.String(),
  updatedAt: Type.String(),
  alerts: Type.Array(AlertOut),
  targetsFiring: Type.Integer(),
  seenAgain: Type.Integer(),
  change: Type.Union([
    Type.Object({
      from: Type.String(),
      to: Type.Union([Type.String(), Type.Null()]),
      fromCommit: Type.String(),
      toCommit: Type.Union([Type.String(), Type.Null()]),
    }),
    Type.Null(),
  ]),
  decision: Type.Union([
    Type.Object({
      allow: Type.Boolean(),
      mode: Type.String(),
      reasons: Type.Array(Type.String()),
      labels: Type.Array(Type.String()),
    }),
    Type.Null(),
  ]),
  pullRequest: Type.Union([
    Type.Object({ number: Type.Integer(), url: Type.String(), branch: Type.String() }),
    Type.Null(),
  ]),
  reason: Type.Union([Type.String(), Type.Null()]),
  error: Type.Union([Type.String(), Type.Null()]),
  dryRun: Type.Boolean(),
  steps: Type.Record(Type.String(), Type.String()),
  timeToRecoverySeconds: Type.Union([Type.Number(), Type.Null()]),
  mergeCommit: Type.Union([Type.String(), Type.Null()]),
  notHealed: Type.Boolean(),
  alertsDropped: Type.Integer(),
  verification: Type.Optional(
    Type.Union([
      Type.Object({
        engine: Type.String(),
        mergeCommit: Type.String(),
        mergedAt: Type.String(),
        deadline: Type.String(),
        result: Type.String(),
        reason: Type.Union([Type.String(), Type.Null()]),
        seconds: Type.Union([Type.Number(), Type.Null()]),
      }),
      Type.Null(),
    ]),
  ),
});

export const ListQuerySchema = Type.Object({
  target: Type.Optional(Type.String({ pattern: '^[a-z0-9-]{1,63}$' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
  /** `failed` is the dead-letter view (paged in the order of failure) */
  state: Type.Optional(
    Type.Union(
      STATES.map((s) => Type.Literal(s)),
      {
        description:
          'only records in this state; failed: the dead letter, newest failure first. Combines with target and cursor',
      },
    ),
  ),
  cursor: Type.Optional(
    Type.String({
      pattern: CURSOR_PATTERN,
      description: 'nextCursor of the previous page: the records after it, in the same order',
    }),
  ),
});

export const ListResponseSchema = Type.Object({
  remediations: Type.Array(RemediationSchema),
  nextCursor: Type.Union([Type.String(), Type.Null()], {
    description:
      'pass as cursor for the next page; null on the last page. A page holds at most `limit` records and stops early (at least one record) when the response would grow over the size bound',
  }),
});
