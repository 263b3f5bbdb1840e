/**
 * Records (spec §7.3): an envelope whose payload is the AEAD seal of the inner payload's JSON under the
 * direction's key, with nonce = iv XOR seq (PP-KS-006) and AAD = JCS(envelope without payload and
 * signature) (PP-KS-007).
 */
import { aeadOpen, aeadSeal, TAG_BYTES, type AeadAlgorithm } from "./crypto.ts";
import { fromBase64Url, jcs, toBase64Url, without } from "./encoding.ts";
import { recordNonce, type DirectionKeys } from "./key-schedule.ts";

export interface RecordHeader {
  message_id: string;
  type: string;
  version: string;
  timestamp: number;
  seq: number;
  session_id: string;
  sender_id: string;
  recipient_id?: string;
  [member: string]: unknown;
}

export interface RecordEnvelope extends RecordHeader {
  payload: string;
  signature?: string;
}

export function sealRecord(algorithm: AeadAlgorithm, keys: DirectionKeys, header: RecordHeader, inner: unknown): RecordEnvelope {
  const aad = jcs(without(header, "payload", "signature"));
  // The plaintext need not be canonical (spec §7.3): JSON.stringify is twice as fast as JCS here.
  const sealed = aeadSeal(algorithm, keys.key, recordNonce(keys.iv, header.seq), Buffer.from(JSON.stringify(inner), "utf8"), aad);
  return { ...header, payload: toBase64Url(sealed) };
}

/**
 * The length of a record's plaintext, read from its sealed payload: base64url without padding
 * carries 3 bytes in every 4 characters, and the AEAD tag adds 16 bytes (spec §7.3). It is the size
 * of a data record (PP-DLV-014).
 */
export function plaintextLength(envelope: { payload: string }): number {
  return Math.max(0, Math.floor((envelope.payload.length * 3) / 4) - TAG_BYTES);
}

/** Thrown when a record authenticates but its plaintext is not JSON (PP-KS-010: INVALID_MESSAGE). */
export class RecordPlaintextError extends Error {}

/** The decrypted inner payload, or null when the record does not authenticate (PP-KS-008). */
export function openRecord(algorithm: AeadAlgorithm, keys: DirectionKeys, envelope: RecordEnvelope): unknown | null {
  const sealed = fromBase64Url(envelope.payload);
  if (!sealed) return null;
  const plaintext = aeadOpen(algorithm, keys.key, recordNonce(keys.iv, envelope.seq), sealed, jcs(without(envelope, "payload", "signature")));
  if (!plaintext) return null;
  try {
    return JSON.parse(plaintext.toString("utf8"));
  } catch {
    throw new RecordPlaintextError("record plaintext is not JSON");
  }
}
