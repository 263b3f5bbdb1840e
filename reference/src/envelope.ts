/** The envelope of spec §5 as the reference handles it, and helpers to build plaintext ones. */
import { randomBytes } from "./crypto.ts";
import { toBase64Url } from "./encoding.ts";

export type Version = "1.1" | "1.2";

export interface Envelope {
  message_id: string;
  type: string;
  version: Version;
  timestamp: number;
  seq?: number;
  session_id?: string;
  sender_id: string;
  recipient_id?: string;
  payload: unknown;
  nonce?: string;
  signature?: string;
}

const MESSAGE_ID = /^[A-Za-z0-9_-]{8,128}$/;

/** True for a well-formed message id (spec §5), e.g. before echoing one in related_message_id. */
export function isMessageId(value: unknown): value is string {
  return typeof value === "string" && MESSAGE_ID.test(value);
}

const MESSAGE_ID_PREFIX = toBase64Url(randomBytes(9));
let messageCounter = 0;

/**
 * A fresh message id (PP-ENV-006): 72 random bits fixed per process, then a counter, so ids never
 * repeat for this sender without drawing random bytes for every message on the hot path.
 */
export function newMessageId(): string {
  messageCounter = (messageCounter + 1) % Number.MAX_SAFE_INTEGER;
  return MESSAGE_ID_PREFIX + messageCounter.toString(36);
}

/** A fresh nonce for a plaintext envelope (PP-ENV-010). */
export function newNonce(bytes = 16): string {
  return toBase64Url(randomBytes(bytes));
}

/** Where fresh values come from; tests script it to replay the spec's vectors through real code. */
export interface Entropy {
  bytes(n: number): Buffer;
  messageId(): string;
  nonce(): string;
}

export const systemEntropy: Entropy = { bytes: randomBytes, messageId: newMessageId, nonce: () => newNonce() };

/** A plaintext envelope with a fresh message id and nonce; optional members only when given. */
export function plaintextEnvelope(fields: { type: string; version: Version; sender_id: string; payload: unknown; timestamp: number; session_id?: string; recipient_id?: string; nonce?: string; message_id?: string }): Envelope {
  const envelope: Envelope = {
    message_id: fields.message_id ?? newMessageId(),
    type: fields.type,
    version: fields.version,
    timestamp: fields.timestamp,
    sender_id: fields.sender_id,
    payload: fields.payload,
    nonce: fields.nonce ?? newNonce(),
  };
  if (fields.session_id !== undefined) envelope.session_id = fields.session_id;
  if (fields.recipient_id !== undefined) envelope.recipient_id = fields.recipient_id;
  return envelope;
}
