/**
 * Session resume, the initiator's side (spec §8): SESSION_RESUME with its binder, then the check of
 * the answer's Finished (PP-SES-009) and the fresh keys. The responder's side is ./resume.ts.
 */
import { constantTimeEqual, generateX25519, type X25519KeyPair } from "../crypto.ts";
import { fromBase64Url, toBase64Url } from "../encoding.ts";
import { plaintextEnvelope, systemEntropy, type Entropy, type Envelope } from "../envelope.ts";
import { ProtocolError } from "../errors.ts";
import { resumeBinder, resumeFinished, sessionKeys, Transcript, type SessionKeys } from "../key-schedule.ts";
import { dh, withoutPayloadMember, type ResumeAckPayload, type ResumePayload } from "./resume.ts";

/** Initiator: builds SESSION_RESUME; `finish` verifies the answer and returns the fresh keys. */
export function startResume(resumptionSecret: Buffer, fields: { sessionId: string; entityId: string; peerId: string; lastRxSeq: number; now: number; ephemeral?: X25519KeyPair; entropy?: Entropy }): { resume: Envelope; finish(ack: Envelope): { keys: SessionKeys; peerLastRxSeq: number } } {
  const ephemeral = fields.ephemeral ?? generateX25519();
  const transcript = Transcript.resume(resumptionSecret);
  const payload: Partial<ResumePayload> = { session_id: fields.sessionId, ephemeral_key: toBase64Url(ephemeral.publicKey), last_rx_seq: fields.lastRxSeq };
  const entropy = fields.entropy ?? systemEntropy;
  const resume = plaintextEnvelope({ type: "SESSION_RESUME", version: "1.2", sender_id: fields.entityId, recipient_id: fields.peerId, session_id: fields.sessionId, timestamp: fields.now, payload, message_id: entropy.messageId(), nonce: entropy.nonce() });
  payload.binder = toBase64Url(resumeBinder(resumptionSecret, transcript.mixHash(withoutPayloadMember(resume, "binder"))));
  return {
    resume,
    finish(ack: Envelope) {
      const ackPayload = ack.payload as ResumeAckPayload;
      if (ackPayload.status !== "READY") throw new ProtocolError("SESSION_NOT_FOUND", `resume answered ${ackPayload.status}`, ack.message_id);
      const h2 = transcript.mixHash(withoutPayloadMember(ack, "finished"));
      const k = transcript.mixKey(dh(ephemeral.privateKey, fromBase64Url(ackPayload.ephemeral_key ?? ""), ack.message_id));
      const finished = fromBase64Url(ackPayload.finished ?? "");
      if (!finished || !constantTimeEqual(finished, resumeFinished(k, h2))) throw new ProtocolError("AUTHENTICATION_FAILED", "resume Finished does not verify", ack.message_id); // PP-SES-009
      return { keys: sessionKeys(transcript.ck, h2), peerLastRxSeq: ackPayload.last_rx_seq ?? -1 };
    },
  };
}
