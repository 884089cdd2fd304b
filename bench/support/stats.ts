/** Helpers the benchmarks share: numeric flags, medians and percentiles. */
export function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

export function median(xs: number[]): number {
  return quantile(xs, 0.5);
}

/** Nearest-rank quantile of an unsorted sample (0 for an empty one). */
export function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}
