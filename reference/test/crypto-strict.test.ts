/**
 * The strict Ed25519 checks of the reference (spec §7.4, PP-KS-013..016) decide on the bytes where
 * they can: canonical y by comparison with p, small order by the list of the eight small-order
 * encodings, S < L by comparison with L, and only "is it a point of the curve" by decoding it
 * (libsodium, or @noble on the fallback stack). These properties show the byte checks equal to the
 * point-decoding checks they replace: @noble's strict decoding (zip215 = false, which refuses y >= p
 * and x = 0 with the sign bit set) followed by `isSmallOrder()`, and S < L in BigInt arithmetic.
 * Both stacks of the reference are checked, over random bytes and over every special encoding.
 */
import fc from "fast-check";
import { ed25519 } from "@noble/curves/ed25519.js";
import { describe, expect, test, vi } from "vitest";
import negative from "../../spec/vectors/negative.json" with { type: "json" };
import * as refDefault from "../src/crypto.ts";

vi.stubEnv("PEER_CRYPTO", "node");
vi.resetModules();
const refNode = (await import("../src/crypto.ts")) as typeof refDefault;
vi.unstubAllEnvs();

const P = 2n ** 255n - 19n;
const L = 2n ** 252n + 27742317777372353535851937790883648493n;
const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const fromHex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, "hex"));
const toLittleEndian = (n: bigint): Uint8Array => Uint8Array.from(Buffer.from(n.toString(16).padStart(64, "0"), "hex").reverse());
const fromLittleEndian = (b: Uint8Array): bigint => BigInt(`0x${hex(Uint8Array.from(b).reverse()) || "0"}`);
/** The encoding of y with x's sign bit. */
const encode = (y: bigint, sign: 0 | 1): Uint8Array => {
  const bytes = toLittleEndian(y);
  bytes[31] = (bytes[31] as number) | (sign << 7);
  return bytes;
};

type Verdict = "accepted" | "small order" | "refused";

/** What the @noble-decoding checks said: strict decoding, then the small-order test. */
function nobleVerdict(encoded: Uint8Array): Verdict {
  let point;
  try {
    point = ed25519.Point.fromBytes(encoded, false);
  } catch {
    return "refused";
  }
  return point.isSmallOrder() ? "small order" : "accepted";
}

/** Whether the bytes are a point of the curve at all, in whatever encoding (ZIP-215 decoding). */
function onCurve(encoded: Uint8Array): boolean {
  try {
    ed25519.Point.fromBytes(encoded, true);
    return true;
  } catch {
    return false;
  }
}

const verdictOf = (problem: string | null): Verdict => (problem === null ? "accepted" : /small order/.test(problem) ? "small order" : "refused");

/** The eight small-order points: the multiples of a point of order 8. */
const T8 = ed25519.Point.fromBytes(fromHex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"), false);
const torsion = Array.from({ length: 8 }, (_, k) => Array.from({ length: k }).reduce<typeof T8>((acc) => acc.add(T8), ed25519.Point.ZERO));

/** Every encoding near the edges of the rules, each with both sign bits. */
function specialEncodings(): Uint8Array[] {
  const ys = new Set<bigint>();
  for (const t of torsion) {
    const y = fromLittleEndian(t.toBytes()) & ((1n << 255n) - 1n);
    ys.add(y);
    if (y + P < 2n ** 255n) ys.add(y + P); // the non-canonical encoding of a small-order y (y < 19)
  }
  for (let y = P - 40n; y < 2n ** 255n; y++) ys.add(y); // around p: y = p - 1 (order 2), y >= p
  for (let y = 0n; y < 40n; y++) ys.add(y); // y = 0 (order 4), y = 1 (identity), small y
  // Mixed-order points (a prime-order point plus a small-order one) are accepted: §7.4 asks for no cofactor test.
  const base = ed25519.Point.BASE.multiply(123456789n);
  for (const t of torsion) ys.add(fromLittleEndian(base.add(t).toBytes()) & ((1n << 255n) - 1n));
  return [...ys].flatMap((y) => [encode(y, 0), encode(y, 1)]);
}

const negativeKeys = negative.cases.filter((c) => c.kind === "ed25519-public-key").map((c) => fromHex((c as { public_key: string }).public_key));
const negativeRs = negative.cases.filter((c) => c.kind === "ed25519-signature").map((c) => fromHex((c as { signature: string }).signature).subarray(0, 32));
const randomEncoding = fc.uint8Array({ minLength: 32, maxLength: 32 });
/** Random bytes pushed toward the edges: y near p, a small-order encoding with one byte changed. */
const edgeEncoding = fc.oneof(
  randomEncoding,
  fc.tuple(fc.bigInt({ min: P - 1000n, max: 2n ** 255n - 1n }), fc.constantFrom<0 | 1>(0, 1)).map(([y, sign]) => encode(y, sign)),
  fc.tuple(fc.constantFrom(...specialEncodings()), fc.nat(31), fc.nat(255)).map(([e, i, b]) => {
    const copy = Uint8Array.from(e);
    copy[i] = b;
    return copy;
  }),
);

describe.each([
  ["libsodium", refDefault],
  ["node:crypto", refNode],
])("the byte checks of %s's stack", (stackName, ref) => {
  test("the stack is the one named", () => {
    expect(ref.CRYPTO_STACK).toBe(stackName);
  });

  test("ed25519PointProblem (PP-KS-013, PP-KS-014) equals @noble's strict decoding and small-order test on every special encoding", () => {
    const encodings = [...specialEncodings(), ...negativeKeys];
    expect(encodings.length).toBeGreaterThan(200);
    for (const e of encodings) expect(verdictOf(ref.ed25519PointProblem(e)), hex(e)).toBe(nobleVerdict(e));
  });

  test("ed25519PointProblem equals @noble's checks on random and edge encodings", () => {
    fc.assert(
      fc.property(edgeEncoding, (e) => verdictOf(ref.ed25519PointProblem(e)) === nobleVerdict(e)),
      { numRuns: 3000 },
    );
  });

  test("refuses every negative key vector", () => {
    for (const key of negativeKeys) expect(ref.ed25519PointProblem(key), hex(key)).not.toBeNull();
  });
});

describe("the R check of PP-KS-016, on the bytes alone", () => {
  const same = (e: Uint8Array): boolean => !onCurve(e) || verdictOf(refDefault.ed25519EncodingProblem(e)) === nobleVerdict(e);

  test("equals @noble's strict decoding and small-order test for every special encoding of a point of the curve", () => {
    for (const e of [...specialEncodings(), ...negativeRs]) expect(same(e), hex(e)).toBe(true);
  });

  test("equals @noble's checks for random and edge encodings of points of the curve (an R off the curve fails the equation)", () => {
    fc.assert(fc.property(edgeEncoding, same), { numRuns: 3000 });
  });

  test("refuses the R of the identity-point forgery", () => {
    expect(refDefault.ed25519EncodingProblem(negativeRs[0] as Uint8Array)).toMatch(/small order/);
  });
});

describe("the S check of PP-KS-015, on the bytes alone", () => {
  const edgeScalars = [0n, 1n, L - 256n, L - 1n, L, L + 1n, L + 256n, 2n ** 252n, 2n ** 253n, 2n ** 256n - 1n];
  const scalar = fc.oneof(
    fc.bigInt({ min: 0n, max: 2n ** 256n - 1n }),
    fc.bigInt({ min: L - 2n ** 130n, max: L + 2n ** 130n }),
    fc.constantFrom(...edgeScalars),
  );

  test("scalarBelowOrder equals S < L in BigInt arithmetic", () => {
    fc.assert(fc.property(scalar, (s) => refDefault.scalarBelowOrder(toLittleEndian(s)) === s < L), { numRuns: 5000 });
  });
});
