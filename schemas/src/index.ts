/**
 * Public API of the Peer Protocol schemas: validators, registries, and the TypeBox schemas with
 * their static types. v1.2 schemas and types are exported under their plain names; the v1.1 ones
 * that differ in shape carry a `V11` prefix, and every schema of both versions is reachable through
 * `MESSAGE_SCHEMAS` and `DOCUMENT_SCHEMAS`.
 *
 * ```ts
 * import { validateEnvelope } from "peer-protocol/schemas";
 * ```
 *
 * @module peer-protocol/schemas
 */

// Validators
export {
  describeError,
  precompileValidators,
  validateDiscovery,
  validateDocument,
  validateEnvelope,
  validateInnerPayload,
  validateReport,
  type ValidateOptions,
  type ValidationResult,
} from "./validators.ts";
export { lenient } from "./lenient.ts";
export { emitJsonSchemas, kebabName, schemaId, JSON_SCHEMA_DIALECT, SCHEMA_BASE_URL, type EmittedSchema } from "./emit.ts";
export { DOCUMENT_SCHEMAS, MESSAGE_SCHEMAS, documentSchema, messageSchemas, type DocumentName, type MessageSchemas, type V11DocumentName } from "./catalog.ts";

// Registries (spec section 17, limits of section 13)
export {
  CAPABILITIES,
  CAPABILITY_ROWS,
  DATA_TYPES,
  DEFAULT_LIMITS,
  ERROR_CODES,
  EVENTS_TYPES,
  MESSAGE_TYPES,
  MESSAGE_TYPE_ROWS,
  PLAINTEXT_TYPES,
  RECORD_TYPES,
  VERSIONS,
  errorCodesFor,
  inVersion,
  messageTypesFor,
  recordTypesFor,
  type Capability,
  type CapabilityRow,
  type DataType,
  type ErrorCode,
  type ErrorCodeRow,
  type LimitName,
  type MessageForm,
  type MessageType,
  type MessageTypeRow,
  type SentBy,
  type Version,
} from "./registry.ts";

// Primitives (section 5)
export {
  BASE64URL_PATTERN,
  Base64Url32Schema,
  Base64Url64Schema,
  Base64UrlSchema,
  ChannelNameSchema,
  CiphertextSchema,
  EntityIdSchema,
  MessageIdSchema,
  NonceSchema,
  SeqSchema,
  SessionIdSchema,
  TimestampSchema,
  type Base64Url,
  type Base64Url32,
  type Base64Url64,
  type ChannelName,
  type EntityId,
  type MessageId,
  type Nonce,
  type Seq,
  type SessionId,
  type Timestamp,
} from "./v1.1/common.ts";

// v1.2: handshake (section 6), resume (section 8)
export {
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
  OfferedVersionSchema,
  VersionListSchema,
  VersionSchema,
  type ChallengeResponse,
  type ChallengeResponsePayload,
  type HandshakeInit,
  type HandshakeInitAck,
  type HandshakeInitAckPayload,
  type HandshakeInitPayload,
  type Ready,
  type ReadyPayload,
  type SessionConfirm,
  type SessionConfirmPayload,
  type SessionEstablished,
  type SessionEstablishedPayload,
} from "./v1.2/handshake.ts";
export {
  RESUME_STATUSES,
  SessionResumeAckPayloadSchema,
  SessionResumeAckSchema,
  SessionResumePayloadSchema,
  SessionResumeSchema,
  type SessionResume,
  type SessionResumeAck,
  type SessionResumeAckPayload,
  type SessionResumePayload,
} from "./v1.2/session.ts";

// v1.2: data records (sections 9, 10, 15)
export {
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
  type Broadcast,
  type BroadcastPayload,
  type ChunkedMessage,
  type ChunkedMessagePayload,
  type PeerMessage,
  type PeerMessagePayload,
  type TaskRequest,
  type TaskRequestPayload,
  type TaskResponse,
  type TaskResponsePayload,
} from "./v1.2/data.ts";
export { STATUS_STATES } from "./v1.1/control.ts";
export { TASK_STATUSES } from "./v1.1/data.ts";

// v1.2: control records (sections 9, 11, 12)
export {
  AckPayloadSchema,
  AckSchema,
  ByePayloadSchema,
  ByeSchema,
  CapabilityExchangePayloadSchema,
  CapabilityExchangeSchema,
  ErrorPayloadSchema,
  ErrorPlaintextSchema,
  ErrorRecordSchema,
  ErrorSchema,
  PingPayloadSchema,
  PingSchema,
  PongPayloadSchema,
  PongSchema,
  StatusPayloadSchema,
  StatusSchema,
  type Ack,
  type AckPayload,
  type Bye,
  type ByePayload,
  type CapabilityExchange,
  type CapabilityExchangePayload,
  type ErrorEnvelope,
  type ErrorPayload,
  type ErrorPlaintext,
  type ErrorRecord,
  type Ping,
  type PingPayload,
  type Pong,
  type PongPayload,
  type Status,
  type StatusPayload,
} from "./v1.2/control.ts";

// v1.2: events (section 15)
export {
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
  type EventFrame,
  type EventPayload,
  type Subscribe,
  type Subscribed,
  type SubscribedPayload,
  type SubscribePayload,
  type Unsubscribe,
  type Unsubscribed,
  type UnsubscribedPayload,
  type UnsubscribePayload,
} from "./v1.2/events.ts";

// v1.2: limits, capabilities, discovery, HTTP and token bodies, report
export { LimitsSchema, type Limits } from "./v1.2/limits.ts";
export { CapabilityListSchema, CapabilityNameSchema, type CapabilityList, type CapabilityName } from "./v1.2/capabilities.ts";
export { DiscoverySchema, type Discovery } from "./v1.2/discovery.ts";
export {
  AuthChallengeSchema,
  AuthTokenSchema,
  AuthVerifyRequestSchema,
  HttpMessageResponseSchema,
  HttpPollResponseSchema,
  RecordSchema,
  type AuthChallenge,
  type AuthToken,
  type AuthVerifyRequest,
  type HttpMessageResponse,
  type HttpPollResponse,
  type RecordEnvelope,
} from "./v1.2/http.ts";
export { CASE_LEVELS, CaseResultSchema, ReportSchema, TraceEntrySchema, VERDICTS, type CaseResult, type Report, type TraceEntry } from "./v1.2/report.ts";

// v1.1 schemas whose shape differs from v1.2
export {
  HandshakeInitAckPayloadSchema as V11HandshakeInitAckPayloadSchema,
  HandshakeInitAckSchema as V11HandshakeInitAckSchema,
  HandshakeInitPayloadSchema as V11HandshakeInitPayloadSchema,
  HandshakeInitSchema as V11HandshakeInitSchema,
  type HandshakeInit as V11HandshakeInit,
  type HandshakeInitAck as V11HandshakeInitAck,
  type HandshakeInitAckPayload as V11HandshakeInitAckPayload,
  type HandshakeInitPayload as V11HandshakeInitPayload,
} from "./v1.1/handshake.ts";
export {
  ErrorPayloadSchema as V11ErrorPayloadSchema,
  ErrorSchema as V11ErrorSchema,
  type ErrorEnvelope as V11ErrorEnvelope,
  type ErrorPayload as V11ErrorPayload,
} from "./v1.1/control.ts";
export {
  ChunkedMessagePayloadSchema as V11ChunkedMessagePayloadSchema,
  type ChunkedMessagePayload as V11ChunkedMessagePayload,
} from "./v1.1/data.ts";
