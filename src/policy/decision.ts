import Type, { type Static } from 'typebox';
import Value from 'typebox/value';
import type { Decision } from './types.ts';

/**
 * The decision as the service accepts it from any policy, shipped or written
 * by a user. Extra fields are tolerated (a policy may explain itself more);
 * anything missing or mistyped is not.
 */
export const DecisionSchema = Type.Object({
  allow: Type.Boolean(),
  mode: Type.Union([Type.Literal('merge'), Type.Literal('pull_request')]),
  reasons: Type.Array(Type.String()),
  labels: Type.Array(Type.String()),
});

// Compile-time proof the schema and the published Decision type agree both ways.
type SchemaDecision = Static<typeof DecisionSchema>;
const schemaMatchesType: [SchemaDecision] extends [Decision]
  ? [Decision] extends [SchemaDecision]
    ? true
    : false
  : false = true;
void schemaMatchesType;

export const INVALID_OUTPUT_REASON = 'invalid policy output';

/** A deny: a policy that cannot be understood must never allow a write to Git. */
export function invalidDecision(): Decision {
  return { allow: false, mode: 'pull_request', reasons: [INVALID_OUTPUT_REASON], labels: [] };
}

/**
 * The decision from opa-wasm's result set (`[{ result }]`, or `[]` when the
 * rule is undefined), or null when it does not have the expected shape.
 */
export function decisionFromResultSet(resultSet: unknown): Decision | null {
  if (!Array.isArray(resultSet) || resultSet.length !== 1) return null;
  const first: unknown = resultSet[0];
  if (typeof first !== 'object' || first === null || !('result' in first)) return null;
  const result = first.result;
  if (!Value.Check(DecisionSchema, result)) return null;
  // Copy only the known fields: the rest of the output never leaves the engine.
  return { allow: result.allow, mode: result.mode, reasons: [...result.reasons], labels: [...result.labels] };
}
