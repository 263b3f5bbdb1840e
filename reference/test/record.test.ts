/** The AAD of a record (PP-KS-007): JCS of the envelope without payload and signature, written directly for known headers. */
import canonicalizeModule from "canonicalize";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { recordNonce } from "../src/key-schedule.ts";
import { openRecord, recordAad, recordText, sealRecord, type RecordEnvelope, type RecordHeader } from "../src/record.ts";

const canonicalize = canonicalizeModule as unknown as (value: unknown) => string | undefined;

/** What the AAD must be, by the general RFC 8785 implementation. */
function expected(header: Record<string, unknown>): string {
  const { payload: _payload, signature: _signature, ...rest } = header;
  return canonicalize(rest) as string;
}

/** Strings with escapes, control characters, non-BMP characters and lone surrogates. */
const text = fc.oneof(fc.string(), fc.string({ unit: "grapheme" }), fc.string({ unit: "binary" }), fc.constantFrom("", "\"", "\\", "\u0000\u001f\u007f", "\u2028\u2029", "\ud800", "é😀"));
const safeInteger = fc.oneof(fc.maxSafeInteger(), fc.constantFrom(0, -0, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER));

const header = fc.record(
  {
    message_id: text,
    type: text,
    version: text,
    timestamp: safeInteger,
    seq: safeInteger,
    session_id: text,
    sender_id: text,
    recipient_id: text,
    payload: text,
    signature: text,
  },
  { requiredKeys: ["message_id", "type", "version", "timestamp", "seq", "session_id", "sender_id"] },
);

describe("recordAad", () => {
  test("equals JCS of the header without payload and signature, for every header of known members", () => {
    fc.assert(
      fc.property(header, (h) => {
        expect(recordAad(h as RecordHeader).toString("utf8")).toBe(expected(h));
      }),
      { numRuns: 2000 },
    );
  });

  test("equals JCS with unknown extra members, which fall back to the general canonicalization", () => {
    const extra = fc.dictionary(fc.string().filter((k) => !["message_id", "type", "version", "timestamp", "seq", "session_id", "sender_id", "recipient_id", "payload", "signature", "__proto__"].includes(k)), fc.jsonValue(), { minKeys: 1, maxKeys: 4 });
    fc.assert(
      fc.property(header, extra, (h, more) => {
        const withExtra = { ...more, ...h };
        expect(recordAad(withExtra as RecordHeader).toString("utf8")).toBe(expected(withExtra));
      }),
      { numRuns: 1000 },
    );
  });

  test("equals JCS when a known member has another type (a float, a large number, a string seq)", () => {
    const odd = fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constantFrom(1e21, 2 ** 53, 0.5, "7", true, null));
    fc.assert(
      fc.property(header, odd, fc.constantFrom("timestamp", "seq", "message_id", "recipient_id"), (h, value, member) => {
        const changed = { ...h, [member]: value };
        expect(recordAad(changed as unknown as RecordHeader).toString("utf8")).toBe(expected(changed));
      }),
      { numRuns: 1000 },
    );
  });

  test("leaves out an undefined recipient_id, as JCS does", () => {
    const h = { message_id: "msg_00000001", type: "ACK", version: "1.2", timestamp: 1, seq: 0, session_id: "sess_x", sender_id: "a", recipient_id: undefined };
    expect(recordAad(h).toString("utf8")).toBe('{"message_id":"msg_00000001","sender_id":"a","seq":0,"session_id":"sess_x","timestamp":1,"type":"ACK","version":"1.2"}');
  });
});

describe("recordText", () => {
  const keys = { key: Buffer.alloc(32, 7), iv: Buffer.alloc(12, 3) };
  const sealedHeader = header.map(({ payload: _payload, signature, ...h }) => ({ ...h, payload: "", ...(signature === undefined ? {} : { signature }) }) as RecordHeader);
  const inner = fc.jsonValue();

  /** The text must be JSON of exactly the members JSON.stringify would write, with the same values. */
  const same = (record: RecordEnvelope) => expect(JSON.parse(recordText(record))).toEqual(JSON.parse(JSON.stringify(record)));

  test("is JSON of the same members and values as JSON.stringify, for every record sealRecord makes", () => {
    fc.assert(
      fc.property(sealedHeader, inner, (h, value) => {
        const record = sealRecord("chacha20-poly1305", keys, h, value);
        same(record);
        expect(openRecord("chacha20-poly1305", keys, JSON.parse(recordText(record)) as RecordEnvelope)).toEqual(JSON.parse(JSON.stringify(value)));
      }),
      { numRuns: 1000 },
    );
  });

  test("writes a record sealRecord never made as JSON.stringify does: without a payload, or with one of its own", () => {
    fc.assert(
      fc.property(sealedHeader, fc.option(text, { nil: undefined }), ({ payload: _payload, ...h }, payload) => {
        const record = (payload === undefined ? h : { ...h, payload }) as RecordEnvelope;
        expect(recordText(record)).toBe(JSON.stringify(record));
      }),
      { numRuns: 500 },
    );
  });

  test("follows every change made to a record after it was sealed: another payload, an extra member, a member of another type", () => {
    const change = fc.oneof(
      fc.record({ member: fc.constant("payload"), value: text }),
      fc.record({ member: fc.constantFrom("message_id", "type", "sender_id", "recipient_id", "signature"), value: text }),
      fc.record({ member: fc.constantFrom("seq", "timestamp"), value: fc.oneof(safeInteger, fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constant("7")) }),
      fc.record({ member: fc.string().filter((k) => k !== "__proto__"), value: fc.jsonValue() }),
    );
    fc.assert(
      fc.property(sealedHeader, change, ({ signature: _signature, ...h }, { member, value }) => {
        const record = sealRecord("chacha20-poly1305", keys, h as RecordHeader, { n: 1 });
        (record as Record<string, unknown>)[member] = value;
        same(record);
        same({ ...record }); // a copy is written by JSON.stringify
      }),
      { numRuns: 2000 },
    );
  });
});

describe("recordNonce", () => {
  test("is iv XOR (0x00000000 || u64be(seq)) for every seq up to 2^53 - 1 (PP-KS-006)", () => {
    const spec = (iv: Uint8Array, seq: number): Buffer => {
      const padded = Buffer.alloc(12);
      padded.writeBigUInt64BE(BigInt(seq), 4);
      return Buffer.from(iv.map((byte, i) => byte ^ (padded[i] as number)));
    };
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 12, maxLength: 12 }), fc.oneof(fc.maxSafeNat(), fc.nat(), fc.constantFrom(0, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1)), (iv, seq) => {
        expect(recordNonce(iv, seq)).toEqual(spec(iv, seq));
      }),
      { numRuns: 5000 },
    );
  });
});
