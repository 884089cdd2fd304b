import { Ajv, type Options } from 'ajv';
import addFormats from 'ajv-formats';

// Fastify's defaults, but never allErrors (a large invalid body would cost one error per item)
const BASE: Options = { useDefaults: true, removeAdditional: false, addUsedSchema: false, allErrors: false };

function ajv(coerceTypes: boolean | 'array', externalSchemas: Record<string, unknown>): Ajv {
  const instance = new Ajv({ ...BASE, coerceTypes });
  addFormats.default(instance);
  for (const schema of Object.values(externalSchemas)) instance.addSchema(schema as object);
  return instance;
}

/**
 * Fastify's validator factory (schemaController.compilersFactory.buildValidator,
 * so schemas added with app.addSchema are known). Query strings and path
 * parameters arrive as text and are coerced to the schema's types
 * (`?limit=5`). Bodies are JSON: Alertmanager sends strings, so
 * `"service": ["checkout"]` or a number is refused naming the field, never
 * turned into a string that then selects a target.
 */
export function buildValidator(externalSchemas: unknown) {
  const shared = (externalSchemas ?? {}) as Record<string, unknown>;
  const body = ajv(false, shared);
  const text = ajv('array', shared);
  return ({ schema, httpPart }: { schema: unknown; httpPart?: string }) =>
    (httpPart === 'body' ? body : text).compile(schema as object);
}
