import { createHash } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { loadPolicy, type LoadedPolicy } from '@open-policy-agent/opa-wasm';
import type { Counter, Histogram } from 'prom-client';
import { RewindError, errorMessage } from '../core/errors.ts';
import { systemClock, type Clock } from '../core/ports.ts';
import { decisionFromResultSet, invalidDecision } from './decision.ts';
import { hostBuiltins, importedBuiltins, rewindBuiltins } from './wasm-builtins.ts';
import type { Decision, PolicyEngine, PolicyInput } from './types.ts';
import type { LogSink } from '../observability/logger.ts';

/** The rule the service evaluates: package rewind.rollback, rule decision. */
export const POLICY_ENTRYPOINT = 'rewind/rollback/decision';
export const EVALUATION_FAILED_REASON = 'policy evaluation failed';

/** Supplied by the metrics module (rewind_policy_reloads_total, rewind_policy_evaluation_seconds). */
export interface PolicyMetrics {
  policyReloads: Counter<'result'>;
  policyEvaluationSeconds: Histogram<string>;
}

export interface PolicyEngineOptions {
  wasmPath: string;
  dataPath: string;
  logger: LogSink;
  metrics?: PolicyMetrics;
  /** reload when either file changes (default false) */
  watch?: boolean;
  /** quiet period after the last file event before reloading; editors and builds write in bursts */
  debounceMs?: number;
  clock?: Clock;
}

export interface ReloadablePolicyEngine extends PolicyEngine {
  /** Load both files again; on failure the current policy stays. Resolves true when the new one is in use. */
  reload(): Promise<boolean>;
  /** what is loaded: when, and content hashes to tell builds apart in logs and status pages */
  loaded(): { at: Date; wasmSha256: string; dataSha256: string };
  /** the policy data in force (a file that failed to reload leaves the previous data in force) */
  data(): unknown;
}

interface Loaded {
  policy: LoadedPolicy;
  data: unknown;
  at: Date;
  wasmSha256: string;
  dataSha256: string;
}

const sha256 = (b: Uint8Array | string): string => createHash('sha256').update(b).digest('hex');

async function loadFiles(wasmPath: string, dataPath: string, clock: Clock): Promise<Loaded> {
  const [wasm, dataText] = await Promise.all([readFile(wasmPath), readFile(dataPath, 'utf8')]);
  let data: unknown;
  try {
    data = JSON.parse(dataText);
  } catch (err) {
    throw new Error(`${dataPath}: not valid JSON: ${errorMessage(err)}`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new Error(`${dataPath}: the policy data must be a JSON object`);
  }
  const policy = await loadPolicy(wasm, undefined, rewindBuiltins);
  const missing = importedBuiltins(policy).filter((name) => !hostBuiltins.has(name));
  if (missing.length > 0) {
    throw new Error(
      `${wasmPath}: the policy calls builtins not available in Wasm here: ${missing.join(', ')}`,
    );
  }
  if (!(POLICY_ENTRYPOINT in (policy.entrypoints as Record<string, number>))) {
    throw new Error(`${wasmPath}: no entrypoint ${POLICY_ENTRYPOINT} (build with -e ${POLICY_ENTRYPOINT})`);
  }
  // Data is set once per loaded instance, before it becomes visible to
  // evaluate(): an evaluation never sees a half-swapped policy/data pair.
  policy.setData(data);
  return { policy, data, at: clock.now(), wasmSha256: sha256(wasm), dataSha256: sha256(dataText) };
}

/**
 * The in-process OPA engine. Loads policy.wasm and the data file at start
 * (throws policy_unavailable when it cannot), validates every decision and,
 * with `watch`, swaps in a new policy when either file changes.
 *
 * One opa-wasm instance serves every evaluation. That is safe because
 * LoadedPolicy.evaluate is synchronous: it resets the instance's heap, writes
 * the input, runs and reads the result with no await in between, so two
 * evaluations can never interleave on one instance. Keep it that way: any
 * await between setData/input and reading the result would need an instance
 * per evaluation (or a lock).
 */
export async function createPolicyEngine(opts: PolicyEngineOptions): Promise<ReloadablePolicyEngine> {
  const { logger, metrics } = opts;
  const clock = opts.clock ?? systemClock;
  const wasmPath = resolve(opts.wasmPath);
  const dataPath = resolve(opts.dataPath);
  const files = { wasm: wasmPath, data: dataPath };

  let current: Loaded;
  try {
    current = await loadFiles(wasmPath, dataPath, clock);
  } catch (err) {
    metrics?.policyReloads.inc({ result: 'failure' });
    logger.error({ err, ...files }, 'policy could not be loaded');
    throw new RewindError('policy_unavailable', `policy could not be loaded: ${errorMessage(err)}`, {
      cause: err,
    });
  }
  metrics?.policyReloads.inc({ result: 'success' });
  logger.info({ ...files, wasmSha256: current.wasmSha256, dataSha256: current.dataSha256 }, 'policy loaded');

  // Reloads run one after another so a slow load can never replace a newer one.
  let chain: Promise<boolean> = Promise.resolve(true);
  const reload = (): Promise<boolean> => {
    chain = chain.then(async () => {
      try {
        const next = await loadFiles(wasmPath, dataPath, clock);
        current = next;
        metrics?.policyReloads.inc({ result: 'success' });
        logger.info(
          { ...files, wasmSha256: next.wasmSha256, dataSha256: next.dataSha256 },
          'policy reloaded',
        );
        return true;
      } catch (err) {
        metrics?.policyReloads.inc({ result: 'failure' });
        logger.error(
          { err, ...files, keptWasmSha256: current.wasmSha256 },
          'policy reload failed; keeping the policy loaded before',
        );
        return false;
      }
    });
    return chain;
  };

  const watchers: FSWatcher[] = [];
  let timer: NodeJS.Timeout | undefined;
  if (opts.watch === true) {
    const debounceMs = opts.debounceMs ?? 250;
    // the content last loaded or tried: a reload happens when the bytes change, whatever the event
    let seen = `${current.wasmSha256}:${current.dataSha256}`;
    const reloadIfChanged = async (): Promise<void> => {
      let now: string;
      try {
        const [wasm, data] = await Promise.all([readFile(wasmPath), readFile(dataPath, 'utf8')]);
        now = `${sha256(wasm)}:${sha256(data)}`;
      } catch {
        now = 'unreadable'; // mid-swap or removed: reload() reports it, the current policy stays
      }
      if (now === seen) return;
      seen = now;
      await reload();
    };
    const schedule = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => void reloadIfChanged(), debounceMs);
      timer.unref();
    };
    // Watch the directories and compare content, not file names: builds and editors replace a
    // file by rename (a watch on the old inode hears nothing), and a Kubernetes ConfigMap volume
    // changes by swapping its `..data` symlink, an event that never names policy.wasm or data.json.
    // persistent: false so watching never keeps the process alive.
    for (const dir of new Set([dirname(wasmPath), dirname(dataPath)])) {
      const w = watch(dir, { persistent: false }, () => {
        schedule();
      });
      w.on('error', (err) => logger.warn({ err, dir }, 'policy file watch failed; reload on change is off'));
      watchers.push(w);
    }
  }

  return {
    async evaluate(input: PolicyInput): Promise<Decision> {
      const { policy, wasmSha256 } = current;
      const end = metrics?.policyEvaluationSeconds.startTimer();
      try {
        const decision = decisionFromResultSet(policy.evaluate(input, POLICY_ENTRYPOINT));
        if (decision === null) {
          logger.error({ wasmSha256 }, 'policy returned an invalid decision; denying');
          return invalidDecision();
        }
        return decision;
      } catch (err) {
        logger.error({ err, wasmSha256 }, 'policy evaluation failed; denying');
        return { allow: false, mode: 'pull_request', reasons: [EVALUATION_FAILED_REASON], labels: [] };
      } finally {
        end?.();
      }
    },
    // Loading at start either succeeds or throws, so a returned engine is ready.
    isReady: () => true,
    reload,
    loaded: () => ({ at: current.at, wasmSha256: current.wasmSha256, dataSha256: current.dataSha256 }),
    data: () => current.data,
    /** Stops watching; evaluations keep working so in-flight jobs can finish during shutdown. */
    async close(): Promise<void> {
      clearTimeout(timer);
      for (const w of watchers) w.close();
      await chain;
    },
  };
}
