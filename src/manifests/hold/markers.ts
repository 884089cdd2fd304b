/**
 * Holding a Flux setter marker: image-automation-controller reads a field's
 * line comment `{"$imagepolicy": "ns:name:tag"}` as JSON and rewrites the value
 * to the newest tag the policy picks. A held marker reads
 * `rewind-hold {"imagepolicy-held": "ns:name:tag"}`: not JSON and no
 * `"$imagepolicy"` key, so Flux leaves the line alone. Only two fixed pieces of
 * text change, so release restores the marker byte for byte.
 */
const ACTIVE = /(#[ \t]*)\{([ \t]*)"\$imagepolicy"/;
const HELD = /(#[ \t]*)rewind-hold \{([ \t]*)"imagepolicy-held"/;

function lines(content: string): string[] {
  return content.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

/** Disables the markers on every line the rollback changed (`before` → `after` differ only within lines). */
export function holdMarkers(before: string, after: string): { content: string; held: number } {
  const old = lines(before);
  const cur = lines(after);
  if (old.length !== cur.length) return { content: after, held: 0 };
  let held = 0;
  const out = cur.map((line, i) => {
    if (line === old[i] || !ACTIVE.test(line)) return line;
    held += 1;
    return line.replace(
      ACTIVE,
      (_m, hash: string, ws: string) => `${hash}rewind-hold {${ws}"imagepolicy-held"`,
    );
  });
  return { content: out.join(''), held };
}

/** Restores every held marker. */
export function releaseMarkers(content: string): { content: string; released: number } {
  let released = 0;
  const out = lines(content).map((line) => {
    if (!HELD.test(line)) return line;
    released += 1;
    return line.replace(HELD, (_m, hash: string, ws: string) => `${hash}{${ws}"$imagepolicy"`);
  });
  return { content: out.join(''), released };
}

export function countHeldMarkers(content: string): number {
  return lines(content).filter((l) => HELD.test(l)).length;
}
