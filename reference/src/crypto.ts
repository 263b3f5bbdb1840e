/**
 * Every cryptographic operation of the reference implementation, in one module (STYLE.md).
 *
 * Two stacks, one chosen once at startup (DESIGN.md §2):
 * - libsodium (`sodium-native`, prebuilt in its npm package) for ChaCha20-Poly1305, X25519 and
 *   Ed25519. Measured here (bench/micro/crypto.ts): sealing 1 KiB costs about 1 µs against
 *   8–10 µs through `node:crypto`'s per-call cipher objects, and X25519 and Ed25519 run 2–3× faster.
 * - `node:crypto` (OpenSSL) as the fallback when `sodium-native` cannot load on a platform, or when
 *   PEER_CRYPTO=node asks for it. The module says which once, on stderr, when it falls back.
 * AES-256-GCM, HMAC-SHA256 and HKDF always use `node:crypto`: `sodium-native` binds none of them
 * (HKDF-Expand alone is composed from that HMAC, below, since Node has no expand-only call).
 * SHA-256 uses `node:crypto` too: libsodium's was no faster on the transcript's small inputs, in
 * alternating runs. Random bytes come from the loaded stack (libsodium's randombytes_buf, or
 * `node:crypto`'s randomBytes).
 *
 * The strict checks of PP-KS-013..017 are our own, explicit and the same on both stacks, so that
 * neither library's verifier decides what the spec refuses. Canonical form, small order and S < L
 * are decided on the bytes (section "Ed25519" below); only whether a key is a point of the curve at
 * all needs the point decoded, which libsodium does through point addition, and `@noble/curves` on
 * the fallback stack (neither library offers that decoding alone with the spec's checks: canonical,
 * not of small order, and no cofactor test). `node:crypto.verify` alone accepts the identity-point
 * forgery (R = identity, S = 0 under the key 01 00 .. 00); libsodium's refuses it, but the checks
 * stay ours.
 */
import { createRequire } from "node:module";
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

/** Both AEADs of spec §7.3 append a 16-byte tag. */
export const TAG_BYTES = 16;
/** The group order L of Ed25519, for the S < L check (RFC 8032 §5.1.7 step 1). */
const ED25519_ORDER = (1n << 252n) + 27742317777372353535851937790883648493n;

export class CryptoError extends Error {
  constructor(
    readonly reason: "zero-shared-secret" | "bad-public-key" | "bad-signature" | "bad-length",
    message: string,
  ) {
    super(message);
  }
}

/**
 * A private key as the loaded stack holds it: raw bytes for libsodium (the X25519 scalar, or
 * Ed25519's seed followed by its public key), a KeyObject for OpenSSL. Callers only pass it back.
 */
export type PrivateKey = Buffer | KeyObject;

/** The primitives a stack provides; every check of the spec is made above them, once. */
interface Stack {
  readonly name: "libsodium" | "node:crypto";
  /** n bytes from the operating system's CSPRNG, in memory of their own (not a slice of a shared pool). */
  randomBytes(n: number): Buffer;
  chachaSeal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Buffer;
  chachaOpen(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Buffer | null;
  x25519Generate(): { privateKey: PrivateKey; publicKey: Buffer };
  x25519FromPrivate(raw: Uint8Array): { privateKey: PrivateKey; publicKey: Buffer };
  /** The raw shared secret; throws when the library itself refuses the public key. */
  x25519(privateKey: PrivateKey, peerPublic: Uint8Array): Buffer;
  ed25519FromSeed(seed: Uint8Array): { privateKey: PrivateKey; publicKey: Buffer };
  ed25519Sign(privateKey: PrivateKey, message: Uint8Array): Buffer;
  /** The library's own verification, for a key and signature that already passed our checks. */
  ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean;
  /**
   * Whether 32 bytes decode to a point of the curve (RFC 8032 §5.1.3: x^2 = (y^2 - 1)/(d y^2 + 1)
   * has a root), and nothing else: canonical form and order are checked above the stack.
   */
  ed25519Decodes(encoded: Uint8Array): boolean;
}

// ---- node:crypto (OpenSSL) ----

const X25519_PKCS8_PREFIX = Buffer.from("302e020100300506032b656e04220420", "hex");
const ED25519_PKCS8_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");

// Raw keys move in and out of KeyObjects as JWK: measured here, a DER export or import costs about
// 80 µs and a JWK one 1–11 µs, which matters on the handshake's hot path.
const rawPublicKey = (key: KeyObject): Buffer => Buffer.from(key.export({ format: "jwk" }).x as string, "base64url");
const okpPublicKey = (crv: "X25519" | "Ed25519", raw: Uint8Array): KeyObject => createPublicKey({ key: { kty: "OKP", crv, x: Buffer.from(raw).toString("base64url") }, format: "jwk" });

/** KeyObjects of identity keys, cached because importing one costs more than verifying with it. */
const nodeVerifyKeys = new Map<string, KeyObject>();
const VERIFY_KEY_CACHE = 4096;

function nodeVerifyKey(publicKey: Uint8Array): KeyObject {
  const cacheKey = Buffer.from(publicKey).toString("base64");
  const cached = nodeVerifyKeys.get(cacheKey);
  if (cached) return cached;
  const keyObject = okpPublicKey("Ed25519", publicKey);
  if (nodeVerifyKeys.size >= VERIFY_KEY_CACHE) nodeVerifyKeys.delete(nodeVerifyKeys.keys().next().value as string);
  nodeVerifyKeys.set(cacheKey, keyObject);
  return keyObject;
}

const NODE: Stack = {
  name: "node:crypto",
  randomBytes: (n) => nodeRandomBytes(n),
  chachaSeal: (key, nonce, plaintext, aad) => nodeSeal("chacha20-poly1305", key, nonce, plaintext, aad),
  chachaOpen: (key, nonce, sealed, aad) => nodeOpen("chacha20-poly1305", key, nonce, sealed, aad),
  x25519Generate() {
    const { privateKey, publicKey } = generateKeyPairSync("x25519");
    return { privateKey, publicKey: rawPublicKey(publicKey) };
  },
  x25519FromPrivate(raw) {
    const privateKey = createPrivateKey({ key: Buffer.concat([X25519_PKCS8_PREFIX, raw]), format: "der", type: "pkcs8" });
    return { privateKey, publicKey: rawPublicKey(createPublicKey(privateKey)) };
  },
  x25519: (privateKey, peerPublic) => diffieHellman({ privateKey: privateKey as KeyObject, publicKey: okpPublicKey("X25519", peerPublic) }),
  ed25519FromSeed(seed) {
    const privateKey = createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]), format: "der", type: "pkcs8" });
    return { privateKey, publicKey: rawPublicKey(createPublicKey(privateKey)) };
  },
  ed25519Sign: (privateKey, message) => nodeSign(null, message, privateKey as KeyObject),
  ed25519Verify(publicKey, message, signature) {
    try {
      return nodeVerify(null, message, nodeVerifyKey(publicKey), signature);
    } catch {
      return false;
    }
  },
  // OpenSSL decodes no point it is not asked to use, so @noble decodes here: a square root in
  // BigInt arithmetic, slower than libsodium's, on the fallback stack only.
  ed25519Decodes(encoded) {
    try {
      ed25519.Point.fromBytes(encoded, true); // zip215 = true: decoding only, y < p is checked above
      return true;
    } catch {
      return false;
    }
  },
};

function nodeSeal(algorithm: AeadAlgorithm, key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Buffer {
  const cipher = algorithm === "aes-256-gcm" ? createCipheriv(algorithm, key, nonce, { authTagLength: TAG_BYTES }) : createCipheriv(algorithm, key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad, { plaintextLength: plaintext.length });
  const body = cipher.update(plaintext);
  cipher.final();
  return Buffer.concat([body, cipher.getAuthTag()]);
}

function nodeOpen(algorithm: AeadAlgorithm, key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Buffer | null {
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

// ---- libsodium (sodium-native) ----

/** The part of `sodium-native`'s API this module uses (the package ships no types). */
interface SodiumNative {
  crypto_aead_chacha20poly1305_ietf_encrypt(c: Buffer, m: Uint8Array, ad: Uint8Array | null, nsec: null, npub: Uint8Array, k: Uint8Array): number;
  crypto_aead_chacha20poly1305_ietf_decrypt(m: Buffer, nsec: null, c: Uint8Array, ad: Uint8Array | null, npub: Uint8Array, k: Uint8Array): number;
  crypto_scalarmult_base(q: Buffer, n: Uint8Array): void;
  crypto_scalarmult(q: Buffer, n: Uint8Array, p: Uint8Array): void;
  crypto_sign_seed_keypair(pk: Buffer, sk: Buffer, seed: Uint8Array): void;
  crypto_sign_detached(sig: Buffer, m: Uint8Array, sk: Uint8Array): void;
  crypto_sign_verify_detached(sig: Uint8Array, m: Uint8Array, pk: Uint8Array): boolean;
  randombytes_buf(buffer: Uint8Array): void;
  /** Throws when p or q does not decode to a point of the curve. */
  crypto_core_ed25519_add(r: Buffer, p: Uint8Array, q: Uint8Array): void;
}

function sodiumStack(sodium: SodiumNative): Stack {
  const sum = Buffer.alloc(32); // the discarded output of the point decoding below
  // randombytes_buf reads getrandom(2) directly: measured here, 0.3 µs for 32 bytes against 1.8 µs
  // for node:crypto's randomBytes, whose synchronous path goes through a job object; a handshake
  // draws five times. allocUnsafeSlow: a key or nonce kept for a session keeps no 8 KiB pool alive.
  const random = (n: number): Buffer => {
    const bytes = Buffer.allocUnsafeSlow(n);
    sodium.randombytes_buf(bytes);
    return bytes;
  };
  const fromPrivate = (raw: Uint8Array) => {
    const privateKey = Buffer.from(raw);
    const publicKey = Buffer.alloc(32);
    sodium.crypto_scalarmult_base(publicKey, privateKey);
    return { privateKey, publicKey };
  };
  return {
    name: "libsodium",
    randomBytes: random,
    chachaSeal(key, nonce, plaintext, aad) {
      const sealed = Buffer.allocUnsafe(plaintext.length + TAG_BYTES);
      sodium.crypto_aead_chacha20poly1305_ietf_encrypt(sealed, plaintext, aad, null, nonce, key);
      return sealed;
    },
    chachaOpen(key, nonce, sealed, aad) {
      const plaintext = Buffer.allocUnsafe(sealed.length - TAG_BYTES);
      try {
        sodium.crypto_aead_chacha20poly1305_ietf_decrypt(plaintext, null, sealed, aad, nonce, key);
      } catch {
        return null; // the tag does not verify
      }
      return plaintext;
    },
    x25519Generate: () => fromPrivate(random(32)),
    x25519FromPrivate: fromPrivate,
    x25519(privateKey, peerPublic) {
      const shared = Buffer.alloc(32);
      sodium.crypto_scalarmult(shared, privateKey as Buffer, peerPublic);
      return shared;
    },
    ed25519FromSeed(seed) {
      const publicKey = Buffer.alloc(32);
      const privateKey = Buffer.alloc(64);
      sodium.crypto_sign_seed_keypair(publicKey, privateKey, seed);
      return { privateKey, publicKey };
    },
    ed25519Sign(privateKey, message) {
      const signature = Buffer.alloc(64);
      sodium.crypto_sign_detached(signature, message, privateKey as Buffer);
      return signature;
    },
    ed25519Verify: (publicKey, message, signature) => sodium.crypto_sign_verify_detached(signature, message, publicKey),
    // libsodium exposes point decoding through point arithmetic: crypto_core_ed25519_add decodes
    // both operands (ge25519_frombytes plus an on-curve test) and fails when one does not decode.
    // crypto_core_ed25519_is_valid_point would also refuse points outside the prime-order subgroup,
    // which the spec accepts (§7.4 asks for no cofactor test).
    ed25519Decodes(encoded) {
      try {
        sodium.crypto_core_ed25519_add(sum, encoded, encoded);
        return true;
      } catch {
        return false;
      }
    },
  };
}

/**
 * The stack of this process: libsodium unless PEER_CRYPTO=node asks for `node:crypto`, or
 * `sodium-native` does not load here, which is said once on stderr.
 */
function loadStack(): Stack {
  const wanted = process.env.PEER_CRYPTO ?? "sodium";
  if (wanted === "node") return NODE;
  if (wanted !== "sodium") throw new Error(`PEER_CRYPTO must be "sodium" or "node", not ${JSON.stringify(wanted)}`);
  try {
    return sodiumStack(createRequire(import.meta.url)("sodium-native") as SodiumNative);
  } catch (error) {
    process.stderr.write(`peer: sodium-native did not load (${(error as Error).message.split("\n")[0]}); using node:crypto, which is slower\n`);
    return NODE;
  }
}

const STACK = loadStack();

/** Which library does the work in this process: "libsodium", or "node:crypto" as the fallback. */
export const CRYPTO_STACK: Stack["name"] = STACK.name;

// ---- Hashes and key derivation (FIPS 180-4, RFC 2104, RFC 5869) ----

export function randomBytes(n: number): Buffer {
  return STACK.randomBytes(n);
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

/**
 * HKDF-Extract then HKDF-Expand with empty info (RFC 5869), as Noise's MixKey uses it: the library's
 * own HKDF (composing it from HMAC would save ~3 µs a call, not worth owning more of the KDF).
 */
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
  privateKey: PrivateKey;
  publicKey: Buffer;
}

export function generateX25519(): X25519KeyPair {
  return STACK.x25519Generate();
}

/** A key pair from fixed private bytes, for test vectors. */
export function x25519FromPrivate(raw: Uint8Array): X25519KeyPair {
  return STACK.x25519FromPrivate(raw);
}

/** X25519 with the all-zero check of PP-HS-004 / PP-KS-017. */
export function x25519(privateKey: PrivateKey, peerPublic: Uint8Array): Buffer {
  if (peerPublic.length !== 32) throw new CryptoError("bad-public-key", "X25519 public key must be 32 bytes");
  let shared: Buffer;
  try {
    shared = STACK.x25519(privateKey, peerPublic);
  } catch {
    // Both libraries refuse some small-order inputs themselves; the outcome is the same rejection.
    throw new CryptoError("zero-shared-secret", "X25519 shared secret is all zero");
  }
  if (shared.every((byte) => byte === 0)) throw new CryptoError("zero-shared-secret", "X25519 shared secret is all zero");
  return shared;
}

// ---- Ed25519 (RFC 8032), strict ----

export interface Ed25519Identity {
  privateKey: PrivateKey;
  publicKey: Buffer;
}

export function ed25519FromSeed(seed: Uint8Array): Ed25519Identity {
  return STACK.ed25519FromSeed(seed);
}

export function generateEd25519(): Ed25519Identity {
  return ed25519FromSeed(STACK.randomBytes(32));
}

export function ed25519Sign(identity: Ed25519Identity, message: Uint8Array): Buffer {
  return STACK.ed25519Sign(identity.privateKey, message);
}

/**
 * The canonical encodings of the eight points of small order (PP-KS-014, PP-KS-016): the identity
 * (y = 1), the point of order 2 (y = p - 1), the two of order 4 (y = 0, both signs of x) and the
 * four of order 8 (y and -y of one of them, both signs of x each). A point has one canonical
 * encoding, so the encoding tells whether a canonical point is one of them (as libsodium's
 * has_small_order does), with no point arithmetic.
 */
const SMALL_ORDER_ENCODINGS = [
  "0100000000000000000000000000000000000000000000000000000000000000",
  "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
  "0000000000000000000000000000000000000000000000000000000000000000",
  "0000000000000000000000000000000000000000000000000000000000000080",
  "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
  "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
  "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
  "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
].map((h) => Buffer.from(h, "hex"));

/**
 * The two encodings with x = 0 and the sign bit set, y = 1 and y = p - 1: RFC 8032 §5.1.3 step 4
 * refuses them ("if x = 0 and x_0 = 1, decoding fails"), so they are not canonical.
 */
const NEGATIVE_ZERO_X_ENCODINGS = [
  "0100000000000000000000000000000000000000000000000000000000000080",
  "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
].map((h) => Buffer.from(h, "hex"));

/**
 * PP-KS-013: y (the low 255 bits, little-endian) is below p = 2^255 - 19, whose bytes are ed, then
 * thirty ff, then 7f. Compared from the top byte down, as numbers are.
 */
function yBelowP(encoded: Uint8Array): boolean {
  if (((encoded[31] as number) & 0x7f) !== 0x7f) return true;
  for (let i = 30; i >= 1; i--) if (encoded[i] !== 0xff) return true;
  return (encoded[0] as number) < 0xed;
}

/**
 * Why an encoding is refused by what the bytes alone tell, or null: canonical (PP-KS-013, RFC 8032
 * §5.1.3) and not of small order (PP-KS-014 for keys, PP-KS-016 for R). Whether the bytes are a
 * point of the curve at all takes a square root, which ed25519PointProblem adds for keys; an R off
 * the curve cannot satisfy the verification equation, whose R' is always a point.
 */
export function ed25519EncodingProblem(encoded: Uint8Array): string | null {
  if (encoded.length !== 32) return "Ed25519 point must be 32 bytes";
  if (!yBelowP(encoded) || NEGATIVE_ZERO_X_ENCODINGS.some((bad) => bad.equals(encoded))) return "Ed25519 point is not a canonical encoding"; // PP-KS-013
  if (SMALL_ORDER_ENCODINGS.some((bad) => bad.equals(encoded))) return "Ed25519 point has small order"; // PP-KS-014, PP-KS-016
  return null;
}

/** Why a point encoding is refused, or null when it is a canonical point of the curve and not of small order. */
export function ed25519PointProblem(encoded: Uint8Array): string | null {
  const problem = ed25519EncodingProblem(encoded);
  if (problem) return problem;
  if (!STACK.ed25519Decodes(encoded)) return "Ed25519 point is not on the curve";
  return null;
}

/** Identity keys that passed ed25519PointProblem; cached because decoding a point costs a square root. */
const validKeys = new Set<string>();
const VALID_KEY_CACHE = 4096;

/** Like ed25519PointProblem, but answers from the cache of validated keys when it can. */
export function ed25519KeyProblemCached(publicKey: Uint8Array): string | null {
  const cacheKey = Buffer.from(publicKey).toString("base64");
  if (validKeys.has(cacheKey)) return null;
  const problem = ed25519PointProblem(publicKey);
  if (problem) return problem;
  if (validKeys.size >= VALID_KEY_CACHE) validKeys.delete(validKeys.values().next().value as string);
  validKeys.add(cacheKey);
  return null;
}

/** Throws CryptoError("bad-public-key") for a key that PP-KS-013 / PP-KS-014 refuse. */
export function assertValidEd25519PublicKey(publicKey: Uint8Array): void {
  const problem = ed25519KeyProblemCached(publicKey);
  if (problem) throw new CryptoError("bad-public-key", problem);
}

/** L in 32 little-endian bytes, for the S < L check. */
const ED25519_ORDER_BYTES = Buffer.from(ED25519_ORDER.toString(16).padStart(64, "0"), "hex").reverse();

/** PP-KS-015: S, 32 little-endian bytes, is below L; compared from the top byte down. */
export function scalarBelowOrder(s: Uint8Array): boolean {
  for (let i = 31; i >= 0; i--) {
    const byte = s[i] as number;
    const order = ED25519_ORDER_BYTES[i] as number;
    if (byte !== order) return byte < order;
  }
  return false; // S = L
}

/**
 * Strict verification: canonical, non-small-order key (PP-KS-013/014), S < L (PP-KS-015),
 * canonical, non-small-order R (PP-KS-016), then the RFC 8032 equation by the stack's library.
 * libsodium would refuse most of these by itself and OpenSSL none of them (its S < L check aside):
 * the checks are ours so that the answer does not depend on which library loaded.
 */
export function ed25519VerifyStrict(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (signature.length !== 64) return false;
  if (ed25519KeyProblemCached(publicKey) !== null) return false;
  if (!scalarBelowOrder(signature.subarray(32))) return false;
  if (ed25519EncodingProblem(signature.subarray(0, 32)) !== null) return false;
  return STACK.ed25519Verify(publicKey, message, signature);
}

// ---- AEAD (RFC 8439, or AES-256-GCM when negotiated) ----

// AES-256-GCM stays on node:crypto on both stacks: sodium-native 5.1 binds no crypto_aead_aes256gcm_*
// (and libsodium offers it only on CPUs with AES-NI and PCLMUL).

export function aeadSeal(algorithm: AeadAlgorithm, key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Buffer {
  return algorithm === "aes-256-gcm" ? nodeSeal(algorithm, key, nonce, plaintext, aad) : STACK.chachaSeal(key, nonce, plaintext, aad);
}

/** The plaintext, or null when the tag does not verify. */
export function aeadOpen(algorithm: AeadAlgorithm, key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Buffer | null {
  if (sealed.length < TAG_BYTES) return null;
  return algorithm === "aes-256-gcm" ? nodeOpen(algorithm, key, nonce, sealed, aad) : STACK.chachaOpen(key, nonce, sealed, aad);
}
