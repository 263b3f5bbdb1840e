/**
 * Session resume (section 8): `SESSION_RESUME` and `SESSION_RESUME_ACK`, plaintext envelopes sent
 * as the first frames of a connection opened with `?session_id=<id>` (PP-SES-001).
 */
import { Type, type Static } from "@sinclair/typebox";
import { clause, described, MacSchema, MAX_SAFE, NonceSchema, SessionIdSchema, StringEnum, whenOneOf, X25519KeySchema } from "../v1.1/common.ts";
import { EXAMPLE } from "../v1.1/examples.ts";
import { ErrorPayloadSchema } from "./control.ts";
import { envelopeMembers12, V } from "./envelope.ts";

const LastRxSeqSchema = Type.Integer({
  minimum: -1,
  maximum: MAX_SAFE,
  description: "The highest seq received from the peer in the previous key epoch, or -1 for none (PP-SES-010).",
  examples: [41, -1],
});

export const SessionResumePayloadSchema = Type.Object(
  {
    session_id: described(SessionIdSchema, "The session to resume."),
    ephemeral_key: described(X25519KeySchema, "A fresh X25519 ephemeral key e_I' (section 8).", [EXAMPLE.keyC]),
    last_rx_seq: LastRxSeqSchema,
    binder: described(MacSchema, "HMAC(Expand(rs, \"res binder\", \"\", 32), h1): proof of the resumption secret (PP-SES-002).", [EXAMPLE.binder]),
  },
  {
    additionalProperties: false,
    description: "SESSION_RESUME payload (section 8).",
    examples: [{ session_id: EXAMPLE.sessionId, ephemeral_key: EXAMPLE.keyC, last_rx_seq: 41, binder: EXAMPLE.binder }],
  },
);
export type SessionResumePayload = Static<typeof SessionResumePayloadSchema>;

const resumeExample = {
  message_id: "msg_resume_0001",
  type: "SESSION_RESUME",
  version: V,
  timestamp: EXAMPLE.timestamp + 60_000,
  session_id: EXAMPLE.sessionId,
  sender_id: EXAMPLE.client,
  nonce: EXAMPLE.nonceA,
  payload: SessionResumePayloadSchema.examples[0],
};

export const SessionResumeSchema = Type.Object(
  {
    ...envelopeMembers12("SESSION_RESUME"),
    session_id: Type.Optional(described(SessionIdSchema, "The session being resumed; when present, equal to payload.session_id.")),
    nonce: described(NonceSchema, "A fresh random value, never reused for the session (PP-RPL-006)."),
    payload: SessionResumePayloadSchema,
  },
  {
    additionalProperties: false,
    description: "Resume step 1, initiator to responder, plaintext; the first frame of a resumed connection (PP-SES-001).",
    examples: [resumeExample],
  },
);
export type SessionResume = Static<typeof SessionResumeSchema>;

export const RESUME_STATUSES = ["READY", "EXPIRED", "ERROR", "NOT_FOUND"] as const;
const READY_MEMBERS = ["ephemeral_key", "last_rx_seq", "finished"];

/**
 * `READY` carries the fresh key, `last_rx_seq` and `finished`; `ERROR` carries `error`; `EXPIRED`
 * and `NOT_FOUND` carry only the status (section 8).
 */
export const SessionResumeAckPayloadSchema = Type.Object(
  {
    status: StringEnum(RESUME_STATUSES, { description: "The outcome of the resume (section 8; PP-SES-003 to PP-SES-005)." }),
    ephemeral_key: Type.Optional(described(X25519KeySchema, "With READY: a fresh X25519 ephemeral key e_R' (section 8).", [EXAMPLE.keyD])),
    last_rx_seq: Type.Optional(LastRxSeqSchema),
    finished: Type.Optional(described(MacSchema, "With READY: HMAC(rfk, h2) (section 8; PP-SES-009).", [EXAMPLE.finishedB])),
    error: Type.Optional(described(ErrorPayloadSchema, "With ERROR: why the resume was refused, e.g. AUTHENTICATION_FAILED for a wrong binder (PP-SES-003).")),
  },
  {
    additionalProperties: false,
    description: "SESSION_RESUME_ACK payload (section 8).",
    allOf: [
      { if: whenOneOf("status", ["READY"]), then: clause({ present: READY_MEMBERS, absent: ["error"] }) },
      { if: whenOneOf("status", ["ERROR"]), then: clause({ present: ["error"], absent: READY_MEMBERS }) },
      { if: whenOneOf("status", ["EXPIRED", "NOT_FOUND"]), then: clause({ absent: [...READY_MEMBERS, "error"] }) },
    ],
    examples: [
      { status: "READY", ephemeral_key: EXAMPLE.keyD, last_rx_seq: 17, finished: EXAMPLE.finishedB },
      { status: "ERROR", error: { code: "AUTHENTICATION_FAILED", message: "binder did not verify", retryable: false, related_message_id: "msg_resume_0001" } },
      { status: "NOT_FOUND" },
    ],
  },
);
export type SessionResumeAckPayload = Static<typeof SessionResumeAckPayloadSchema>;

export const SessionResumeAckSchema = Type.Object(
  {
    ...envelopeMembers12("SESSION_RESUME_ACK"),
    session_id: Type.Optional(described(SessionIdSchema, "The session the resume asked for.")),
    nonce: NonceSchema,
    payload: SessionResumeAckPayloadSchema,
  },
  {
    additionalProperties: false,
    description: "Resume step 2, responder to initiator, plaintext.",
    examples: [
      {
        message_id: "msg_resack_0001",
        type: "SESSION_RESUME_ACK",
        version: V,
        timestamp: EXAMPLE.timestamp + 60_004,
        session_id: EXAMPLE.sessionId,
        sender_id: EXAMPLE.server,
        recipient_id: EXAMPLE.client,
        nonce: EXAMPLE.nonceB,
        payload: SessionResumeAckPayloadSchema.examples[0],
      },
    ],
  },
);
export type SessionResumeAck = Static<typeof SessionResumeAckSchema>;
