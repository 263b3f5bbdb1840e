/**
 * Every cryptographic operation of the reference implementation, in one module (STYLE.md).
 *
 * `node:crypto` (OpenSSL) is used on the hot path: it is 10–30× faster here than a pure JavaScript
 * library. `@noble/curves` is used only for what OpenSSL does not check: the order and canonical
 * encoding of Ed25519 points (PP-KS-013, PP-KS-014, PP-KS-016). `node:crypto.verify` alone accepts
 * the identity-point forgery (R = identity, S = 0 under the key 01 00 .. 00).
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  randomBytes as nodeRandomBytes,
  sign as nodeSign,
  timingSafeEqual,
  verify as nodeVerify,
  type KeyObject,
} from "node:crypto";
import { ed25519 } from "@noble/curves/ed25519.js";

export type AeadAlgorithm = "chacha20-poly1305" | "aes-256-gcm";

const X25519_PKCS8_PREFIX = Buffer.from("302e020100300506032b656e04220420", "hex");
const ED25519_PKCS8_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");

// Raw keys move in and out of KeyObjects as JWK: measured here, a DER export or import costs about
// 80 µs and a JWK one 1–11 µs, which matters on the handshake's hot path.
const rawPublicKey = (key: KeyObject): Buffer => Buffer.from(key.export({ format: "jwk" }).x as string, "base64url");
const x25519PublicKeyObject = (raw: Uint8Array): KeyObject => createPublicKey({ key: { kty: "OKP", crv: "X25519", x: Buffer.from(raw).toString("base64url") }, format: "jwk" });
const ed25519PublicKeyObjectUnchecked = (raw: Uint8Array): KeyObject => createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: Buffer.from(raw).toString("base64url") }, format: "jwk" });
/** The group order L of Ed25519, little-endian, for the S < L check (RFC 8032 §5.1.7 step 1). */
const ED25519_ORDER = (1n << 252n) + 27742317777372353535851937790883648493n;
/** Both AEADs of spec §7.3 append a 16-byte tag. */
export const TAG_BYTES = 16;

export class CryptoError extends Error {
  constructor(
    readonly reason: "zero-shared-secret" | "bad-public-key" | "bad-signature" | "bad-length",
    message: string,
  ) {
    super(message);
  }
}

export function randomBytes(n: number): Buffer {
  return nodeRandomBytes(n);
}

export function sha256(...parts: Uint8Array[]): Buffer {
  const hash = createHash("sha256");
  for (const part of parts) hash.update(part);
  return hash.digest();
}

export function hmacSha256(key: Uint8Array, ...parts: Uint8Array[]): Buffer {
  const mac = createHmac("sha256", key);
  for (const part of parts) mac.update(part);
  return mac.digest();
}

/** HKDF-Extract then HKDF-Expand with empty info (RFC 5869), as Noise's MixKey uses it. */
export function hkdf(salt: Uint8Array, ikm: Uint8Array, length: number): Buffer {
  return Buffer.from(hkdfSync("sha256", ikm, salt, Buffer.alloc(0), length));
}

/**
 * HKDF-Expand (RFC 5869 §2.3) for a secret that already is a pseudorandom key. Node exposes only
 * extract-and-expand, so the expand step is composed from HMAC-SHA256 as the RFC defines it.
 */
export function hkdfExpand(prk: Uint8Array, info: Uint8Array, length: number): Buffer {
  if (length > 255 * 32) throw new CryptoError("bad-length", "HKDF-Expand output too long");
  const blocks: Buffer[] = [];
  let previous: Buffer = Buffer.alloc(0);
  for (let counter = 1; blocks.length * 32 < length; counter++) {
    previous = hmacSha256(prk, previous, info, Uint8Array.of(counter));
    blocks.push(previous);
  }
  return Buffer.concat(blocks).subarray(0, length);
}

export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

// ---- X25519 (RFC 7748) ----

export interface X25519KeyPair {
  privateKey: KeyObject;
  publicKey: Buffer;
}

function x25519PublicRaw(privateKey: KeyObject): Buffer {
  return rawPublicKey(createPublicKey(privateKey));
}

export function generateX25519(): X25519KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync("x25519");
  return { privateKey, publicKey: rawPublicKey(publicKey) };
}

/** A key pair from fixed private bytes, for test vectors. */
export function x25519FromPrivate(raw: Uint8Array): X25519KeyPair {
  const privateKey = createPrivateKey({ key: Buffer.concat([X25519_PKCS8_PREFIX, raw]), format: "der", type: "pkcs8" });
  return { privateKey, publicKey: x25519PublicRaw(privateKey) };
}

/** X25519 with the all-zero check of PP-HS-004 / PP-KS-017. */
export function x25519(privateKey: KeyObject, peerPublic: Uint8Array): Buffer {
  if (peerPublic.length !== 32) throw new CryptoError("bad-public-key", "X25519 public key must be 32 bytes");
  let shared: Buffer;
  try {
    const publicKey = x25519PublicKeyObject(peerPublic);
    shared = diffieHellman({ privateKey, publicKey });
  } catch {
    // OpenSSL itself refuses some small-order inputs; the outcome is the same rejection.
    throw new CryptoError("zero-shared-secret", "X25519 shared secret is all zero");
  }
  if (shared.every((byte) => byte === 0)) throw new CryptoError("zero-shared-secret", "X25519 shared secret is all zero");
  return shared;
}

// ---- Ed25519 (RFC 8032), strict ----

export interface Ed25519Identity {
  privateKey: KeyObject;
  publicKey: Buffer;
}

export function ed25519FromSeed(seed: Uint8Array): Ed25519Identity {
  const privateKey = createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]), format: "der", type: "pkcs8" });
  return { privateKey, publicKey: rawPublicKey(createPublicKey(privateKey)) };
}

export function generateEd25519(): Ed25519Identity {
  return ed25519FromSeed(nodeRandomBytes(32));
}

export function ed25519Sign(identity: Ed25519Identity, message: Uint8Array): Buffer {
  return nodeSign(null, message, identity.privateKey);
}

/** Why a point encoding is refused, or null when it is canonical and not of small order. */
export function ed25519PointProblem(encoded: Uint8Array): string | null {
  if (encoded.length !== 32) return "Ed25519 point must be 32 bytes";
  let point;
  try {
    point = ed25519.Point.fromBytes(encoded, false); // zip215 = false: canonical encodings only (PP-KS-013)
  } catch {
    return "Ed25519 point is not a canonical encoding";
  }
  if (point.isSmallOrder()) return "Ed25519 point has small order"; // PP-KS-014, PP-KS-016
  return null;
}

const verifiedKeys = new Map<string, KeyObject>();
const VERIFIED_KEY_CACHE = 4096;

/** The KeyObject of a validated identity key; cached because decoding a point costs a square root. */
function ed25519PublicKeyObject(publicKey: Uint8Array): KeyObject {
  const cacheKey = Buffer.from(publicKey).toString("base64");
  const cached = verifiedKeys.get(cacheKey);
  if (cached) return cached;
  const problem = ed25519PointProblem(publicKey);
  if (problem) throw new CryptoError("bad-public-key", problem);
  const keyObject = ed25519PublicKeyObjectUnchecked(publicKey);
  if (verifiedKeys.size >= VERIFIED_KEY_CACHE) verifiedKeys.delete(verifiedKeys.keys().next().value as string);
  verifiedKeys.set(cacheKey, keyObject);
  return keyObject;
}

/** Like ed25519PointProblem, but answers from the cache of validated keys when it can. */
export function ed25519KeyProblemCached(publicKey: Uint8Array): string | null {
  try {
    ed25519PublicKeyObject(publicKey);
    return null;
  } catch (error) {
    return error instanceof CryptoError ? error.message : "Ed25519 point is invalid";
  }
}

/** Throws CryptoError("bad-public-key") for a key that PP-KS-013 / PP-KS-014 refuse. */
export function assertValidEd25519PublicKey(publicKey: Uint8Array): void {
  ed25519PublicKeyObject(publicKey);
}

/**
 * The eight small-order points of edwards25519 in canonical encoding, and the two encodings with
 * x = 0 and the sign bit set (non-canonical, RFC 8032 §5.1.3 step 4), as libsodium lists them.
 */
const SMALL_ORDER_ENCODINGS = [
  "0100000000000000000000000000000000000000000000000000000000000000",
  "0100000000000000000000000000000000000000000000000000000000000080",
  "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
  "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
  "0000000000000000000000000000000000000000000000000000000000000000",
  "0000000000000000000000000000000000000000000000000000000000000080",
  "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
  "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
  "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
  "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
].map((h) => Buffer.from(h, "hex"));

/**
 * The R check of PP-KS-016 without decoding the point (decoding costs a square root, about 90 µs
 * here): y must be below p = 2^255 - 19, and the encoding must not be a small-order point.
 */
function canonicalAndNotSmallOrder(encoded: Uint8Array): boolean {
  if (encoded.length !== 32) return false;
  // y >= p only when the top 250 bits are all ones and the lowest byte is 0xed or more.
  if (((encoded[31] as number) & 0x7f) === 0x7f && (encoded[0] as number) >= 0xed && encoded.subarray(1, 31).every((b) => b === 0xff)) return false;
  return !SMALL_ORDER_ENCODINGS.some((bad) => bad.equals(encoded));
}

function scalarBelowOrder(s: Uint8Array): boolean {
  let value = 0n;
  for (let i = s.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(s[i] as number);
  return value < ED25519_ORDER;
}

/**
 * Strict verification: canonical, non-small-order key (PP-KS-013/014), S < L (PP-KS-015),
 * canonical, non-small-order R (PP-KS-016), then the RFC 8032 equation by OpenSSL.
 */
export function ed25519VerifyStrict(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (signature.length !== 64) return false;
  let keyObject: KeyObject;
  try {
    keyObject = ed25519PublicKeyObject(publicKey);
  } catch {
    return false;
  }
  if (!scalarBelowOrder(signature.subarray(32))) return false;
  if (!canonicalAndNotSmallOrder(signature.subarray(0, 32))) return false;
  return nodeVerify(null, message, keyObject, signature);
}

// ---- AEAD (RFC 8439, or AES-256-GCM when negotiated) ----

export function aeadSeal(algorithm: AeadAlgorithm, key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Buffer {
  const cipher = algorithm === "aes-256-gcm" ? createCipheriv(algorithm, key, nonce, { authTagLength: TAG_BYTES }) : createCipheriv(algorithm, key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad, { plaintextLength: plaintext.length });
  const body = cipher.update(plaintext);
  cipher.final();
  return Buffer.concat([body, cipher.getAuthTag()]);
}

/** The plaintext, or null when the tag does not verify. */
export function aeadOpen(algorithm: AeadAlgorithm, key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Buffer | null {
  if (sealed.length < TAG_BYTES) return null;
  const decipher = algorithm === "aes-256-gcm" ? createDecipheriv(algorithm, key, nonce, { authTagLength: TAG_BYTES }) : createDecipheriv(algorithm, key, nonce, { authTagLength: TAG_BYTES });
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  decipher.setAAD(aad, { plaintextLength: sealed.length - TAG_BYTES });
  const body = decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES));
  try {
    decipher.final();
  } catch {
    return null;
  }
  return body;
}
