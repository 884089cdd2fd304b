import type { LoadedPolicy } from '@open-policy-agent/opa-wasm';
import { wasmParseRfc3339Ns } from './rfc3339.ts';

/**
 * Builtins OPA does not compile into Wasm are imported from the host: a
 * policy calling one nobody provides loads fine and then throws on every
 * evaluation. The engine checks the imports at load time instead, so such a
 * policy is refused (and a reload keeps the previous one).
 */

/** What rewind supplies on top of opa-wasm. */
export const rewindBuiltins: Record<string, (...args: unknown[]) => unknown> = {
  'time.parse_rfc3339_ns': wasmParseRfc3339Ns,
};

// The JS builtins @open-policy-agent/opa-wasm 1.10 ships (src/builtins/*.js);
// it exports no list, so it is written down here.
const OPA_WASM_BUILTINS = [
  'json.is_valid',
  'regex.split',
  'sprintf',
  'yaml.is_valid',
  'yaml.marshal',
  'yaml.unmarshal',
];

export const hostBuiltins: ReadonlySet<string> = new Set([
  ...OPA_WASM_BUILTINS,
  ...Object.keys(rewindBuiltins),
]);

interface AbiExports {
  builtins(): number;
  opa_json_dump(addr: number): number;
}

/** Names of the builtins a loaded policy imports, read through the OPA Wasm ABI (`builtins` export). */
export function importedBuiltins(policy: LoadedPolicy): string[] {
  // opa-wasm keeps the WebAssembly.Instance here (its type also admits the instantiate() result)
  const { exports } = policy.wasmInstance as unknown as { exports: AbiExports };
  const addr = exports.opa_json_dump(exports.builtins());
  const bytes = new Uint8Array(policy.mem.buffer);
  let end = addr;
  while (bytes[end] !== 0 && end < bytes.length) end++;
  const map = JSON.parse(new TextDecoder().decode(bytes.subarray(addr, end))) as Record<string, number>;
  return Object.keys(map).sort();
}
