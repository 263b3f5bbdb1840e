/**
 * Data records of v1.2 (section 9): the v1.1 data records and `BROADCAST` (section 15), which a
 * `CHUNKED_MESSAGE` can now carry too.
 */
import { Type, type Static } from "@sinclair/typebox";
import { ChannelNameSchema, described, JsonValueSchema } from "../v1.1/common.ts";
import * as v11 from "../v1.1/data.ts";
import { dataRecordMembers } from "../v1.1/envelope.ts";
import { EXAMPLE, recordExample } from "../v1.1/examples.ts";
import { recordEnvelope12, V } from "./envelope.ts";

export const PeerMessagePayloadSchema = v11.PeerMessagePayloadSchema;
export type PeerMessagePayload = Static<typeof PeerMessagePayloadSchema>;
export const TaskRequestPayloadSchema = v11.TaskRequestPayloadSchema;
export type TaskRequestPayload = Static<typeof TaskRequestPayloadSchema>;
export const TaskResponsePayloadSchema = v11.TaskResponsePayloadSchema;
export type TaskResponsePayload = Static<typeof TaskResponsePayloadSchema>;

export const BroadcastPayloadSchema = Type.Object(
  {
    channel: described(ChannelNameSchema, "The channel to publish on (PP-EVT-003, PP-EVT-007)."),
    content: described(JsonValueSchema, "The event content, any JSON value.", [{ level: "storm" }]),
  },
  { additionalProperties: false, description: "BROADCAST inner payload (section 15).", examples: [{ channel: "weather.alerts", content: { level: "storm" } }] },
);
export type BroadcastPayload = Static<typeof BroadcastPayloadSchema>;

export const ChunkedMessagePayloadSchema = v11.chunkedMessagePayloadSchema(v11.chunkableTypes(V), {
  description: "CHUNKED_MESSAGE inner payload (section 10), v1.2 inner types.",
  examples: [v11.ChunkedMessagePayloadSchema.examples[0], { ...v11.ChunkedMessagePayloadSchema.examples[0], inner_type: "BROADCAST", is_last: false }],
});
export type ChunkedMessagePayload = Static<typeof ChunkedMessagePayloadSchema>;

export const PeerMessageSchema = recordEnvelope12("PEER_MESSAGE", dataRecordMembers, {
  description: "A peer-to-peer message record, routed by recipient_id (PP-DLV-006).",
  examples: [recordExample(V, "PEER_MESSAGE", 1, { recipient_id: EXAMPLE.peer })],
});
export type PeerMessage = Static<typeof PeerMessageSchema>;

export const BroadcastSchema = recordEnvelope12("BROADCAST", {}, {
  description: "Publishes to an events channel; acknowledged like any data record (PP-EVT-008). The channel names the audience, so recipient_id is optional.",
  examples: [recordExample(V, "BROADCAST", 6, {}), recordExample(V, "BROADCAST", 7, { recipient_id: EXAMPLE.server })],
});
export type Broadcast = Static<typeof BroadcastSchema>;

export const TaskRequestSchema = recordEnvelope12("TASK_REQUEST", dataRecordMembers, {
  description: "A task request record.",
  examples: [recordExample(V, "TASK_REQUEST", 2, { recipient_id: EXAMPLE.server })],
});
export type TaskRequest = Static<typeof TaskRequestSchema>;

export const TaskResponseSchema = recordEnvelope12("TASK_RESPONSE", dataRecordMembers, {
  description: "A task response record.",
  examples: [recordExample(V, "TASK_RESPONSE", 2, { sender_id: EXAMPLE.server, recipient_id: EXAMPLE.client })],
});
export type TaskResponse = Static<typeof TaskResponseSchema>;

export const ChunkedMessageSchema = recordEnvelope12("CHUNKED_MESSAGE", dataRecordMembers, {
  description: "One chunk of a data message too large for max_chunk_bytes (section 10).",
  examples: [recordExample(V, "CHUNKED_MESSAGE", 4, { recipient_id: EXAMPLE.peer, payload: EXAMPLE.ciphertextLong })],
});
export type ChunkedMessage = Static<typeof ChunkedMessageSchema>;
