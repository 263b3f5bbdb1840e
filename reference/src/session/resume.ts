/**
 * Session resume (spec §8): the binder proves possession of the resumption secret over a fresh
 * ephemeral DH; the answer's Finished proves the responder's; both derive fresh traffic keys and
 * the next resumption secret, which replaces the used one (PP-SES-007).
 *
 *   Initiator                                          Responder
 *     | SESSION_RESUME {session_id, e_I', last_rx_seq, binder} -->|  verify binder (PP-SES-002)
 *     |<-- SESSION_RESUME_ACK {status READY, e_R', last_rx_seq, finished}
 *
 * This file holds the responder's side and what both sides share; the initiator's side is
 * ./resume-initiator.ts.
 */
import { constantTimeEqual, CryptoError, generateX25519, x25519, type X25519KeyPair } from "../crypto.ts";
import { fromBase64Url, toBase64Url, without } from "../encoding.ts";
import { plaintextEnvelope, systemEntropy, type Entropy, type Envelope } from "../envelope.ts";
import { ProtocolError } from "../errors.ts";
import { resumeBinder, resumeFinished, sessionKeys, Transcript, type SessionKeys } from "../key-schedule.ts";

export interface ResumePayload {
  session_id: string;
  ephemeral_key: string;
  last_rx_seq: number;
  binder: string;
}

export interface ResumeAckPayload {
  status: "READY" | "EXPIRED" | "ERROR" | "NOT_FOUND";
  ephemeral_key?: string;
  last_rx_seq?: number;
  finished?: string;
}

export function withoutPayloadMember(envelope: Envelope, member: string): Envelope {
  return { ...envelope, payload: without(envelope.payload as object, member) };
}

export function dh(privateKey: X25519KeyPair["privateKey"], peer: Buffer | null, messageId: string): Buffer {
  if (!peer || peer.length !== 32) throw new ProtocolError("INVALID_MESSAGE", "ephemeral_key must be 32 bytes", messageId);
  try {
    return x25519(privateKey, peer);
  } catch (error) {
    if (error instanceof CryptoError) throw new ProtocolError("AUTHENTICATION_FAILED", "X25519 shared secret is all zero", messageId);
    throw error;
  }
}

/** Responder: verifies the binder and returns the READY answer and the fresh keys. */
export function acceptResume(resumptionSecret: Buffer, resume: Envelope, answer: { serverId: string; now: number; lastRxSeq: number; ephemeral?: X25519KeyPair; entropy?: Entropy }): { ack: Envelope; keys: SessionKeys; peerLastRxSeq: number } {
  const payload = resume.payload as ResumePayload;
  const transcript = Transcript.resume(resumptionSecret);
  const h1 = transcript.mixHash(withoutPayloadMember(resume, "binder"));
  const binder = fromBase64Url(payload.binder);
  if (!binder || !constantTimeEqual(binder, resumeBinder(resumptionSecret, h1))) throw new ProtocolError("AUTHENTICATION_FAILED", "resume binder does not verify", resume.message_id); // PP-SES-002, PP-SES-003
  const ephemeral = answer.ephemeral ?? generateX25519();
  const ackPayload: ResumeAckPayload = { status: "READY", ephemeral_key: toBase64Url(ephemeral.publicKey), last_rx_seq: answer.lastRxSeq };
  const entropy = answer.entropy ?? systemEntropy;
  const ack = plaintextEnvelope({ type: "SESSION_RESUME_ACK", version: "1.2", sender_id: answer.serverId, recipient_id: resume.sender_id, session_id: payload.session_id, timestamp: answer.now, payload: ackPayload, message_id: entropy.messageId(), nonce: entropy.nonce() });
  const h2 = transcript.mixHash(ack);
  const k = transcript.mixKey(dh(ephemeral.privateKey, fromBase64Url(payload.ephemeral_key), resume.message_id));
  ackPayload.finished = toBase64Url(resumeFinished(k, h2));
  return { ack, keys: sessionKeys(transcript.ck, h2), peerLastRxSeq: payload.last_rx_seq };
}

/** Responder: an answer that ends the resume attempt without resuming (EXPIRED, ERROR, NOT_FOUND). */
export function resumeRefusal(resume: Envelope, status: "EXPIRED" | "ERROR" | "NOT_FOUND", serverId: string, now: number, error?: ProtocolError): Envelope {
  const payload: Record<string, unknown> = { status };
  if (error) payload.error = error.toPayload();
  const fields: Parameters<typeof plaintextEnvelope>[0] = { type: "SESSION_RESUME_ACK", version: "1.2", sender_id: serverId, recipient_id: resume.sender_id, timestamp: now, payload };
  if (typeof resume.session_id === "string") fields.session_id = resume.session_id;
  return plaintextEnvelope(fields);
}
