/**
 * The key schedule as the probe derives it from spec §7.2 and §8 (labels: spec §17.4).
 */
import { concatBytes, hash, hkdfExpand, hkdfExtract, mac, utf8, type Bytes } from "./crypto.ts";
import { transcriptEncoding } from "./wire.ts";

export const PROTOCOL_NAME = "PeerProtocol_X25519_Ed25519_SHA256_ChaChaPoly";

export function expandLabel(secret: Bytes, label: string, context: Bytes, length: number): Bytes {
  const full = utf8("pp12 " + label);
  const info = concatBytes(Uint8Array.of(length >> 8, length & 0xff, full.length), full, Uint8Array.of(context.length), context);
  return hkdfExpand(secret, info, length);
}

export function sigInput(label: string, h: Bytes, extra: Bytes = new Uint8Array(0)): Bytes {
  return concatBytes(new Uint8Array(64).fill(0x20), utf8("pp12 " + label), Uint8Array.of(0), h, extra);
}

export interface SymmetricState {
  h: Bytes;
  ck: Bytes;
}

export function initialHandshakeState(): SymmetricState {
  const h = hash(utf8(PROTOCOL_NAME));
  return { h, ck: h };
}

export function initialResumeState(resumptionSecret: Bytes): SymmetricState {
  return { h: hash(utf8(PROTOCOL_NAME + " resume")), ck: resumptionSecret };
}

export function mixHash(state: SymmetricState, envelope: object): void {
  state.h = hash(state.h, transcriptEncoding(envelope));
}

/** ck || k = HKDF(salt = ck, ikm, "", 64); returns k. */
export function mixKey(state: SymmetricState, ikm: Bytes): Bytes {
  const out = hkdfExpand(hkdfExtract(state.ck, ikm), new Uint8Array(0), 64);
  state.ck = out.subarray(0, 32);
  return out.subarray(32);
}

export interface TrafficKeys {
  i2rKey: Bytes;
  i2rIv: Bytes;
  r2iKey: Bytes;
  r2iIv: Bytes;
  resumptionSecret: Bytes;
}

export function trafficKeys(ck: Bytes, th: Bytes): TrafficKeys {
  return {
    i2rKey: expandLabel(ck, "i2r key", th, 32),
    i2rIv: expandLabel(ck, "i2r iv", th, 12),
    r2iKey: expandLabel(ck, "r2i key", th, 32),
    r2iIv: expandLabel(ck, "r2i iv", th, 12),
    resumptionSecret: expandLabel(ck, "resumption", th, 32),
  };
}

export const finishedKey = (hs: Bytes, role: "i" | "r", h2: Bytes): Bytes => expandLabel(hs, `${role} finished`, h2, 32);
export const finished = (key: Bytes, h: Bytes): Bytes => mac(key, h);
export const binder = (rs: Bytes, h1: Bytes): Bytes => mac(expandLabel(rs, "res binder", new Uint8Array(0), 32), h1);
export const resumeFinished = (k: Bytes, h2: Bytes): Bytes => mac(expandLabel(k, "res finished", h2, 32), h2);

export function nonceFor(iv: Bytes, seq: number): Bytes {
  const nonce = Uint8Array.from(iv);
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, BigInt(seq));
  for (let i = 0; i < 8; i++) nonce[4 + i] = (nonce[4 + i] as number) ^ view.getUint8(i);
  return nonce;
}
