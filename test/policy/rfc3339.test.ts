import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseRfc3339Ns, wasmParseRfc3339Ns } from '../../src/policy/rfc3339.ts';

// Expected values from `opa eval 'time.parse_rfc3339_ns(s)'` with opa v1.22.3
// (null: opa reports an error, the expression is undefined).
const GO: [string, string | null][] = [
  ['2026-11-26T10:00:00Z', '1795687200000000000'],
  ['2026-11-26T1:00:00Z', '1795654800000000000'],
  ['2026-11-26T10:00:00,5Z', '1795687200500000000'],
  ['2026-11-26T10:00:00.1234567891234Z', '1795687200123456789'],
  ['2026-11-26T10:00:00.999999999999Z', '1795687200999999999'],
  ['2026-11-26T10:00:00.000000001+05:30', '1795667400000000001'],
  ['2026-11-26T10:00:00.5+01:00', '1795683600500000000'],
  ['2026-11-26T10:00:00-00:00', '1795687200000000000'],
  ['2026-11-26T10:00:00+24:00', '1795600800000000000'],
  ['2026-11-26T10:00:00+24:60', '1795597200000000000'],
  ['2026-11-26T10:00:00+00:60', '1795683600000000000'],
  ['2024-02-29T00:00:00Z', '1709164800000000000'],
  ['1970-01-01T00:00:00Z', '0'],
  ['1969-12-31T23:59:59.999999999Z', '-1'],
  ['1677-09-21T00:12:43.145224192Z', '-9223372036854775808'],
  ['2262-04-11T23:47:16.854775807Z', '9223372036854775807'],
  ['1677-09-21T00:12:43.145224191Z', null],
  ['2262-04-11T23:47:16.854775808Z', null],
  ['0001-01-01T00:00:00Z', null],
  ['9999-12-31T23:59:59Z', null],
  ['2026-02-29T00:00:00Z', null],
  ['2026-11-26T24:00:00Z', null],
  ['2026-11-26T10:60:00Z', null],
  ['2026-11-26T10:00:60Z', null],
  ['2026-11-26T10:00:00+25:00', null],
  ['2026-11-26T00:00:00+1:00', null],
  ['2026-11-26T10:00:00+0100', null],
  ['2026-11-26t10:00:00Z', null],
  ['2026-11-26T10:00:00z', null],
  ['2026-11-26 10:00:00Z', null],
  ['2026-11-26T10:00:00', null],
  ['2026-11-26T10:00Z', null],
  ['2026-1-26T10:00:00Z', null],
  ['2026-11-26T10:00:00.Z', null],
  ['2026-11-26T10:00:00.-1Z', null],
  [' 2026-11-26T10:00:00Z', null],
  ['2026-11-26T10:00:00Z ', null],
  ['+2026-11-26T10:00:00Z', null],
];

describe('parseRfc3339Ns (time.parse_rfc3339_ns for Wasm)', () => {
  for (const [s, want] of GO) {
    it(`${JSON.stringify(s)} → ${want ?? 'error'}`, () => {
      assert.equal(parseRfc3339Ns(s)?.toString() ?? null, want);
    });
  }

  it('rejects non-strings', () => {
    for (const v of [null, 1, {}, []]) assert.equal(parseRfc3339Ns(v), null);
  });

  it('agrees with Date.parse at millisecond precision for any instant and offset', () => {
    fc.assert(
      fc.property(
        fc.date({
          min: new Date('1678-01-01T00:00:00Z'),
          max: new Date('2262-01-01T00:00:00Z'),
          noInvalidDate: true,
        }),
        fc.integer({ min: -14 * 60, max: 14 * 60 }),
        (d, offsetMin) => {
          const local = new Date(d.getTime() + offsetMin * 60_000).toISOString().slice(0, 23);
          const sign = offsetMin < 0 ? '-' : '+';
          const abs = Math.abs(offsetMin);
          const zone = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
          assert.equal(parseRfc3339Ns(local + zone), BigInt(d.getTime()) * 1_000_000n);
        },
      ),
      { seed: 20261126, numRuns: 500 },
    );
  });

  it('hands Wasm the exact integer as JSON text, undefined on error', () => {
    const buf = wasmParseRfc3339Ns('2026-11-26T10:00:00.000000001Z');
    assert.ok(buf instanceof ArrayBuffer);
    assert.equal(new TextDecoder().decode(buf), '1795687200000000001');
    assert.equal(wasmParseRfc3339Ns('nope'), undefined);
  });
});
