import type { Target } from './types.ts';

export type LabelMatcher = (labels: Readonly<Record<string, string>>) => boolean;

/**
 * Compile a target's selector: every label must equal, or for "~regex" match
 * the whole value. Regexes come from the config (trusted); the label values
 * they run against come from alerts (untrusted), so they are matched as data.
 */
export function compileMatcher(match: Readonly<Record<string, string>>): LabelMatcher {
  const tests = Object.entries(match).map(([name, want]) => {
    if (want.startsWith('~')) {
      const re = new RegExp(`^(?:${want.slice(1)})$`);
      return (labels: Readonly<Record<string, string>>) => {
        const v = labels[name];
        return v !== undefined && re.test(v);
      };
    }
    return (labels: Readonly<Record<string, string>>) => labels[name] === want;
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
