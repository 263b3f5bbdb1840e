/** Strict base64url (PP-ENV-004): one encoding for one byte string, and nothing else decodes. */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { BASE64URL_PATTERN } from "../../schemas/src/index.ts";
import { fromBase64Url, retainedTogether, toBase64Url } from "../src/encoding.ts";

describe("fromBase64Url", () => {
  test("decodes every encoding toBase64Url makes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        expect(fromBase64Url(toBase64Url(bytes))).toEqual(Buffer.from(bytes));
      }),
    );
  });

  test("accepts a string of the alphabet exactly when it is the canonical encoding of its bytes", () => {
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".split("");
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...alphabet), { maxLength: 12 }), (chars) => {
        const text = chars.join("");
        const canonical = text.length % 4 !== 1 && Buffer.from(text, "base64url").toString("base64url") === text;
        expect(fromBase64Url(text) !== null).toBe(canonical);
      }),
      { numRuns: 2000 },
    );
  });

  test("refuses padding and foreign characters", () => {
    for (const text of ["QQ==", "QQ=", "Q+", "Q/", "Q Q", "QUI\n"]) expect(fromBase64Url(text)).toBeNull();
  });
});

describe("fromBase64Url and the schemas' base64url pattern", () => {
  // A receiver may leave a record's ciphertext to the decoder instead of the schema's pattern
  // (ValidateOptions.ciphertextPattern): both must accept exactly the same strings.
  const pattern = new RegExp(BASE64URL_PATTERN, "u");
  test("accept exactly the same strings", () => {
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/ .".split("");
    fc.assert(
      fc.property(fc.oneof(fc.array(fc.constantFrom(...alphabet), { maxLength: 40 }).map((chars) => chars.join("")), fc.string(), fc.uint8Array({ maxLength: 40 }).map((bytes) => toBase64Url(bytes))), (text) => {
        expect(fromBase64Url(text) !== null, JSON.stringify(text)).toBe(pattern.test(text));
      }),
      { numRuns: 5000 },
    );
  });
});

describe("retainedTogether", () => {
  test("copies every part, in order, into one allocation of exactly their total size", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { minLength: 1, maxLength: 8 }), (parts) => {
        const sources = parts.map((part) => Buffer.from(part)); // small Buffer.from results are views into the shared pool
        const copies = retainedTogether(sources);
        expect(copies.map((copy) => [...copy])).toEqual(parts.map((part) => [...part]));
        const total = parts.reduce((sum, part) => sum + part.length, 0);
        for (const copy of copies) {
          expect(copy.buffer).toBe(copies[0]?.buffer);
          expect(copy.buffer.byteLength).toBe(total);
        }
        for (const source of sources) source.fill(0xaa);
        expect(copies.map((copy) => [...copy])).toEqual(parts.map((part) => [...part])); // copies, not views of the sources
      }),
    );
  });
});
