import { RE2JS } from 're2js';
import type { Target } from './types.ts';

export type LabelMatcher = (labels: Readonly<Record<string, string>>) => boolean;

/**
 * A "~regex" matcher never runs on a label value longer than this: such a
 * value does not match. RE2 is linear in the input, this bounds the constant.
 */
export const MAX_REGEX_INPUT = 4096;

/**
 * Compile a "~regex" value of a selector with RE2 (linear time, no
 * backtracking): the pattern comes from the config, but the labels it runs
 * against come from alerts, and a backtracking engine lets a pattern such as
 * `(a+)+b` freeze the process on a 30-character label. RE2 refuses what it
 * cannot run in linear time (backreferences, lookaround): that is a config
 * error. Throws RE2's syntax error.
 */
export function compileRegex(pattern: string): (value: string) => boolean {
  const re = RE2JS.compile(`^(?:${pattern})$`);
  return (value) => value.length <= MAX_REGEX_INPUT && re.matches(value);
}

/**
 * Compile a target's selector: every label must equal, or for "~regex" match
 * the whole value. Only the alert's own labels count: a selector on
 * `constructor` or `toString` never reads Object.prototype.
 */
export function compileMatcher(match: Readonly<Record<string, string>>): LabelMatcher {
  const tests = Object.entries(match).map(([name, want]) => {
    const test = want.startsWith('~') ? compileRegex(want.slice(1)) : (v: string) => v === want;
    return (labels: Readonly<Record<string, string>>) => {
      if (!Object.hasOwn(labels, name)) return false;
      const v = labels[name];
      return typeof v === 'string' && test(v);
    };
  });
  return (labels) => tests.every((t) => t(labels));
}

export interface TargetIndex {
  /** Every target whose selector matches, in config order. */
  match(labels: Readonly<Record<string, string>>): Target[];
  byName(name: string): Target | undefined;
  all(): readonly Target[];
}

export function buildTargetIndex(targets: readonly Target[]): TargetIndex {
  const compiled = targets.map((t) => ({ target: t, test: compileMatcher(t.match) }));
  const names = new Map(targets.map((t) => [t.name, t]));
  return {
    match: (labels) => compiled.filter((c) => c.test(labels)).map((c) => c.target),
    byName: (name) => names.get(name),
    all: () => targets,
  };
}
