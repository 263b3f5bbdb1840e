/**
 * The six-step handshake (section 6), v1.2 forms. v1.2 adds to v1.1: `versions` and
 * `capabilities` in HANDSHAKE_INIT (PP-VER-002), `version_selected`, the selected `capabilities`
 * and the `limits` in HANDSHAKE_INIT_ACK (PP-VER-003, PP-HS-015, PP-CAP-002). Steps 3 to 6 carry
 * the v1.1 payloads in v1.2 envelopes.
 */
import { Type, type Static } from "@sinclair/typebox";
import { DEFAULT_LIMITS, VERSIONS } from "../registry.ts";
import { described, NonceSchema, SessionIdSchema, StringEnum } from "../v1.1/common.ts";
import { EXAMPLE, recordExample } from "../v1.1/examples.ts";
import * as v11 from "../v1.1/handshake.ts";
import { CapabilityListSchema } from "./capabilities.ts";
import { envelopeMembers12, recordEnvelope12, V } from "./envelope.ts";
import { LimitsSchema } from "./limits.ts";

export const VersionSchema = StringEnum(VERSIONS, { description: "A protocol version (section 3)." });

/**
 * An offered version: any `MAJOR.MINOR` string, not only the versions this document defines, so that
 * an initiator of a later version can offer it first and still meet a v1.2 responder, which skips
 * what it does not support (PP-VER-012). A string of another form is a schema violation.
 */
export const OfferedVersionSchema = Type.String({ pattern: "^(0|[1-9][0-9]{0,3})[.](0|[1-9][0-9]{0,3})$", description: "An offered protocol version, MAJOR.MINOR (PP-VER-012).", examples: ["1.2", "1.3"] });

export const VersionListSchema = Type.Array(OfferedVersionSchema, {
  minItems: 1,
  maxItems: 16,
  uniqueItems: true,
  description: "Every version the initiator will speak, most preferred first (PP-VER-002); versions the responder does not know are skipped (PP-VER-012).",
  examples: [["1.2", "1.1"], ["1.2"], ["1.3", "1.2"]],
});

// Step 1 ----------------------------------------------------------------------------------------

export const HandshakeInitPayloadSchema = Type.Object(
  {
    versions: VersionListSchema,
    ...v11.HandshakeInitPayloadSchema.properties,
    capabilities: described(CapabilityListSchema, "The capabilities the initiator offers (section 11).", [["websocket", "resume", "chunking", "events"]]),
  },
  {
    additionalProperties: false,
    description: "HANDSHAKE_INIT payload (section 6.1), v1.2: the offered versions and capabilities are in the signed transcript.",
    examples: [{ versions: ["1.2", "1.1"], ephemeral_key: EXAMPLE.keyA, identity_key: EXAMPLE.identityA, capabilities: ["websocket", "resume", "chunking", "events"] }],
  },
);
export type HandshakeInitPayload = Static<typeof HandshakeInitPayloadSchema>;

const initExample = {
  message_id: "msg_init_0001",
  type: "HANDSHAKE_INIT",
  version: V,
  timestamp: EXAMPLE.timestamp,
  sender_id: EXAMPLE.client,
  nonce: EXAMPLE.nonceA,
  payload: HandshakeInitPayloadSchema.examples[0],
};

export const HandshakeInitSchema = Type.Object(
  {
    ...envelopeMembers12("HANDSHAKE_INIT"),
    nonce: v11.HandshakeInitSchema.properties.nonce,
    payload: HandshakeInitPayloadSchema,
  },
  {
    additionalProperties: false,
    description: "Handshake step 1, initiator to responder, plaintext. No `session_id`: the responder assigns one in step 2.",
    examples: [initExample],
  },
);
export type HandshakeInit = Static<typeof HandshakeInitSchema>;

// Step 2 ----------------------------------------------------------------------------------------

export const HandshakeInitAckPayloadSchema = Type.Object(
  {
    version_selected: Type.Literal(V, { description: "The first offered version the responder supports (PP-VER-003); a 1.1 selection uses the v1.1 schema." }),
    ephemeral_key: v11.HandshakeInitAckPayloadSchema.properties.ephemeral_key,
    identity_key: described(v11.HandshakeInitAckPayloadSchema.properties.identity_key, "The responder's identity key, the one in discovery (PP-TRN-016, PP-HS-016).", [EXAMPLE.identityB]),
    challenge: v11.HandshakeInitAckPayloadSchema.properties.challenge,
    capabilities: described(CapabilityListSchema, "The selected subset of the offered capabilities (PP-HS-015).", [["websocket", "resume", "chunking"]]),
    limits: LimitsSchema,
  },
  {
    additionalProperties: false,
    description: "HANDSHAKE_INIT_ACK payload (section 6.1), v1.2.",
    examples: [
      {
        version_selected: V,
        ephemeral_key: EXAMPLE.keyB,
        identity_key: EXAMPLE.identityB,
        challenge: EXAMPLE.challenge,
        capabilities: ["websocket", "resume", "chunking"],
        limits: { ...DEFAULT_LIMITS },
      },
    ],
  },
);
export type HandshakeInitAckPayload = Static<typeof HandshakeInitAckPayloadSchema>;

export const HandshakeInitAckSchema = Type.Object(
  {
    ...envelopeMembers12("HANDSHAKE_INIT_ACK"),
    session_id: v11.HandshakeInitAckSchema.properties.session_id,
    nonce: NonceSchema,
    payload: HandshakeInitAckPayloadSchema,
  },
  {
    additionalProperties: false,
    description: "Handshake step 2, responder to initiator, plaintext.",
    examples: [{ ...v11.HandshakeInitAckSchema.examples[0], version: V, payload: HandshakeInitAckPayloadSchema.examples[0] }],
  },
);
export type HandshakeInitAck = Static<typeof HandshakeInitAckSchema>;

// Steps 3 and 4 ---------------------------------------------------------------------------------

export const ChallengeResponsePayloadSchema = v11.ChallengeResponsePayloadSchema;
export type ChallengeResponsePayload = Static<typeof ChallengeResponsePayloadSchema>;

export const ChallengeResponseSchema = Type.Object(
  { ...envelopeMembers12("CHALLENGE_RESPONSE"), session_id: v11.ChallengeResponseSchema.properties.session_id, nonce: NonceSchema, payload: ChallengeResponsePayloadSchema },
  {
    additionalProperties: false,
    description: "Handshake step 3, initiator to responder, plaintext.",
    examples: [{ ...v11.ChallengeResponseSchema.examples[0], version: V }],
  },
);
export type ChallengeResponse = Static<typeof ChallengeResponseSchema>;

export const SessionEstablishedPayloadSchema = v11.SessionEstablishedPayloadSchema;
export type SessionEstablishedPayload = Static<typeof SessionEstablishedPayloadSchema>;

export const SessionEstablishedSchema = Type.Object(
  { ...envelopeMembers12("SESSION_ESTABLISHED"), session_id: SessionIdSchema, nonce: NonceSchema, payload: SessionEstablishedPayloadSchema },
  {
    additionalProperties: false,
    description: "Handshake step 4, responder to initiator, plaintext.",
    examples: [{ ...v11.SessionEstablishedSchema.examples[0], version: V }],
  },
);
export type SessionEstablished = Static<typeof SessionEstablishedSchema>;

// Steps 5 and 6 ---------------------------------------------------------------------------------

export const SessionConfirmPayloadSchema = v11.SessionConfirmPayloadSchema;
export type SessionConfirmPayload = Static<typeof SessionConfirmPayloadSchema>;
export const ReadyPayloadSchema = v11.ReadyPayloadSchema;
export type ReadyPayload = Static<typeof ReadyPayloadSchema>;

export const SessionConfirmSchema = recordEnvelope12("SESSION_CONFIRM", {}, {
  description: "Handshake step 5, initiator to responder: record seq 0 under the i2r keys (section 6).",
  examples: [recordExample(V, "SESSION_CONFIRM", 0)],
});
export type SessionConfirm = Static<typeof SessionConfirmSchema>;

export const ReadySchema = recordEnvelope12("READY", {}, {
  description: "Handshake step 6, responder to initiator: record seq 0 under the r2i keys (section 6).",
  examples: [recordExample(V, "READY", 0, { sender_id: EXAMPLE.server, recipient_id: EXAMPLE.client, signature: EXAMPLE.sigC })],
});
export type Ready = Static<typeof ReadySchema>;
