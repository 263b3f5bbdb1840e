/**
 * The v1.2 schema table: for each message type of v1.2, its wire envelope and its (inner) payload,
 * and the other documents of v1.2. The validators and the JSON emitter read only this table.
 */
import type { TSchema } from "@sinclair/typebox";
import type { MessageType } from "../registry.ts";
import type { MessageSchemas } from "../v1.1/messages.ts";
import { CapabilityListSchema } from "./capabilities.ts";
import {
  AckPayloadSchema,
  AckSchema,
  ByePayloadSchema,
  ByeSchema,
  CapabilityExchangePayloadSchema,
  CapabilityExchangeSchema,
  ErrorPayloadSchema,
  ErrorSchema,
  PingPayloadSchema,
  PingSchema,
  PongPayloadSchema,
  PongSchema,
  StatusPayloadSchema,
  StatusSchema,
} from "./control.ts";
import {
  BroadcastPayloadSchema,
  BroadcastSchema,
  ChunkedMessagePayloadSchema,
  ChunkedMessageSchema,
  PeerMessagePayloadSchema,
  PeerMessageSchema,
  TaskRequestPayloadSchema,
  TaskRequestSchema,
  TaskResponsePayloadSchema,
  TaskResponseSchema,
} from "./data.ts";
import { DiscoverySchema } from "./discovery.ts";
import {
  EventPayloadSchema,
  EventSchema,
  SubscribedPayloadSchema,
  SubscribedSchema,
  SubscribePayloadSchema,
  SubscribeSchema,
  UnsubscribedPayloadSchema,
  UnsubscribedSchema,
  UnsubscribePayloadSchema,
  UnsubscribeSchema,
} from "./events.ts";
import {
  ChallengeResponsePayloadSchema,
  ChallengeResponseSchema,
  HandshakeInitAckPayloadSchema,
  HandshakeInitAckSchema,
  HandshakeInitPayloadSchema,
  HandshakeInitSchema,
  ReadyPayloadSchema,
  ReadySchema,
  SessionConfirmPayloadSchema,
  SessionConfirmSchema,
  SessionEstablishedPayloadSchema,
  SessionEstablishedSchema,
} from "./handshake.ts";
import { AuthChallengeSchema, AuthTokenSchema, AuthVerifyRequestSchema, HttpMessageResponseSchema, HttpPollResponseSchema, RecordSchema } from "./http.ts";
import { LimitsSchema } from "./limits.ts";
import { ReportSchema } from "./report.ts";
import { SessionResumeAckPayloadSchema, SessionResumeAckSchema, SessionResumePayloadSchema, SessionResumeSchema } from "./session.ts";

export const MESSAGES_V1_2 = {
  HANDSHAKE_INIT: { envelope: HandshakeInitSchema, payload: HandshakeInitPayloadSchema },
  HANDSHAKE_INIT_ACK: { envelope: HandshakeInitAckSchema, payload: HandshakeInitAckPayloadSchema },
  CHALLENGE_RESPONSE: { envelope: ChallengeResponseSchema, payload: ChallengeResponsePayloadSchema },
  SESSION_ESTABLISHED: { envelope: SessionEstablishedSchema, payload: SessionEstablishedPayloadSchema },
  SESSION_CONFIRM: { envelope: SessionConfirmSchema, payload: SessionConfirmPayloadSchema },
  READY: { envelope: ReadySchema, payload: ReadyPayloadSchema },
  SESSION_RESUME: { envelope: SessionResumeSchema, payload: SessionResumePayloadSchema },
  SESSION_RESUME_ACK: { envelope: SessionResumeAckSchema, payload: SessionResumeAckPayloadSchema },
  PING: { envelope: PingSchema, payload: PingPayloadSchema },
  PONG: { envelope: PongSchema, payload: PongPayloadSchema },
  PEER_MESSAGE: { envelope: PeerMessageSchema, payload: PeerMessagePayloadSchema },
  BROADCAST: { envelope: BroadcastSchema, payload: BroadcastPayloadSchema },
  TASK_REQUEST: { envelope: TaskRequestSchema, payload: TaskRequestPayloadSchema },
  TASK_RESPONSE: { envelope: TaskResponseSchema, payload: TaskResponsePayloadSchema },
  CHUNKED_MESSAGE: { envelope: ChunkedMessageSchema, payload: ChunkedMessagePayloadSchema },
  ACK: { envelope: AckSchema, payload: AckPayloadSchema },
  ERROR: { envelope: ErrorSchema, payload: ErrorPayloadSchema },
  STATUS: { envelope: StatusSchema, payload: StatusPayloadSchema },
  CAPABILITY_EXCHANGE: { envelope: CapabilityExchangeSchema, payload: CapabilityExchangePayloadSchema },
  BYE: { envelope: ByeSchema, payload: ByePayloadSchema },
  SUBSCRIBE: { envelope: SubscribeSchema, payload: SubscribePayloadSchema },
  SUBSCRIBED: { envelope: SubscribedSchema, payload: SubscribedPayloadSchema },
  UNSUBSCRIBE: { envelope: UnsubscribeSchema, payload: UnsubscribePayloadSchema },
  UNSUBSCRIBED: { envelope: UnsubscribedSchema, payload: UnsubscribedPayloadSchema },
  EVENT: { envelope: EventSchema, payload: EventPayloadSchema },
} as const satisfies Record<MessageType, MessageSchemas>;

/** Documents other than messages, by the file name they are emitted under. */
export const DOCUMENTS_V1_2 = {
  record: RecordSchema,
  limits: LimitsSchema,
  capabilities: CapabilityListSchema,
  discovery: DiscoverySchema,
  "auth-challenge": AuthChallengeSchema,
  "auth-verify-request": AuthVerifyRequestSchema,
  "auth-token": AuthTokenSchema,
  "http-message-response": HttpMessageResponseSchema,
  "http-poll-response": HttpPollResponseSchema,
  report: ReportSchema,
} as const satisfies Record<string, TSchema>;
