/** Wire encodings as the probe reads them from spec §5 and §7.1: base64url, JCS, Enc(m). */
import canonicalizeModule from "canonicalize";

// The package is CommonJS (`module.exports = serialize`) but its types declare a default export.
const canonicalize = canonicalizeModule as unknown as (value: unknown) => string | undefined;
import { concatBytes, utf8, type Bytes } from "./crypto.ts";

export const b64u = (bytes: Bytes): string => Buffer.from(bytes).toString("base64url");

/** Strict base64url: no padding, canonical trailing bits (PP-ENV-004). Null when malformed. */
export function unb64u(text: unknown): Bytes | null {
  if (typeof text !== "string" || !/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) return null;
  const bytes = Buffer.from(text, "base64url");
  return bytes.toString("base64url") === text ? new Uint8Array(bytes) : null;
}

export function canonical(value: unknown): Bytes {
  const text = canonicalize(value);
  if (text === undefined) throw new TypeError("value has no JSON form");
  return utf8(text);
}

export function omit(value: object, ...keys: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (!keys.includes(k)) out[k] = v;
  return out;
}

/** Enc(m) = u32be(len) || JCS(m without "signature"). */
export function transcriptEncoding(envelope: object): Bytes {
  const body = canonical(omit(envelope, "signature"));
  const length = new Uint8Array(4);
  new DataView(length.buffer).setUint32(0, body.length);
  return concatBytes(length, body);
}
