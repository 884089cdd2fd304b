/** A small unified-diff writer (LCS over lines) for the demo's printout and GET /pulls/{n}/files. */

type Op = { kind: ' ' | '-' | '+'; line: string };

function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

function lineOps(a: readonly string[], b: readonly string[]): Op[] {
  // lcs[i][j] = length of the LCS of a[i..] and b[j..]; manifests are small, so O(n·m) is fine.
  const lcs = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      const row = lcs[i] as number[];
      row[j] =
        a[i] === b[j] ? (lcs[i + 1]?.[j + 1] ?? 0) + 1 : Math.max(lcs[i + 1]?.[j] ?? 0, row[j + 1] ?? 0);
    }
  }
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      ops.push({ kind: ' ', line: a[i] as string });
      i++;
      j++;
    } else if (i < a.length && (j >= b.length || (lcs[i + 1]?.[j] ?? 0) >= (lcs[i]?.[j + 1] ?? 0))) {
      // deletions before additions, as git prints them
      ops.push({ kind: '-', line: a[i] as string });
      i++;
    } else {
      ops.push({ kind: '+', line: b[j] as string });
      j++;
    }
  }
  return ops;
}

/** Hunks only (the `patch` field of GET /pulls/{n}/files), with `context` lines around each change. */
export function unifiedPatch(
  before: string,
  after: string,
  context = 3,
): { patch: string; additions: number; deletions: number } {
  const ops = lineOps(splitLines(before), splitLines(after));
  const changed = ops.map((o, k) => (o.kind === ' ' ? -1 : k)).filter((k) => k >= 0);
  const out: string[] = [];
  let k = 0;
  while (k < changed.length) {
    const start = Math.max((changed[k] as number) - context, 0);
    let end = Math.min((changed[k] as number) + context, ops.length - 1);
    while (k + 1 < changed.length && (changed[k + 1] as number) - context <= end + 1) {
      k++;
      end = Math.min((changed[k] as number) + context, ops.length - 1);
    }
    k++;
    const before0 = ops.slice(0, start).filter((o) => o.kind !== '+').length;
    const after0 = ops.slice(0, start).filter((o) => o.kind !== '-').length;
    const hunk = ops.slice(start, end + 1);
    const aLen = hunk.filter((o) => o.kind !== '+').length;
    const bLen = hunk.filter((o) => o.kind !== '-').length;
    out.push(
      `@@ -${aLen === 0 ? before0 : before0 + 1},${aLen} +${bLen === 0 ? after0 : after0 + 1},${bLen} @@`,
    );
    for (const o of hunk) out.push(`${o.kind}${o.line}`);
  }
  return {
    patch: out.join('\n'),
    additions: ops.filter((o) => o.kind === '+').length,
    deletions: ops.filter((o) => o.kind === '-').length,
  };
}

/** A `git diff`-style text for one file. */
export function fileDiff(path: string, before: string | undefined, after: string | undefined): string {
  const { patch } = unifiedPatch(before ?? '', after ?? '');
  const a = before === undefined ? '/dev/null' : `a/${path}`;
  const b = after === undefined ? '/dev/null' : `b/${path}`;
  return `diff --git a/${path} b/${path}\n--- ${a}\n+++ ${b}\n${patch}\n`;
}
