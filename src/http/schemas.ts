import Type, { type Static } from 'typebox';
import type { Alert } from '../core/types.ts';

const StringMap = Type.Record(Type.String({ maxLength: 256 }), Type.String({ maxLength: 8192 }));

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

export const WebhookSchema = Type.Object({
  version: Type.Optional(Type.String({ maxLength: 8 })),
  status: Type.Optional(Type.Union([Type.Literal('firing'), Type.Literal('resolved')])),
  receiver: Type.Optional(Type.String({ maxLength: 1024 })),
  alerts: Type.Array(AlertSchema, { maxItems: 10000 }),
  /** Alertmanager's own URL: Slack links to it and to a prefilled silence */
  externalURL: Type.Optional(Type.String({ maxLength: 2048 })),
  /** alerts Alertmanager left out (receiver `max_alerts`): rewind never sees them */
  truncatedAlerts: Type.Optional(Type.Integer({ minimum: 0 })),
});
export type WebhookPayload = Static<typeof WebhookSchema>;

/** A validated payload's alerts as domain values (absent optional fields made explicit). */
export function payloadAlerts(p: WebhookPayload): Alert[] {
  return p.alerts.map((a) => ({
    status: a.status,
    labels: a.labels,
    annotations: a.annotations ?? {},
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

export const STATES = [
  'queued',
  'deciding',
  'noop',
  'denied',
  'planned',
  'pr_opened',
  'auto_merge',
  'merged',
  'closed',
  'failed',
  'verified',
  'unverified',
] as const;

export const ListQuerySchema = Type.Object({
  target: Type.Optional(Type.String({ pattern: '^[a-z0-9-]{1,63}$' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
  /** `failed` is the dead-letter view */
  state: Type.Optional(Type.Union(STATES.map((s) => Type.Literal(s)))),
});
