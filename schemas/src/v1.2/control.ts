/**
 * Control records of v1.2: the v1.1 `PING`, `PONG`, `ACK`, `STATUS` and `ERROR` (with the v1.2
 * error codes), and the new `CAPABILITY_EXCHANGE` (section 11) and `BYE` (PP-SES-015).
 */
import { Type, type Static } from "@sinclair/typebox";
import { DEFAULT_LIMITS, errorCodesFor, VERSIONS } from "../registry.ts";
import { described, StringEnum, TextSchema } from "../v1.1/common.ts";
import * as v11 from "../v1.1/control.ts";
import { EXAMPLE, recordExample } from "../v1.1/examples.ts";
import { CapabilityListSchema } from "./capabilities.ts";
import { recordEnvelope12, signatureMember, V } from "./envelope.ts";
import { LimitsSchema } from "./limits.ts";

// PING, PONG, ACK, STATUS -----------------------------------------------------------------------

export const PingPayloadSchema = v11.PingPayloadSchema;
export type PingPayload = Static<typeof PingPayloadSchema>;
export const PongPayloadSchema = v11.PongPayloadSchema;
export type PongPayload = Static<typeof PongPayloadSchema>;
export const AckPayloadSchema = v11.AckPayloadSchema;
export type AckPayload = Static<typeof AckPayloadSchema>;
export const StatusPayloadSchema = v11.StatusPayloadSchema;
export type StatusPayload = Static<typeof StatusPayloadSchema>;

export const PingSchema = recordEnvelope12("PING", {}, { description: "A heartbeat record (PP-LIM-004).", examples: [recordExample(V, "PING", 7)] });
export type Ping = Static<typeof PingSchema>;
export const PongSchema = recordEnvelope12("PONG", {}, {
  description: "The answer to a PING (PP-DLV-010).",
  examples: [recordExample(V, "PONG", 8, { sender_id: EXAMPLE.server })],
});
export type Pong = Static<typeof PongSchema>;
export const AckSchema = recordEnvelope12("ACK", {}, {
  description: "A cumulative acknowledgement record (section 9).",
  examples: [recordExample(V, "ACK", 9, { sender_id: EXAMPLE.server, signature: EXAMPLE.sigC })],
});
export type Ack = Static<typeof AckSchema>;
export const StatusSchema = recordEnvelope12("STATUS", {}, { description: "A presence record.", examples: [recordExample(V, "STATUS", 3)] });
export type Status = Static<typeof StatusSchema>;

// ERROR -----------------------------------------------------------------------------------------

export const ErrorPayloadSchema = v11.errorPayloadSchema(errorCodesFor(V), {
  description: "ERROR payload (section 12), v1.2 codes.",
  examples: [
    { code: "VERSION_NOT_SUPPORTED", message: "no common version in [\"1.1\"]", retryable: false, related_message_id: "msg_init_0001" },
    { code: "BUFFER_OVERFLOW", message: "send queue full", retryable: true },
  ],
});
export type ErrorPayload = Static<typeof ErrorPayloadSchema>;

const errorPlaintextExample = {
  message_id: "msg_err_0001",
  type: "ERROR",
  version: V,
  timestamp: EXAMPLE.timestamp + 4,
  sender_id: EXAMPLE.server,
  nonce: EXAMPLE.nonceShort,
  payload: ErrorPayloadSchema.examples[0],
};
const errorRecordExample = recordExample(V, "ERROR", 12, { sender_id: EXAMPLE.server });

/**
 * Before a session no version is selected yet, so a pre-session ERROR may carry either version:
 * a responder answers a v1.1 offer it refuses with VERSION_NOT_SUPPORTED (PP-VER-004, PP-VER-009).
 */
export const ErrorPlaintextSchema = v11.plaintextErrorSchema(V, ErrorPayloadSchema, {
  version: StringEnum(VERSIONS, { description: "Before a session: the version of the offer being answered, else 1.2." }),
  ...signatureMember,
}, {
  description: "ERROR as a plaintext envelope, before a session exists (section 12).",
  examples: [errorPlaintextExample, { ...errorPlaintextExample, version: "1.1" }],
});
export type ErrorPlaintext = Static<typeof ErrorPlaintextSchema>;

export const ErrorRecordSchema = recordEnvelope12("ERROR", {}, { description: "ERROR as a record, inside a session (section 12).", examples: [errorRecordExample] });
export type ErrorRecord = Static<typeof ErrorRecordSchema>;

export const ErrorSchema = v11.eitherErrorSchema(ErrorPlaintextSchema, ErrorRecordSchema, {
  description: "ERROR on the wire: a record when it carries seq, else a plaintext envelope (section 12).",
  examples: [errorPlaintextExample, errorRecordExample],
});
export type ErrorEnvelope = Static<typeof ErrorSchema>;

// CAPABILITY_EXCHANGE ---------------------------------------------------------------------------

export const CapabilityExchangePayloadSchema = Type.Object(
  {
    capabilities: described(CapabilityListSchema, "The capabilities selected in the handshake, unchanged (PP-CAP-004); any other set, unknown names included, is INVALID_MESSAGE (PP-CAP-009).", [["websocket", "resume", "chunking"]]),
    limits: LimitsSchema,
    reply: Type.Optional(Type.Boolean({ description: "True on the answer to a CAPABILITY_EXCHANGE, which is not answered again (PP-CAP-003)." })),
  },
  {
    additionalProperties: false,
    description: "CAPABILITY_EXCHANGE inner payload (section 11).",
    examples: [
      { capabilities: ["websocket", "resume", "chunking"], limits: { ...DEFAULT_LIMITS } },
      { capabilities: ["websocket", "resume", "chunking"], limits: { ...DEFAULT_LIMITS }, reply: true },
    ],
  },
);
export type CapabilityExchangePayload = Static<typeof CapabilityExchangePayloadSchema>;

export const CapabilityExchangeSchema = recordEnvelope12("CAPABILITY_EXCHANGE", {}, {
  description: "Restates the selected capabilities and the limits (section 11).",
  examples: [recordExample(V, "CAPABILITY_EXCHANGE", 1, { payload: EXAMPLE.ciphertextLong })],
});
export type CapabilityExchange = Static<typeof CapabilityExchangeSchema>;

// BYE -------------------------------------------------------------------------------------------

export const ByePayloadSchema = Type.Object(
  { reason: Type.Optional(described(TextSchema, "Why the session ends.", ["server shutting down"])) },
  { additionalProperties: false, description: "BYE inner payload: the session ends and cannot be resumed (PP-SES-015, PP-SES-016).", examples: [{ reason: "server shutting down" }, {}] },
);
export type ByePayload = Static<typeof ByePayloadSchema>;

export const ByeSchema = recordEnvelope12("BYE", {}, {
  description: "Ends the session (PP-SES-015).",
  examples: [recordExample(V, "BYE", 30, { sender_id: EXAMPLE.server })],
});
export type Bye = Static<typeof ByeSchema>;
