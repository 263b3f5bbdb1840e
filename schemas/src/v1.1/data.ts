/**
 * Data records (section 9): `PEER_MESSAGE`, `TASK_REQUEST`, `TASK_RESPONSE` and
 * `CHUNKED_MESSAGE` (section 10). They are acknowledged, retransmitted and de-duplicated, and their
 * envelopes name the `recipient_id` the server routes by (PP-DLV-006).
 */
import { Type, type Static } from "@sinclair/typebox";
import { DATA_TYPES, inVersion, MESSAGE_TYPE_ROWS, type Version } from "../registry.ts";
import {
  BASE64URL_PATTERN,
  clause,
  described,
  JsonValueSchema,
  MacSchema,
  MAX_SAFE,
  MessageIdSchema,
  StringEnum,
  TextSchema,
  OpaqueIdSchema,
  whenOneOf,
  whenPresent,
} from "./common.ts";
import { dataRecordMembers, recordEnvelope, type Annotations } from "./envelope.ts";
import { EXAMPLE, recordExample } from "./examples.ts";

const V = "1.1";

// PEER_MESSAGE ----------------------------------------------------------------------------------

export const PeerMessagePayloadSchema = Type.Object(
  {
    content: Type.Optional(described(JsonValueSchema, "The message, any JSON value.", [{ text: "hello" }])),
    sealed: Type.Optional(
      Type.String({
        pattern: BASE64URL_PATTERN,
        minLength: 2,
        description: "A blob one peer encrypted for another, forwarded unread (section 2, `sealed-relay`).",
        examples: [EXAMPLE.ciphertextLong],
      }),
    ),
  },
  {
    additionalProperties: false,
    description: "PEER_MESSAGE inner payload: exactly one of `content` and `sealed`.",
    if: whenPresent("content"),
    then: clause({ absent: ["sealed"] }),
    else: clause({ present: ["sealed"] }),
    examples: [{ content: { text: "hello" } }, { sealed: EXAMPLE.ciphertextLong }],
  },
);
export type PeerMessagePayload = Static<typeof PeerMessagePayloadSchema>;

export const PeerMessageSchema = recordEnvelope(V, "PEER_MESSAGE", dataRecordMembers, {
  description: "A peer-to-peer message record, routed by recipient_id (PP-DLV-006).",
  examples: [recordExample(V, "PEER_MESSAGE", 1, { recipient_id: EXAMPLE.peer })],
});
export type PeerMessage = Static<typeof PeerMessageSchema>;

// TASK_REQUEST and TASK_RESPONSE ----------------------------------------------------------------

export const TaskRequestPayloadSchema = Type.Object(
  {
    task_id: described(OpaqueIdSchema, "Chosen by the requester; the response repeats it (PP-DLV-009).", ["task-7"]),
    action: described(OpaqueIdSchema, "What to do; a server answers `echo` addressed to itself (PP-DLV-009).", ["echo"]),
    params: described(JsonValueSchema, "The action's parameters, any JSON value.", [{ text: "ping" }]),
  },
  { additionalProperties: false, description: "TASK_REQUEST inner payload.", examples: [{ task_id: "task-7", action: "echo", params: { text: "ping" } }] },
);
export type TaskRequestPayload = Static<typeof TaskRequestPayloadSchema>;

export const TASK_STATUSES = ["ok", "error"] as const;
export const TaskResponsePayloadSchema = Type.Object(
  {
    task_id: described(OpaqueIdSchema, "The task_id of the request (PP-DLV-009).", ["task-7"]),
    status: StringEnum(TASK_STATUSES, { description: "`ok` with an optional `result`, or `error` with an `error` text." }),
    result: Type.Optional(described(JsonValueSchema, "The result of an `ok` task, any JSON value.", [{ text: "ping" }])),
    error: Type.Optional(described(TextSchema, "What failed, for an `error` task: application text, not a protocol error code.", ["unknown action"])),
  },
  {
    additionalProperties: false,
    description: "TASK_RESPONSE inner payload.",
    if: whenOneOf("status", ["error"]),
    then: clause({ present: ["error"], absent: ["result"] }),
    else: clause({ absent: ["error"] }),
    examples: [
      { task_id: "task-7", status: "ok", result: { text: "ping" } },
      { task_id: "task-8", status: "error", error: "unknown action" },
    ],
  },
);
export type TaskResponsePayload = Static<typeof TaskResponsePayloadSchema>;

export const TaskRequestSchema = recordEnvelope(V, "TASK_REQUEST", dataRecordMembers, {
  description: "A task request record.",
  examples: [recordExample(V, "TASK_REQUEST", 2, { recipient_id: EXAMPLE.server })],
});
export type TaskRequest = Static<typeof TaskRequestSchema>;

export const TaskResponseSchema = recordEnvelope(V, "TASK_RESPONSE", dataRecordMembers, {
  description: "A task response record.",
  examples: [recordExample(V, "TASK_RESPONSE", 2, { sender_id: EXAMPLE.server, recipient_id: EXAMPLE.client })],
});
export type TaskResponse = Static<typeof TaskResponseSchema>;

// CHUNKED_MESSAGE -------------------------------------------------------------------------------

/** The data types a chunked message can carry in `version`: every data type but CHUNKED_MESSAGE itself. */
export function chunkableTypes(version: Version): string[] {
  return DATA_TYPES.filter((type) => type !== "CHUNKED_MESSAGE" && inVersion(MESSAGE_TYPE_ROWS[type].since, version));
}

/** The CHUNKED_MESSAGE inner payload (section 10) for the data types of a version. */
export function chunkedMessagePayloadSchema(innerTypes: readonly string[], annotations: Annotations) {
  return Type.Object(
    {
      chunk_id: described(MessageIdSchema, "The message_id of the whole message; the same on every chunk (PP-CHK-002).", ["msg_big_0001"]),
      sequence_number: Type.Integer({ minimum: 0, maximum: MAX_SAFE, description: "The chunk's index, from 0 (PP-CHK-003).", examples: [0] }),
      is_last: Type.Boolean({ description: "True only on the chunk with the highest sequence_number (PP-CHK-003)." }),
      total_size: Type.Integer({ minimum: 1, maximum: MAX_SAFE, description: "len(JCS(payload)) of the whole message in bytes (section 10).", examples: [300000] }),
      digest: described(MacSchema, "b64u(SHA-256(JCS(payload))) of the whole message (section 10).", [EXAMPLE.digest]),
      inner_type: StringEnum(innerTypes, { description: "The type of the whole message (section 10)." }),
      data: Type.String({ pattern: BASE64URL_PATTERN, minLength: 2, description: "b64u of this chunk's piece of JCS(payload), at least one byte.", examples: [EXAMPLE.chunkData] }),
    },
    { additionalProperties: false, ...annotations },
  );
}

const chunkExample = {
  chunk_id: "msg_big_0001",
  sequence_number: 0,
  is_last: true,
  total_size: 28,
  digest: EXAMPLE.digest,
  inner_type: "PEER_MESSAGE",
  data: EXAMPLE.chunkData,
};

export const ChunkedMessagePayloadSchema = chunkedMessagePayloadSchema(chunkableTypes(V), {
  description: "CHUNKED_MESSAGE inner payload (section 10), v1.1 inner types.",
  examples: [chunkExample],
});
export type ChunkedMessagePayload = Static<typeof ChunkedMessagePayloadSchema>;

export const ChunkedMessageSchema = recordEnvelope(V, "CHUNKED_MESSAGE", dataRecordMembers, {
  description: "One chunk of a data message too large for max_chunk_bytes (section 10).",
  examples: [recordExample(V, "CHUNKED_MESSAGE", 4, { recipient_id: EXAMPLE.peer, payload: EXAMPLE.ciphertextLong })],
});
export type ChunkedMessage = Static<typeof ChunkedMessageSchema>;
