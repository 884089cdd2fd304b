/** Shared by the policy tests and bench/policy.ts: the cases file, a quiet logger, fresh metrics, the opa CLI. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Counter, Histogram, Registry } from 'prom-client';
import type { PolicyMetrics } from '../../src/policy/engine.ts';
import type { LogSink } from '../../src/observability/logger.ts';
import type { PolicyInput } from '../../src/policy/types.ts';

export const WASM_PATH = 'policies/build/policy.wasm';
export const DATA_PATH = 'policies/data.json';
export const REGO_PATH = 'policies/rollback.rego';

export interface PolicyCase {
  id: string;
  description: string;
  /** deep-merged over the base input (objects merge, anything else replaces, like Rego's object.union) */
  input?: Record<string, unknown>;
  /** merged over data.rewind */
  data?: Record<string, unknown>;
  expect: {
    allow?: boolean;
    mode?: 'merge' | 'pull_request';
    /** each must be among the decision's reasons */
    reasons?: string[];
    /** the reasons are exactly `reasons` */
    onlyReasons?: boolean;
    labels?: string[];
  };
}

export function loadCases(): { baseInput: PolicyInput; all: PolicyCase[] } {
  return (
    JSON.parse(readFileSync('policies/cases.json', 'utf8')) as {
      cases: { baseInput: PolicyInput; all: PolicyCase[] };
    }
  ).cases;
}

export function shippedData(): { rewind: Record<string, unknown> } {
  return JSON.parse(readFileSync(DATA_PATH, 'utf8')) as { rewind: Record<string, unknown> };
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Rego's object.union: objects merge recursively, any other value of `b` wins. */
export function deepMerge<T>(a: T, b: unknown): T {
  if (!isPlainObject(a) || !isPlainObject(b)) return (b === undefined ? a : b) as T;
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = k in out ? deepMerge(out[k], v) : v;
  return out as T;
}

export interface LogEntry {
  level: 'debug' | 'info' | 'warn' | 'error';
  obj: object;
  msg: string;
}

/** A logger that keeps what it was told, for assertions. */
export function memoryLogger(): LogSink & { entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  return {
    entries,
    debug: (obj, msg) => void entries.push({ level: 'debug', obj, msg }),
    info: (obj, msg) => void entries.push({ level: 'info', obj, msg }),
    warn: (obj, msg) => void entries.push({ level: 'warn', obj, msg }),
    error: (obj, msg) => void entries.push({ level: 'error', obj, msg }),
  };
}

/** The two policy metrics on a fresh registry, as the metrics module defines them. */
export function policyMetrics(): PolicyMetrics & { registry: Registry } {
  const registry = new Registry();
  return {
    registry,
    policyReloads: new Counter({
      name: 'rewind_policy_reloads_total',
      help: 'Policy (re)loads by result',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    policyEvaluationSeconds: new Histogram({
      name: 'rewind_policy_evaluation_seconds',
      help: 'Time to evaluate the rollback policy',
      registers: [registry],
    }),
  };
}

/** The opa CLI from $OPA_BIN, PATH or ~/go/bin, or null. */
export function findOpa(): string | null {
  const candidates = [process.env['OPA_BIN'], 'opa', join(homedir(), 'go/bin/opa'), '/root/go/bin/opa'];
  for (const c of candidates) {
    if (c === undefined || c === '') continue;
    try {
      execFileSync(c, ['version'], { stdio: 'ignore' });
      return c;
    } catch {
      // try the next place
    }
  }
  return null;
}
