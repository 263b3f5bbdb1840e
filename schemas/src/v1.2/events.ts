/**
 * Frames of `/ws/v1/events` (section 15): plaintext envelopes protected by TLS, each with a fresh
 * `nonce` (PP-ENV-010). They belong to no peer session, so they carry no `session_id`, `seq` or
 * `recipient_id`.
 */
import { Type, type Static, type TSchema } from "@sinclair/typebox";
import { ChannelNameSchema, described, EntityIdSchema, JsonValueSchema, NonceSchema, OpaqueIdSchema } from "../v1.1/common.ts";
import { envelopeMembers, type Annotations } from "../v1.1/envelope.ts";
import { EXAMPLE } from "../v1.1/examples.ts";
import { signatureMember, V } from "./envelope.ts";

/** An events frame of `type` with payload `payload`. */
function eventsFrame<const T extends string, P extends TSchema>(type: T, payload: P, annotations: Annotations) {
  const { recipient_id: _recipient, ...members } = envelopeMembers(V, type);
  return Type.Object({ ...members, ...signatureMember, nonce: NonceSchema, payload }, { additionalProperties: false, ...annotations });
}

function frameExample(type: string, sender: string, payload: unknown, n: number): Record<string, unknown> {
  return { message_id: `msg_evt_${type.toLowerCase()}_${n}`, type, version: V, timestamp: EXAMPLE.timestamp + 100 + n, sender_id: sender, nonce: EXAMPLE.nonceShort, payload };
}

const ChannelListSchema = Type.Array(ChannelNameSchema, { uniqueItems: true, description: "Channel names (PP-EVT-007).", examples: [["weather.alerts", "news"]] });
const RequestedChannelsSchema = Type.Array(ChannelNameSchema, { minItems: 1, uniqueItems: true, description: "The channels to act on; at least one.", examples: [["weather.alerts"]] });

export const SubscribePayloadSchema = Type.Object(
  { channels: RequestedChannelsSchema },
  { additionalProperties: false, description: "SUBSCRIBE payload: channels to add (section 15).", examples: [{ channels: ["weather.alerts"] }] },
);
export type SubscribePayload = Static<typeof SubscribePayloadSchema>;

export const SubscribedPayloadSchema = Type.Object(
  { channels: described(ChannelListSchema, "Every channel the connection is now subscribed to (PP-EVT-001).", [["weather.alerts", "news"]]) },
  { additionalProperties: false, description: "SUBSCRIBED payload (PP-EVT-001).", examples: [{ channels: ["weather.alerts", "news"] }] },
);
export type SubscribedPayload = Static<typeof SubscribedPayloadSchema>;

export const UnsubscribePayloadSchema = Type.Object(
  { channels: RequestedChannelsSchema },
  { additionalProperties: false, description: "UNSUBSCRIBE payload: channels to remove (section 15).", examples: [{ channels: ["news"] }] },
);
export type UnsubscribePayload = Static<typeof UnsubscribePayloadSchema>;

export const UnsubscribedPayloadSchema = Type.Object(
  { channels: described(ChannelListSchema, "The channels removed (PP-EVT-002).", [["news"]]) },
  { additionalProperties: false, description: "UNSUBSCRIBED payload (PP-EVT-002).", examples: [{ channels: ["news"] }, { channels: [] }] },
);
export type UnsubscribedPayload = Static<typeof UnsubscribedPayloadSchema>;

export const EventPayloadSchema = Type.Object(
  {
    event_id: described(OpaqueIdSchema, "Chosen by the server, unique per event.", ["evt-000193"]),
    channel: ChannelNameSchema,
    content: described(JsonValueSchema, "The content of the BROADCAST, any JSON value.", [{ level: "storm" }]),
    publisher_id: described(EntityIdSchema, "The entity that published the BROADCAST (PP-EVT-005).", [EXAMPLE.peer]),
  },
  {
    additionalProperties: false,
    description: "EVENT payload: one BROADCAST delivered to a subscriber (PP-EVT-003).",
    examples: [{ event_id: "evt-000193", channel: "weather.alerts", content: { level: "storm" }, publisher_id: EXAMPLE.peer }],
  },
);
export type EventPayload = Static<typeof EventPayloadSchema>;

export const SubscribeSchema = eventsFrame("SUBSCRIBE", SubscribePayloadSchema, {
  description: "Client to server on /ws/v1/events: subscribe to channels.",
  examples: [frameExample("SUBSCRIBE", EXAMPLE.client, SubscribePayloadSchema.examples[0], 1)],
});
export type Subscribe = Static<typeof SubscribeSchema>;
export const SubscribedSchema = eventsFrame("SUBSCRIBED", SubscribedPayloadSchema, {
  description: "Server to client: the channels now subscribed (PP-EVT-001).",
  examples: [frameExample("SUBSCRIBED", EXAMPLE.server, SubscribedPayloadSchema.examples[0], 2)],
});
export type Subscribed = Static<typeof SubscribedSchema>;
export const UnsubscribeSchema = eventsFrame("UNSUBSCRIBE", UnsubscribePayloadSchema, {
  description: "Client to server on /ws/v1/events: unsubscribe from channels.",
  examples: [frameExample("UNSUBSCRIBE", EXAMPLE.client, UnsubscribePayloadSchema.examples[0], 3)],
});
export type Unsubscribe = Static<typeof UnsubscribeSchema>;
export const UnsubscribedSchema = eventsFrame("UNSUBSCRIBED", UnsubscribedPayloadSchema, {
  description: "Server to client: the channels removed (PP-EVT-002).",
  examples: [frameExample("UNSUBSCRIBED", EXAMPLE.server, UnsubscribedPayloadSchema.examples[0], 4)],
});
export type Unsubscribed = Static<typeof UnsubscribedSchema>;
export const EventSchema = eventsFrame("EVENT", EventPayloadSchema, {
  description: "Server to subscriber: one broadcast (PP-EVT-003, PP-EVT-005).",
  examples: [frameExample("EVENT", EXAMPLE.server, EventPayloadSchema.examples[0], 5)],
});
export type EventFrame = Static<typeof EventSchema>;
