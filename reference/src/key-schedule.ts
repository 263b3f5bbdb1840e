/**
 * The key schedule of spec §7 and §8: transcript hash, chaining key, Finished keys, traffic keys,
 * IVs, resumption secret and the resume binder. Every label comes from the registry of spec §17.4
 * (PP-KS-002).
 */
import { hkdf, hkdfExpand, hmacSha256, sha256 } from "./crypto.ts";
import { encodeForTranscript } from "./encoding.ts";

export const PROTOCOL_NAME = "PeerProtocol_X25519_Ed25519_SHA256_ChaChaPoly";
const LABEL_PREFIX = "pp12 ";

export type ExpandLabel = "i finished" | "r finished" | "i2r key" | "i2r iv" | "r2i key" | "r2i iv" | "resumption" | "res binder" | "res finished";
export type SignatureLabel = "initiator signature" | "responder signature" | "record signature" | "token challenge";

/** Expand(S, label, ctx, n) = HKDF-Expand(S, u16be(n) || u8(len L) || L || u8(len ctx) || ctx, n), L = "pp12 " || label. */
export function expandLabel(secret: Uint8Array, label: ExpandLabel, context: Uint8Array, length: number): Buffer {
  const fullLabel = Buffer.from(LABEL_PREFIX + label, "ascii");
  const info = Buffer.concat([Buffer.from([length >> 8, length & 0xff, fullLabel.length]), fullLabel, Buffer.from([context.length]), context]);
  return hkdfExpand(secret, info, length);
}

const SIGNATURE_PAD = Buffer.alloc(64, 0x20);

/** SigInput(label, h, extra) = 0x20*64 || "pp12 " || label || 0x00 || h || extra (PP-KS-004). */
export function signatureInput(label: SignatureLabel, hash: Uint8Array, extra: Uint8Array = Buffer.alloc(0)): Buffer {
  return Buffer.concat([SIGNATURE_PAD, Buffer.from(LABEL_PREFIX + label, "ascii"), Buffer.from([0]), hash, extra]);
}

/** Noise-style symmetric state: the transcript hash h and the chaining key ck. */
export class Transcript {
  private constructor(
    public h: Buffer,
    public ck: Buffer,
  ) {}

  /** h = ck = SHA-256(PROTOCOL_NAME) (spec §7.2). */
  static handshake(): Transcript {
    const h = sha256(Buffer.from(PROTOCOL_NAME, "ascii"));
    return new Transcript(h, h);
  }

  /** h = SHA-256(PROTOCOL_NAME || " resume"), ck = rs (spec §8). */
  static resume(resumptionSecret: Uint8Array): Transcript {
    return new Transcript(sha256(Buffer.from(PROTOCOL_NAME + " resume", "ascii")), Buffer.from(resumptionSecret));
  }

  /** MixHash(m): h = SHA-256(h || Enc(m)). */
  mixHash(envelope: object): Buffer {
    this.h = sha256(this.h, encodeForTranscript(envelope));
    return this.h;
  }

  /** MixKey(ikm): ck || k = HKDF(salt = ck, ikm, 64); returns k. */
  mixKey(ikm: Uint8Array): Buffer {
    const output = hkdf(this.ck, ikm, 64);
    this.ck = output.subarray(0, 32);
    return output.subarray(32, 64);
  }
}

export interface DirectionKeys {
  key: Buffer;
  iv: Buffer;
}

export interface SessionKeys {
  i2r: DirectionKeys;
  r2i: DirectionKeys;
  resumptionSecret: Buffer;
  handshakeHash: Buffer;
}

export function finishedKeys(handshakeSecret: Uint8Array, h2: Uint8Array): { initiator: Buffer; responder: Buffer } {
  return { initiator: expandLabel(handshakeSecret, "i finished", h2, 32), responder: expandLabel(handshakeSecret, "r finished", h2, 32) };
}

export function finishedMac(finishedKey: Uint8Array, hash: Uint8Array): Buffer {
  return hmacSha256(finishedKey, hash);
}

/** Traffic keys, IVs and the resumption secret from ck and the final transcript hash TH. */
export function sessionKeys(ck: Uint8Array, handshakeHash: Uint8Array): SessionKeys {
  return {
    i2r: { key: expandLabel(ck, "i2r key", handshakeHash, 32), iv: expandLabel(ck, "i2r iv", handshakeHash, 12) },
    r2i: { key: expandLabel(ck, "r2i key", handshakeHash, 32), iv: expandLabel(ck, "r2i iv", handshakeHash, 12) },
    resumptionSecret: expandLabel(ck, "resumption", handshakeHash, 32),
    handshakeHash: Buffer.from(handshakeHash),
  };
}

/** binder = HMAC(Expand(rs, "res binder", "", 32), h1) (spec §8). */
export function resumeBinder(resumptionSecret: Uint8Array, h1: Uint8Array): Buffer {
  return hmacSha256(expandLabel(resumptionSecret, "res binder", Buffer.alloc(0), 32), h1);
}

/** finished = HMAC(Expand(k, "res finished", h2, 32), h2) (spec §8). */
export function resumeFinished(mixKeyOutput: Uint8Array, h2: Uint8Array): Buffer {
  return hmacSha256(expandLabel(mixKeyOutput, "res finished", h2, 32), h2);
}

/** nonce = iv XOR (0x00000000 || u64be(seq)) (PP-KS-006). */
export function recordNonce(iv: Uint8Array, seq: number): Buffer {
  const nonce = Buffer.from(iv);
  // u64be(seq) as two u32be halves: seq is at most 2^53 - 1 (PP-KS-005), so it needs no BigInt.
  nonce.writeUInt32BE((nonce.readUInt32BE(4) ^ Math.floor(seq / 0x1_0000_0000)) >>> 0, 4);
  nonce.writeUInt32BE((nonce.readUInt32BE(8) ^ seq) >>> 0, 8);
  return nonce;
}
