import Type, { type Static } from 'typebox';

const NonEmpty = Type.String({ minLength: 1 });

/** Kubernetes object names (DNS-1123 subdomain). */
const K8S_NAME = '^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$';

/** SPEC "After the merge": what the GitOps engine is asked and told after a rollback merges. */
const AfterMergeFields = {
  argocd: Type.Optional(
    Type.Object(
      {
        app: Type.String({ pattern: K8S_NAME }),
        appNamespace: Type.Optional(Type.String({ pattern: K8S_NAME })),
      },
      { additionalProperties: false },
    ),
  ),
  flux: Type.Optional(
    Type.Object(
      {
        receiver: Type.String({ pattern: '^https?://' }),
        /** "namespace/name" of the Kustomization whose events verify the rollback */
        kustomization: Type.String({
          pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$',
        }),
      },
      { additionalProperties: false },
    ),
  ),
  verify: Type.Optional(
    Type.Object(
      { timeout: Type.Optional(Type.String({ pattern: '^[0-9]+(ms|s|m|h)$' })) },
      { additionalProperties: false },
    ),
  ),
  hold: Type.Optional(
    Type.Object(
      { imageUpdater: Type.Optional(Type.String({ pattern: '^[^/].*\\.ya?ml$' })) },
      { additionalProperties: false },
    ),
  ),
};

export const TargetSchema = Type.Object(
  {
    name: Type.String({ pattern: '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$' }),
    match: Type.Record(Type.String({ pattern: '^[a-zA-Z_][a-zA-Z0-9_]*$' }), NonEmpty, { minProperties: 1 }),
    repo: Type.String({ pattern: '^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$' }),
    branch: Type.String({ pattern: '^[A-Za-z0-9._/-]+$' }),
    path: Type.String({ pattern: '^[^/].*\\.ya?ml$' }),
    image: Type.String({ pattern: '^[a-z0-9]([a-z0-9._:/-]*[a-z0-9])?$' }),
    environment: Type.String({ pattern: '^[a-z0-9-]+$' }),
    reviewers: Type.Optional(Type.Array(Type.String({ pattern: '^[A-Za-z0-9-]+(/[A-Za-z0-9_.-]+)?$' }))),
    tagKey: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*$' })),
    ...AfterMergeFields,
  },
  { additionalProperties: false },
);

export const ConfigFileSchema = Type.Object(
  {
    argocd: Type.Optional(
      Type.Object(
        { url: Type.Optional(Type.String({ pattern: '^https?://' })) },
        { additionalProperties: false },
      ),
    ),
    github: Type.Optional(
      Type.Object(
        {
          apiUrl: Type.Optional(Type.String({ pattern: '^https?://' })),
          author: Type.Optional(
            Type.Object(
              { name: NonEmpty, email: Type.String({ pattern: '^[^@\\s]+@[^@\\s]+$' }) },
              { additionalProperties: false },
            ),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    redis: Type.Optional(
      Type.Object(
        {
          url: Type.Optional(Type.String({ pattern: '^rediss?(\\+(cluster|sentinel))?://' })),
          prefix: Type.Optional(Type.String({ pattern: '^[a-zA-Z0-9:_{}-]+$' })),
        },
        { additionalProperties: false },
      ),
    ),
    policy: Type.Optional(
      Type.Object(
        { wasm: Type.Optional(NonEmpty), data: Type.Optional(NonEmpty) },
        { additionalProperties: false },
      ),
    ),
    server: Type.Optional(
      Type.Object(
        {
          bodyLimit: Type.Optional(Type.Integer({ minimum: 1024 })),
          // milliseconds; 0 (unbounded) is refused: a client that never finishes must not hold a socket
          connectionTimeout: Type.Optional(Type.Integer({ minimum: 100, maximum: 3_600_000 })),
          requestTimeout: Type.Optional(Type.Integer({ minimum: 100, maximum: 3_600_000 })),
          keepAliveTimeout: Type.Optional(Type.Integer({ minimum: 100, maximum: 3_600_000 })),
        },
        { additionalProperties: false },
      ),
    ),
    worker: Type.Optional(
      Type.Object(
        { concurrency: Type.Optional(Type.Integer({ minimum: 1, maximum: 64 })) },
        { additionalProperties: false },
      ),
    ),
    slack: Type.Optional(
      Type.Object(
        {
          /** where the bot posts (SLACK_BOT_TOKEN): a channel name (#rewind) or id */
          channel: Type.Optional(Type.String({ pattern: '^#?[A-Za-z0-9._-]{1,80}$' })),
          /** Slack Web API base (default https://slack.com/api/) */
          apiUrl: Type.Optional(Type.String({ pattern: '^https?://' })),
        },
        { additionalProperties: false },
      ),
    ),
    targets: Type.Array(TargetSchema, { minItems: 1 }),
  },
  { additionalProperties: false },
);

export type ConfigFile = Static<typeof ConfigFileSchema>;
