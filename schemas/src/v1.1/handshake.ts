/**
 * The six-step handshake (spec section 6), v1.1 forms. Steps 1 to 4 are plaintext envelopes
 * (section 6.1); steps 5 and 6 are the first records in each direction, whose inner payload is
 * `{"handshake_hash": b64u(TH)}`.
 *
 * v1.1 has no `versions`, `capabilities` or `limits` (section 3): a v1.1 initiator sends no
 * `versions` and sets the envelope `version` to "1.1" (PP-VER-005).
 */
import { Type, type Static } from "@sinclair/typebox";
import { Base64Url32Schema, described, Ed25519KeySchema, Ed25519SignatureSchema, MacSchema, MAX_SAFE, NonceSchema, SessionIdSchema, X25519KeySchema } from "./common.ts";
import { envelopeMembers, recordEnvelope } from "./envelope.ts";
import { EXAMPLE, recordExample } from "./examples.ts";

const V = "1.1";

// Step 1 ----------------------------------------------------------------------------------------

export const HandshakeInitPayloadSchema = Type.Object(
  {
    ephemeral_key: X25519KeySchema,
    identity_key: Ed25519KeySchema,
  },
  {
    additionalProperties: false,
    description: "HANDSHAKE_INIT payload (section 6.1): the initiator's fresh X25519 ephemeral key (PP-HS-002) and Ed25519 identity key.",
    examples: [{ ephemeral_key: EXAMPLE.keyA, identity_key: EXAMPLE.identityA }],
  },
);
export type HandshakeInitPayload = Static<typeof HandshakeInitPayloadSchema>;

export const HandshakeInitSchema = Type.Object(
  {
    ...envelopeMembers(V, "HANDSHAKE_INIT"),
    nonce: described(Base64Url32Schema, "nonce_I: 32 fresh random bytes (PP-HS-002, PP-RPL-002).", [EXAMPLE.nonceA]),
    payload: HandshakeInitPayloadSchema,
  },
  {
    additionalProperties: false,
    description: "Handshake step 1, initiator to responder, plaintext. No `session_id`: the responder assigns one in step 2.",
    examples: [
      {
        message_id: "msg_init_0001",
        type: "HANDSHAKE_INIT",
        version: V,
        timestamp: EXAMPLE.timestamp,
        sender_id: EXAMPLE.client,
        nonce: EXAMPLE.nonceA,
        payload: { ephemeral_key: EXAMPLE.keyA, identity_key: EXAMPLE.identityA },
      },
    ],
  },
);
export type HandshakeInit = Static<typeof HandshakeInitSchema>;

// Step 2 ----------------------------------------------------------------------------------------

export const HandshakeInitAckPayloadSchema = Type.Object(
  {
    version_selected: Type.Optional(
      Type.Literal(V, { description: "The selected version. A v1.2 responder that selects 1.1 sends it; a v1.1 peer may ignore it (section 3)." }),
    ),
    ephemeral_key: X25519KeySchema,
    identity_key: Ed25519KeySchema,
    challenge: described(Base64Url32Schema, "32 fresh random bytes the initiator signs over (PP-HS-003).", [EXAMPLE.challenge]),
  },
  {
    additionalProperties: false,
    description: "HANDSHAKE_INIT_ACK payload (section 6.1), v1.1: no capabilities or limits.",
    examples: [{ version_selected: V, ephemeral_key: EXAMPLE.keyB, identity_key: EXAMPLE.identityB, challenge: EXAMPLE.challenge }],
  },
);
export type HandshakeInitAckPayload = Static<typeof HandshakeInitAckPayloadSchema>;

export const HandshakeInitAckSchema = Type.Object(
  {
    ...envelopeMembers(V, "HANDSHAKE_INIT_ACK"),
    session_id: described(SessionIdSchema, "The session id the responder assigns (PP-HS-012, PP-TRN-009)."),
    nonce: NonceSchema,
    payload: HandshakeInitAckPayloadSchema,
  },
  {
    additionalProperties: false,
    description: "Handshake step 2, responder to initiator, plaintext.",
    examples: [
      {
        message_id: "msg_ack_0001",
        type: "HANDSHAKE_INIT_ACK",
        version: V,
        timestamp: EXAMPLE.timestamp + 3,
        session_id: EXAMPLE.sessionId,
        sender_id: EXAMPLE.server,
        recipient_id: EXAMPLE.client,
        nonce: EXAMPLE.nonceB,
        payload: { version_selected: V, ephemeral_key: EXAMPLE.keyB, identity_key: EXAMPLE.identityB, challenge: EXAMPLE.challenge },
      },
    ],
  },
);
export type HandshakeInitAck = Static<typeof HandshakeInitAckSchema>;

// Step 3 ----------------------------------------------------------------------------------------

export const ChallengeResponsePayloadSchema = Type.Object(
  {
    signature: described(Ed25519SignatureSchema, "sig_I = Ed25519(IK_I, SigInput(\"initiator signature\", h2, challenge)) (section 7.2).", [EXAMPLE.sigA]),
    finished: described(MacSchema, "fin_I = HMAC(fk_I, h2) (section 7.2).", [EXAMPLE.finishedA]),
  },
  {
    additionalProperties: false,
    description: "CHALLENGE_RESPONSE payload (section 6.1).",
    examples: [{ signature: EXAMPLE.sigA, finished: EXAMPLE.finishedA }],
  },
);
export type ChallengeResponsePayload = Static<typeof ChallengeResponsePayloadSchema>;

export const ChallengeResponseSchema = Type.Object(
  {
    ...envelopeMembers(V, "CHALLENGE_RESPONSE"),
    session_id: described(SessionIdSchema, "The session id of HANDSHAKE_INIT_ACK (PP-TRN-009)."),
    nonce: NonceSchema,
    payload: ChallengeResponsePayloadSchema,
  },
  {
    additionalProperties: false,
    description: "Handshake step 3, initiator to responder, plaintext.",
    examples: [
      {
        message_id: "msg_chal_0001",
        type: "CHALLENGE_RESPONSE",
        version: V,
        timestamp: EXAMPLE.timestamp + 9,
        session_id: EXAMPLE.sessionId,
        sender_id: EXAMPLE.client,
        nonce: EXAMPLE.nonceShort,
        payload: { signature: EXAMPLE.sigA, finished: EXAMPLE.finishedA },
      },
    ],
  },
);
export type ChallengeResponse = Static<typeof ChallengeResponseSchema>;

// Step 4 ----------------------------------------------------------------------------------------

export const SessionEstablishedPayloadSchema = Type.Object(
  {
    session_id: described(SessionIdSchema, "Equals the session_id of HANDSHAKE_INIT_ACK (PP-HS-013)."),
    lifetime_ms: Type.Integer({ minimum: 1, maximum: MAX_SAFE, description: "The session lifetime in milliseconds (section 8).", examples: [86400000] }),
    signature: described(Ed25519SignatureSchema, "sig_R = Ed25519(IK_R, SigInput(\"responder signature\", h3, \"\")) (section 7.2).", [EXAMPLE.sigB]),
    finished: described(MacSchema, "fin_R = HMAC(fk_R, h3) (section 7.2).", [EXAMPLE.finishedB]),
  },
  {
    additionalProperties: false,
    description: "SESSION_ESTABLISHED payload (section 6.1).",
    examples: [{ session_id: EXAMPLE.sessionId, lifetime_ms: 86400000, signature: EXAMPLE.sigB, finished: EXAMPLE.finishedB }],
  },
);
export type SessionEstablishedPayload = Static<typeof SessionEstablishedPayloadSchema>;

export const SessionEstablishedSchema = Type.Object(
  {
    ...envelopeMembers(V, "SESSION_ESTABLISHED"),
    session_id: SessionIdSchema,
    nonce: NonceSchema,
    payload: SessionEstablishedPayloadSchema,
  },
  {
    additionalProperties: false,
    description: "Handshake step 4, responder to initiator, plaintext.",
    examples: [
      {
        message_id: "msg_est_0001",
        type: "SESSION_ESTABLISHED",
        version: V,
        timestamp: EXAMPLE.timestamp + 12,
        session_id: EXAMPLE.sessionId,
        sender_id: EXAMPLE.server,
        recipient_id: EXAMPLE.client,
        nonce: EXAMPLE.nonceB,
        payload: { session_id: EXAMPLE.sessionId, lifetime_ms: 86400000, signature: EXAMPLE.sigB, finished: EXAMPLE.finishedB },
      },
    ],
  },
);
export type SessionEstablished = Static<typeof SessionEstablishedSchema>;

// Steps 5 and 6 ---------------------------------------------------------------------------------

export const HandshakeHashPayloadSchema = Type.Object(
  { handshake_hash: described(MacSchema, "b64u(TH), the transcript hash after step 4 (section 7.2).", [EXAMPLE.hash]) },
  {
    additionalProperties: false,
    description: "Inner payload of SESSION_CONFIRM and READY (section 6.1).",
    examples: [{ handshake_hash: EXAMPLE.hash }],
  },
);
export type HandshakeHashPayload = Static<typeof HandshakeHashPayloadSchema>;
export const SessionConfirmPayloadSchema = described(HandshakeHashPayloadSchema, "SESSION_CONFIRM inner payload: the transcript hash TH, sealed under the i2r keys (section 6.1).");
export type SessionConfirmPayload = Static<typeof SessionConfirmPayloadSchema>;
export const ReadyPayloadSchema = described(HandshakeHashPayloadSchema, "READY inner payload: the transcript hash TH, sealed under the r2i keys (section 6.1).");
export type ReadyPayload = Static<typeof ReadyPayloadSchema>;

export const SessionConfirmSchema = recordEnvelope(V, "SESSION_CONFIRM", {}, {
  description: "Handshake step 5, initiator to responder: record seq 0 under the i2r keys (section 6).",
  examples: [recordExample(V, "SESSION_CONFIRM", 0)],
});
export type SessionConfirm = Static<typeof SessionConfirmSchema>;

export const ReadySchema = recordEnvelope(V, "READY", {}, {
  description: "Handshake step 6, responder to initiator: record seq 0 under the r2i keys (section 6).",
  examples: [recordExample(V, "READY", 0, { sender_id: EXAMPLE.server, recipient_id: EXAMPLE.client })],
});
export type Ready = Static<typeof ReadySchema>;
