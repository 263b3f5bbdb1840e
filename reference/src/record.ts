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

/** The string members of a record's AAD, in RFC 8785 order (UTF-16 code units, RFC 8785 §3.2.3). */
const AAD_MEMBERS = new Set(["message_id", "recipient_id", "sender_id", "seq", "session_id", "timestamp", "type", "version", "payload", "signature"]);

/**
 * AAD = JCS(envelope without payload and signature) (PP-KS-007). A record header has known members:
 * strings, and the safe integers seq and timestamp. For those, JCS is written out directly in its
 * sorted member order: a string is serialized as JSON.stringify does (RFC 8785 §3.2.2.2) and a safe
 * integer as its decimal digits (RFC 8785 §3.2.2.3; -0 is "0"). A header with any other member, or
 * a member of another type, goes through the general canonicalization: the AAD covers unknown
 * members too (PP-VER-001 ignores them, the AEAD does not).
 */
export function recordAad(header: RecordHeader): Buffer {
  if (!knownHeader(header)) return jcs(without(header, "payload", "signature"));
  // An undefined member has no JSON form and is left out, as `canonicalize` leaves it out.
  const recipient = header.recipient_id === undefined ? "" : `"recipient_id":${jsonString(header.recipient_id)},`;
  return Buffer.from(
    `{"message_id":${jsonString(header.message_id)},${recipient}"sender_id":${jsonString(header.sender_id)},"seq":${String(header.seq)},"session_id":${jsonString(header.session_id)},"timestamp":${String(header.timestamp)},"type":${jsonString(header.type)},"version":${jsonString(header.version)}}`,
    "utf8",
  );
}

/**
 * A string as JSON.stringify (and so RFC 8785 §3.2.2.2) writes it. The header's strings are nearly
 * always ids of letters, digits and `_.:-`, which need no escaping: those are quoted as they are,
 * at half the cost of JSON.stringify; anything else goes through it.
 */
function jsonString(text: string): string {
  return text.length <= 256 && PLAIN.test(text) ? `"${text}"` : JSON.stringify(text);
}

const PLAIN = /^[\w.:-]*$/;

/** A header of the known members only, each of its type: strings, and the safe integers seq and timestamp. */
function knownHeader(header: RecordHeader): boolean {
  if (!(typeof header.message_id === "string" && typeof header.type === "string" && typeof header.version === "string" && typeof header.session_id === "string" && typeof header.sender_id === "string" && Number.isSafeInteger(header.seq) && Number.isSafeInteger(header.timestamp) && (header.recipient_id === undefined || typeof header.recipient_id === "string"))) return false;
  for (const member in header) if (!AAD_MEMBERS.has(member)) return false;
  return true;
}

/**
 * The payload string `sealRecord` encoded, by record: base64url, so it needs no JSON escaping. A
 * record whose payload was replaced since no longer matches it; a copy of a record is not in it.
 */
const encodedPayloads = new WeakMap<RecordEnvelope, string>();

/**
 * The JSON text of a record as it goes on the wire: the same members and values as
 * JSON.stringify(record) (perhaps in another order), written out directly for a record that
 * `sealRecord` made and nobody gave other members since. JSON.stringify
 * scans every character of the ciphertext for escaping, the costliest part of sending a record
 * (spec §7.3 allows any member order).
 */
export function recordText(record: RecordEnvelope): string {
  const encoded = encodedPayloads.get(record);
  if (encoded === undefined || encoded !== record.payload || !knownHeader(record) || (record.signature !== undefined && typeof record.signature !== "string")) return JSON.stringify(record);
  const recipient = record.recipient_id === undefined ? "" : `,"recipient_id":${jsonString(record.recipient_id)}`;
  const signature = record.signature === undefined ? "" : `,"signature":${jsonString(record.signature)}`;
  return `{"message_id":${jsonString(record.message_id)},"type":${jsonString(record.type)},"version":${jsonString(record.version)},"timestamp":${String(record.timestamp)},"seq":${String(record.seq)},"session_id":${jsonString(record.session_id)},"sender_id":${jsonString(record.sender_id)}${recipient},"payload":"${record.payload}"${signature}}`;
}

/** The JSON text of any envelope: a record through `recordText`, anything else through JSON.stringify. */
export function envelopeText(message: object): string {
  return typeof (message as { payload?: unknown }).payload === "string" && typeof (message as { seq?: unknown }).seq === "number" ? recordText(message as RecordEnvelope) : JSON.stringify(message);
}

/**
 * `plaintext` is JSON.stringify(inner) as UTF-8 when the caller already made it. The plaintext need
 * not be canonical (spec §7.3): JSON.stringify is twice as fast as JCS here.
 */
export function sealRecord(algorithm: AeadAlgorithm, keys: DirectionKeys, header: RecordHeader, inner: unknown, plaintext: Uint8Array = Buffer.from(JSON.stringify(inner), "utf8")): RecordEnvelope {
  const aad = recordAad(header);
  const sealed = aeadSeal(algorithm, keys.key, recordNonce(keys.iv, header.seq), plaintext, aad);
  const record: RecordEnvelope = { ...header, payload: toBase64Url(sealed) };
  encodedPayloads.set(record, record.payload);
  return record;
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

/**
 * The decrypted inner payload, or null when the record does not authenticate (PP-KS-008). `sealed`
 * is the decoded payload when the receiver already decoded it, strictly, where it checked the
 * envelope (PP-ENV-004).
 */
export function openRecord(algorithm: AeadAlgorithm, keys: DirectionKeys, envelope: RecordEnvelope, sealed: Buffer | null = fromBase64Url(envelope.payload)): unknown | null {
  if (!sealed) return null;
  const plaintext = aeadOpen(algorithm, keys.key, recordNonce(keys.iv, envelope.seq), sealed, recordAad(envelope));
  if (!plaintext) return null;
  try {
    return JSON.parse(plaintext.toString("utf8"));
  } catch {
    throw new RecordPlaintextError("record plaintext is not JSON");
  }
}
