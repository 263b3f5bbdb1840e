/**
 * Wire encodings of spec §5 and §7.1: base64url without padding (PP-ENV-003, PP-ENV-004), RFC 8785
 * canonical JSON (PP-ENV-009), and the length-prefixed `Enc(m)` that the transcript hash absorbs.
 */
import canonicalizeModule from "canonicalize";

// The package is CommonJS (`module.exports = serialize`) but its types declare a default export.
const canonicalize = canonicalizeModule as unknown as (value: unknown) => string | undefined;

export function toBase64Url(bytes: Uint8Array): string {
  // A Buffer (every sealed record) is encoded as it is, without a second view of its memory.
  if (Buffer.isBuffer(bytes)) return bytes.toString("base64url");
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64url");
}

/**
 * Strict decode: rejects padding, foreign characters and non-canonical trailing bits (PP-ENV-004).
 * Node's decoder skips what is not base64, takes both alphabets and ignores unused trailing bits,
 * so the text is canonical base64url exactly when the bytes encode back to it. Encoding again costs
 * a quarter of a regular expression over the text (a record's ciphertext is its largest member).
 */
export function fromBase64Url(text: string): Buffer | null {
  if (text.length % 4 === 1) return null;
  const bytes = Buffer.from(text, "base64url");
  return bytes.toString("base64url") === text ? bytes : null;
}

/** JCS(v) as UTF-8 bytes (RFC 8785). */
export function jcs(value: unknown): Buffer {
  const text = canonicalize(value);
  if (text === undefined) throw new TypeError("value has no JSON form");
  return Buffer.from(text, "utf8");
}

/** The members of an object except the named ones (for AAD and transcript input). */
export function without<T extends object>(value: T, ...keys: string[]): Partial<T> {
  const copy = { ...value } as Record<string, unknown>;
  for (const key of keys) delete copy[key];
  return copy as Partial<T>;
}

/** Enc(m) = u32be(len(JCS(m'))) || JCS(m'), m' = m without its "signature" member (spec §7.1). */
export function encodeForTranscript(envelope: object): Buffer {
  const body = jcs(without(envelope, "signature"));
  const length = Buffer.alloc(4);
  length.writeUInt32BE(body.length);
  return Buffer.concat([length, body]);
}

/**
 * A copy in its own memory. Small Buffers are slices of a shared 8 KiB pool, and keeping one alive
 * for a session's lifetime keeps the whole slab alive: measured at 10,000 sessions, that doubled the
 * memory per session. Long-lived keys and secrets are kept as retained copies.
 */
export function retained(bytes: Uint8Array): Buffer {
  const copy = Buffer.allocUnsafeSlow(bytes.length);
  copy.set(bytes);
  return copy;
}

/**
 * Retained copies of several byte strings that live and die together, in one allocation: each
 * allocation of its own costs an ArrayBuffer and a backing store beside its bytes (about 250 bytes
 * for a 32-byte key, measured), so a session's six secrets cost less as one than as six.
 */
export function retainedTogether(parts: readonly Uint8Array[]): Buffer[] {
  const memory = Buffer.allocUnsafeSlow(parts.reduce((total, part) => total + part.length, 0));
  let offset = 0;
  return parts.map((part) => {
    const copy = memory.subarray(offset, offset + part.length);
    copy.set(part);
    offset += part.length;
    return copy;
  });
}
