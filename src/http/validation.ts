import { Ajv, type Options } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';

// Fastify's defaults, but never allErrors (a large invalid body would cost one error per item)
const BASE: Options = { useDefaults: true, removeAdditional: false, addUsedSchema: false, allErrors: false };

/**
 * Query strings and path parameters arrive as text and are coerced to the
 * schema's types (`?limit=5`). Bodies are JSON: Alertmanager sends strings,
 * so `"service": ["checkout"]` or a number is refused naming the field, never
 * turned into a string that then selects a target.
 */
export function validatorCompiler(): FastifySchemaCompiler<unknown> {
  const body = new Ajv({ ...BASE, coerceTypes: false });
  const text = new Ajv({ ...BASE, coerceTypes: 'array' });
  addFormats.default(body);
  addFormats.default(text);
  return ({ schema, httpPart }) =>
    (httpPart === 'body' ? body : text).compile(schema as object) as ReturnType<
      FastifySchemaCompiler<unknown>
    >;
}
