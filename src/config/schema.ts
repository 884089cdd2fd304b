import Type, { type Static } from 'typebox';

const NonEmpty = Type.String({ minLength: 1 });

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
  },
  { additionalProperties: false },
);

export const ConfigFileSchema = Type.Object(
  {
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
          url: Type.Optional(Type.String({ pattern: '^rediss?://' })),
          prefix: Type.Optional(Type.String({ pattern: '^[a-zA-Z0-9:_-]+$' })),
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
    targets: Type.Array(TargetSchema, { minItems: 1 }),
  },
  { additionalProperties: false },
);

export type ConfigFile = Static<typeof ConfigFileSchema>;
