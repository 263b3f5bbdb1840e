/**
 * Control records: `PING`, `PONG` (PP-DLV-010, PP-LIM-004), `ACK` (section 9), `STATUS`, and
 * `ERROR` (section 12), which is a plaintext envelope before a session and a record inside one.
 */
import { Type, type Static, type TSchema } from "@sinclair/typebox";
import { ERROR_CODES, errorCodesFor, type ErrorCode } from "../registry.ts";
import { described, MessageIdSchema, NonceSchema, SeqSchema, SessionIdSchema, StringEnum, TextSchema, OpaqueIdSchema, whenOneOf, whenPresent } from "./common.ts";
import { envelopeMembers, recordEnvelope, type Annotations } from "./envelope.ts";
import { EXAMPLE, recordExample } from "./examples.ts";

const V = "1.1";

// PING and PONG ---------------------------------------------------------------------------------

export const PingPayloadSchema = Type.Object(
  { ping_id: described(OpaqueIdSchema, "Chosen by the sender of PING; the PONG repeats it (PP-DLV-010).", ["ping-17"]) },
  { additionalProperties: false, description: "PING and PONG inner payload.", examples: [{ ping_id: "ping-17" }] },
);
export type PingPayload = Static<typeof PingPayloadSchema>;
export const PongPayloadSchema = described(PingPayloadSchema, "PONG inner payload: the ping_id of the PING it answers (PP-DLV-010).");
export type PongPayload = Static<typeof PongPayloadSchema>;

export const PingSchema = recordEnvelope(V, "PING", {}, {
  description: "A heartbeat record (PP-LIM-004).",
  examples: [recordExample(V, "PING", 7)],
});
export type Ping = Static<typeof PingSchema>;
export const PongSchema = recordEnvelope(V, "PONG", {}, {
  description: "The answer to a PING (PP-DLV-010).",
  examples: [recordExample(V, "PONG", 8, { sender_id: EXAMPLE.server })],
});
export type Pong = Static<typeof PongSchema>;

// ACK -------------------------------------------------------------------------------------------

export const AckPayloadSchema = Type.Object(
  { ack: described(SeqSchema, "Acknowledges every record with seq <= ack received in the current key epoch (section 9).", [41]) },
  { additionalProperties: false, description: "ACK inner payload: a cumulative acknowledgement (PP-DLV-002).", examples: [{ ack: 41 }] },
);
export type AckPayload = Static<typeof AckPayloadSchema>;
export const AckSchema = recordEnvelope(V, "ACK", {}, {
  description: "A cumulative acknowledgement record (section 9).",
  examples: [recordExample(V, "ACK", 9, { sender_id: EXAMPLE.server })],
});
export type Ack = Static<typeof AckSchema>;

// STATUS ----------------------------------------------------------------------------------------

export const STATUS_STATES = ["online", "busy", "away", "offline"] as const;
export const StatusPayloadSchema = Type.Object(
  {
    state: StringEnum(STATUS_STATES, { description: "The sender's presence state." }),
    detail: Type.Optional(described(TextSchema, "Free text about the state.", ["in a meeting until 15:00"])),
  },
  { additionalProperties: false, description: "STATUS inner payload.", examples: [{ state: "busy", detail: "in a meeting until 15:00" }, { state: "online" }] },
);
export type StatusPayload = Static<typeof StatusPayloadSchema>;
export const StatusSchema = recordEnvelope(V, "STATUS", {}, {
  description: "A presence record.",
  examples: [recordExample(V, "STATUS", 3)],
});
export type Status = Static<typeof StatusSchema>;

// ERROR -----------------------------------------------------------------------------------------

/**
 * The ERROR payload for the error codes of `codes` (registry 17.2). `retryable` must be the
 * registry's value for the code (PP-ERR-002), which the `if`/`then`/`else` below enforces.
 */
export function errorPayloadSchema(codes: readonly ErrorCode[], annotations: Annotations) {
  const retryable = codes.filter((code) => ERROR_CODES[code].retryable);
  return Type.Object(
    {
      code: StringEnum(codes, { description: "A code from the error registry (PP-ERR-001, section 17.2)." }),
      message: described(TextSchema, "What went wrong, for humans; never tokens, keys or secrets (PP-ERR-008)."),
      retryable: Type.Boolean({ description: "The registry's retryable value for the code (PP-ERR-002)." }),
      related_message_id: Type.Optional(described(MessageIdSchema, "The message_id of the message that caused the error (PP-ERR-006, PP-ENV-007).")),
    },
    {
      additionalProperties: false,
      ...(retryable.length === 0
        ? {}
        : {
            if: whenOneOf("code", retryable),
            then: { properties: { retryable: { const: true } } },
            else: { properties: { retryable: { const: false } } },
          }),
      ...annotations,
    },
  );
}

export const ErrorPayloadSchema = errorPayloadSchema(errorCodesFor(V), {
  description: "ERROR payload (section 12), v1.1 codes.",
  examples: [
    { code: "INVALID_MESSAGE", message: "/payload/ephemeral_key must match pattern", retryable: false, related_message_id: "msg_init_0001" },
    { code: "RATE_LIMIT_EXCEEDED", message: "over 100 data messages per minute", retryable: true },
  ],
});
export type ErrorPayload = Static<typeof ErrorPayloadSchema>;

/** The plaintext ERROR (before a session exists) for a given version and payload schema. */
export function plaintextErrorSchema<const VV extends string, P extends TSchema, E extends Record<string, TSchema>>(version: VV, payload: P, extra: E, annotations: Annotations) {
  return Type.Object(
    {
      ...envelopeMembers(version, "ERROR"),
      session_id: Type.Optional(described(SessionIdSchema, "The session the error concerns, when one was assigned.")),
      nonce: NonceSchema,
      payload,
      ...extra,
    },
    { additionalProperties: false, ...annotations },
  );
}

/**
 * ERROR in either form: a record when it has `seq` (inside a session), a plaintext envelope
 * otherwise (section 12; PP-ENV-010).
 */
export function eitherErrorSchema<P extends TSchema, R extends TSchema>(plaintext: P, record: R, annotations: Annotations) {
  return Type.Unsafe<Static<P> | Static<R>>({
    type: "object",
    if: whenPresent("seq"),
    then: record,
    else: plaintext,
    ...annotations,
  });
}

const errorPlaintextExample = {
  message_id: "msg_err_0001",
  type: "ERROR",
  version: V,
  timestamp: EXAMPLE.timestamp + 4,
  sender_id: EXAMPLE.server,
  nonce: EXAMPLE.nonceShort,
  payload: { code: "AUTHENTICATION_FAILED", message: "handshake signature did not verify", retryable: false, related_message_id: "msg_chal_0001" },
};
const errorRecordExample = recordExample(V, "ERROR", 12, { sender_id: EXAMPLE.server });

export const ErrorPlaintextSchema = plaintextErrorSchema(V, ErrorPayloadSchema, {}, {
  description: "ERROR as a plaintext envelope, before a session exists (section 12).",
  examples: [errorPlaintextExample],
});
export type ErrorPlaintext = Static<typeof ErrorPlaintextSchema>;

export const ErrorRecordSchema = recordEnvelope(V, "ERROR", {}, {
  description: "ERROR as a record, inside a session (section 12).",
  examples: [errorRecordExample],
});
export type ErrorRecord = Static<typeof ErrorRecordSchema>;

export const ErrorSchema = eitherErrorSchema(ErrorPlaintextSchema, ErrorRecordSchema, {
  description: "ERROR on the wire: a record when it carries seq, else a plaintext envelope (section 12).",
  examples: [errorPlaintextExample, errorRecordExample],
});
export type ErrorEnvelope = Static<typeof ErrorSchema>;
