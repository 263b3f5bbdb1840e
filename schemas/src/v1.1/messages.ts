/**
 * The v1.1 schema table: for each message type of v1.1, its wire envelope and its (inner) payload,
 * and the other documents of v1.1. The validators and the JSON emitter read only this table.
 */
import type { TSchema } from "@sinclair/typebox";
import type { MessageType } from "../registry.ts";
import { AckPayloadSchema, AckSchema, ErrorPayloadSchema, ErrorSchema, PingPayloadSchema, PingSchema, PongPayloadSchema, PongSchema, StatusPayloadSchema, StatusSchema } from "./control.ts";
import {
  ChunkedMessagePayloadSchema,
  ChunkedMessageSchema,
  PeerMessagePayloadSchema,
  PeerMessageSchema,
  TaskRequestPayloadSchema,
  TaskRequestSchema,
  TaskResponsePayloadSchema,
  TaskResponseSchema,
} from "./data.ts";
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

export interface MessageSchemas {
  /** The envelope as it travels: payload an object (plaintext, events) or the ciphertext (records). */
  envelope: TSchema;
  /** The payload object: the plaintext payload, or a record's decrypted inner payload. */
  payload: TSchema;
}

export const MESSAGES_V1_1 = {
  HANDSHAKE_INIT: { envelope: HandshakeInitSchema, payload: HandshakeInitPayloadSchema },
  HANDSHAKE_INIT_ACK: { envelope: HandshakeInitAckSchema, payload: HandshakeInitAckPayloadSchema },
  CHALLENGE_RESPONSE: { envelope: ChallengeResponseSchema, payload: ChallengeResponsePayloadSchema },
  SESSION_ESTABLISHED: { envelope: SessionEstablishedSchema, payload: SessionEstablishedPayloadSchema },
  SESSION_CONFIRM: { envelope: SessionConfirmSchema, payload: SessionConfirmPayloadSchema },
  READY: { envelope: ReadySchema, payload: ReadyPayloadSchema },
  PING: { envelope: PingSchema, payload: PingPayloadSchema },
  PONG: { envelope: PongSchema, payload: PongPayloadSchema },
  PEER_MESSAGE: { envelope: PeerMessageSchema, payload: PeerMessagePayloadSchema },
  TASK_REQUEST: { envelope: TaskRequestSchema, payload: TaskRequestPayloadSchema },
  TASK_RESPONSE: { envelope: TaskResponseSchema, payload: TaskResponsePayloadSchema },
  CHUNKED_MESSAGE: { envelope: ChunkedMessageSchema, payload: ChunkedMessagePayloadSchema },
  ACK: { envelope: AckSchema, payload: AckPayloadSchema },
  ERROR: { envelope: ErrorSchema, payload: ErrorPayloadSchema },
  STATUS: { envelope: StatusSchema, payload: StatusPayloadSchema },
} as const satisfies Partial<Record<MessageType, MessageSchemas>>;

/** Documents other than messages, by the file name they are emitted under. */
export const DOCUMENTS_V1_1 = {
  record: RecordSchema,
  "auth-challenge": AuthChallengeSchema,
  "auth-verify-request": AuthVerifyRequestSchema,
  "auth-token": AuthTokenSchema,
  "http-message-response": HttpMessageResponseSchema,
  "http-poll-response": HttpPollResponseSchema,
} as const satisfies Record<string, TSchema>;
