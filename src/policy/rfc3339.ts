/**
 * time.parse_rfc3339_ns for the Wasm engine. OPA compiles this builtin as an
 * import the host must provide, and @open-policy-agent/opa-wasm ships none, so
 * rewind supplies one that behaves like OPA's (Go's time.Parse with
 * time.RFC3339): the differential test holds it to `opa eval`.
 *
 * Nanoseconds since 1970 need 61 bits, more than a JS number holds exactly; a
 * rounded value would put two instants a few hundred ns apart in the wrong
 * order. So the value is computed as a bigint and handed to Wasm as raw JSON
 * text (opa-wasm passes an ArrayBuffer result through unparsed).
 */

// Go accepts 1-digit hours, "," as the fraction separator, any number of
// fraction digits (only 9 count), and offsets up to 24:60.
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{1,2}):(\d{2}):(\d{2})(?:[.,](\d+))?(Z|[+-]\d{2}:\d{2})$/;

// time.Time.UnixNano is only defined in this range; OPA rejects instants outside it.
const MIN_NS = -(2n ** 63n);
const MAX_NS = 2n ** 63n - 1n;

function daysIn(month: number, year: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** Days from 1970-01-01 to the given civil date (proleptic Gregorian). */
function daysFromCivil(y: number, m: number, d: number): bigint {
  // Howard Hinnant's days_from_civil: exact for every year, no Date involved.
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return BigInt(era * 146097 + doe - 719468);
}

/** Nanoseconds since the Unix epoch, or null when Go's RFC 3339 parser (or OPA's range check) would reject `s`. */
export function parseRfc3339Ns(s: unknown): bigint | null {
  if (typeof s !== 'string') return null;
  const m = RFC3339.exec(s);
  if (m === null) return null;
  const [, ys, mos, ds, hs, mis, ss, frac, zone] = m;
  const year = Number(ys);
  const month = Number(mos);
  const day = Number(ds);
  const hour = Number(hs);
  const minute = Number(mis);
  const second = Number(ss);
  if (month < 1 || month > 12 || day < 1 || day > daysIn(month, year)) return null;
  if (hour > 23 || minute > 59 || second > 59) return null;
  let offsetSeconds = 0;
  if (zone !== undefined && zone !== 'Z') {
    const oh = Number(zone.slice(1, 3));
    const om = Number(zone.slice(4, 6));
    if (oh > 24 || om > 60) return null;
    offsetSeconds = (zone.startsWith('-') ? -1 : 1) * (oh * 3600 + om * 60);
  }
  const nanos = BigInt(((frac ?? '') + '000000000').slice(0, 9));
  const seconds =
    daysFromCivil(year, month, day) * 86400n + BigInt(hour * 3600 + minute * 60 + second - offsetSeconds);
  const ns = seconds * 1_000_000_000n + nanos;
  return ns < MIN_NS || ns > MAX_NS ? null : ns;
}

/**
 * The builtin as opa-wasm calls it: JSON-decoded argument in, raw JSON number
 * text out; undefined (an error in OPA, so the expression is undefined) when
 * the string is not a valid timestamp.
 */
export function wasmParseRfc3339Ns(s: unknown): ArrayBuffer | undefined {
  const ns = parseRfc3339Ns(s);
  if (ns === null) return undefined;
  const bytes = new TextEncoder().encode(ns.toString());
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}
