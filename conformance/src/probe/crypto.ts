/**
 * The probe peer's cryptography, written from the spec with @noble (DESIGN.md §2): independent of
 * the reference's node:crypto stack so that encoding mistakes on either side surface against the
 * shared vectors. Ed25519 is verified with `zip215: false` (RFC 8032 strict) plus the explicit
 * small-order checks that strict mode alone does not make (PP-KS-014, PP-KS-016).
 */
import { ed25519, x25519 } from "@noble/curves/ed25519.js";
import { chacha20poly1305 } from "@noble/ciphers/chacha.js";
import { gcm } from "@noble/ciphers/aes.js";
import { sha256, sha512 } from "@noble/hashes/sha2.js";
import { hmac } from "@noble/hashes/hmac.js";
import { expand, extract } from "@noble/hashes/hkdf.js";
import { randomBytes as nobleRandomBytes } from "@noble/hashes/utils.js";

export type Bytes = Uint8Array;
export type Aead = "chacha20-poly1305" | "aes-256-gcm";

export const concatBytes = (...parts: Bytes[]): Bytes => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
};
export const utf8 = (text: string): Bytes => new TextEncoder().encode(text);
export const randomBytes = (n: number): Bytes => nobleRandomBytes(n);
export const hash = (...parts: Bytes[]): Bytes => sha256(concatBytes(...parts));
export const mac = (key: Bytes, data: Bytes): Bytes => hmac(sha256, key, data);
export const hkdfExtract = (salt: Bytes, ikm: Bytes): Bytes => extract(sha256, ikm, salt);
export const hkdfExpand = (prk: Bytes, info: Bytes, length: number): Bytes => expand(sha256, prk, info, length);

export function equalBytes(a: Bytes, b: Bytes): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}

export const x25519PublicKey = (privateKey: Bytes): Bytes => x25519.getPublicKey(privateKey);
export const x25519RandomPrivate = (): Bytes => x25519.utils.randomSecretKey();

/** The shared secret, or null when it is all zero (PP-HS-004); noble throws on that itself. */
export function x25519Shared(privateKey: Bytes, peerPublic: Bytes): Bytes | null {
  try {
    const shared = x25519.getSharedSecret(privateKey, peerPublic);
    return shared.every((b) => b === 0) ? null : shared;
  } catch {
    return null;
  }
}

export const ed25519PublicKey = (seed: Bytes): Bytes => ed25519.getPublicKey(seed);
export const ed25519Sign = (seed: Bytes, message: Bytes): Bytes => ed25519.sign(message, seed);

/** Null when the encoding is canonical and not of small order; otherwise why not. */
export function ed25519PointProblem(encoded: Bytes): string | null {
  if (encoded.length !== 32) return "not 32 bytes";
  try {
    const point = ed25519.Point.fromBytes(encoded, false);
    return point.isSmallOrder() ? "small order" : null;
  } catch {
    return "non-canonical encoding";
  }
}

/** RFC 8032 strict verification plus the small-order checks on A and R. */
export function ed25519VerifyStrict(publicKey: Bytes, message: Bytes, signature: Bytes): boolean {
  if (signature.length !== 64 || ed25519PointProblem(publicKey) || ed25519PointProblem(signature.subarray(0, 32))) return false;
  try {
    return ed25519.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}

function cipher(algorithm: Aead, key: Bytes, nonce: Bytes, aad: Bytes) {
  return algorithm === "chacha20-poly1305" ? chacha20poly1305(key, nonce, aad) : gcm(key, nonce, aad);
}

export const aeadSeal = (algorithm: Aead, key: Bytes, nonce: Bytes, plaintext: Bytes, aad: Bytes): Bytes => cipher(algorithm, key, nonce, aad).encrypt(plaintext);

export function aeadOpen(algorithm: Aead, key: Bytes, nonce: Bytes, sealed: Bytes, aad: Bytes): Bytes | null {
  try {
    return cipher(algorithm, key, nonce, aad).decrypt(sealed);
  } catch {
    return null;
  }
}

/** The Ed25519 group order L (RFC 8032). */
const ED25519_ORDER = 2n ** 252n + 27742317777372353535851937790883648493n;

const numberLE = (bytes: Bytes): bigint => BigInt(`0x${Buffer.from(bytes).reverse().toString("hex") || "0"}`);
const bytesLE = (n: bigint): Bytes => new Uint8Array(Buffer.from(n.toString(16).padStart(64, "0"), "hex").reverse());

/**
 * A signature made with the nonce r = 0, so that R is the identity point, written as `rEncoding`
 * (its canonical 01 00..00, small order, or a non-canonical encoding of it): S = k * a with
 * k = SHA-512(R || A || M) mod L. It satisfies the verification equation [S]B = R + [k]A, so a
 * verifier that does not refuse a small-order or non-canonical R (PP-KS-016) accepts it; every
 * other part of the signature is valid. Built for adversarial cases, never for signing.
 */
export function ed25519SignWithIdentityR(seed: Bytes, message: Bytes, rEncoding: Bytes): Bytes {
  const { scalar, pointBytes } = ed25519.utils.getExtendedPublicKey(seed);
  const k = numberLE(sha512(concatBytes(rEncoding, pointBytes, message))) % ED25519_ORDER;
  return concatBytes(rEncoding, bytesLE((k * scalar) % ED25519_ORDER));
}
