/**
 * The registries of spec section 17 (and the limits table of section 13) as typed constants.
 *
 * The values come from `spec/registries.json`, which is generated from the spec. The literal
 * unions below give the TypeScript types; `assertSameNames` checks them against the registry when
 * this module loads, so a registry change without a matching edit here fails loudly instead of
 * drifting.
 */
import registries from "../../spec/registries.json" with { type: "json" };

export const VERSIONS = ["1.1", "1.2"] as const;
export type Version = (typeof VERSIONS)[number];

export const MESSAGE_TYPE_NAMES = [
  "HANDSHAKE_INIT",
  "HANDSHAKE_INIT_ACK",
  "CHALLENGE_RESPONSE",
  "SESSION_ESTABLISHED",
  "SESSION_CONFIRM",
  "READY",
  "SESSION_RESUME",
  "SESSION_RESUME_ACK",
  "PING",
  "PONG",
  "PEER_MESSAGE",
  "BROADCAST",
  "TASK_REQUEST",
  "TASK_RESPONSE",
  "CHUNKED_MESSAGE",
  "ACK",
  "ERROR",
  "STATUS",
  "CAPABILITY_EXCHANGE",
  "BYE",
  "SUBSCRIBE",
  "SUBSCRIBED",
  "UNSUBSCRIBE",
  "UNSUBSCRIBED",
  "EVENT",
] as const;
export type MessageType = (typeof MESSAGE_TYPE_NAMES)[number];

export const ERROR_CODE_NAMES = [
  "INVALID_MESSAGE",
  "VERSION_NOT_SUPPORTED",
  "AUTHENTICATION_FAILED",
  "PERMISSION_DENIED",
  "SESSION_NOT_FOUND",
  "UNKNOWN_RECIPIENT",
  "HANDSHAKE_TIMEOUT",
  "HEARTBEAT_TIMEOUT",
  "INVALID_STATE",
  "REPLAY_DETECTED",
  "SESSION_EXPIRED",
  "MESSAGE_TOO_LARGE",
  "CHUNK_ERROR",
  "RATE_LIMIT_EXCEEDED",
  "BUFFER_OVERFLOW",
  "INTERNAL_ERROR",
] as const;
export type ErrorCode = (typeof ERROR_CODE_NAMES)[number];

export const CAPABILITY_NAMES = ["websocket", "http", "resume", "chunking", "events", "aes-256-gcm", "message-signatures", "sealed-relay"] as const;
export type Capability = (typeof CAPABILITY_NAMES)[number];

export const LIMIT_NAMES = [
  "max_frame_bytes",
  "max_message_bytes",
  "max_chunk_bytes",
  "rate_limit_per_minute",
  "ping_interval_ms",
  "pong_grace_ms",
  "handshake_timeout_ms",
  "max_subscriptions",
  "max_send_queue_bytes",
  "retransmit_buffer",
  "resume_window_ms",
  "session_lifetime_ms",
  "chunk_timeout_ms",
  "max_clock_skew_ms",
  "ack_delay_ms",
  "replay_window",
  "request_timeout_ms",
  "max_connections_per_ip",
  "max_buffered_bytes",
] as const;
export type LimitName = (typeof LIMIT_NAMES)[number];

/** Where a message type travels (registry 17.1 `form`). `either` is `ERROR`: plaintext before a session, a record inside one. */
export type MessageForm = "plaintext" | "record" | "either" | "events";
export type SentBy = "initiator" | "responder" | "either" | "client" | "server";

export interface MessageTypeRow {
  type: MessageType;
  since: Version;
  form: MessageForm;
  sentBy: SentBy;
  /** The payload members the registry lists, in registry order. */
  payload: readonly string[];
}

export interface ErrorCodeRow {
  code: ErrorCode;
  since: Version;
  retryable: boolean;
  /** Whether the WebSocket stays open after the `ERROR` (PP-ERR-003, PP-ERR-004). */
  connection: "open" | "close";
  /** The WebSocket close code when `connection` is `close`, else null. */
  close: number | null;
  /** The HTTP status of the error (PP-ERR-005, PP-TRN-008). */
  http: number;
  meaning: string;
}

export interface CapabilityRow {
  name: Capability;
  meaning: string;
  requirements: readonly string[];
}

class RegistryMismatchError extends Error {}

function assertSameNames(registry: string, expected: readonly string[], actual: readonly string[]): void {
  const missing = actual.filter((name) => !expected.includes(name));
  const extra = expected.filter((name) => !actual.includes(name));
  if (missing.length > 0 || extra.length > 0) {
    throw new RegistryMismatchError(
      `schemas/src/registry.ts is out of step with the ${registry} registry of spec/registries.json: ` +
        `not listed here [${missing.join(", ")}], not in the registry [${extra.join(", ")}]`,
    );
  }
}

function oneOf<T extends string>(value: string, allowed: readonly T[], what: string): T {
  if (!(allowed as readonly string[]).includes(value)) throw new RegistryMismatchError(`unexpected ${what} "${value}" in spec/registries.json`);
  return value as T;
}

function list(cell: string): string[] {
  return cell
    .split(/,| or /)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

function integerCell(cell: string, what: string): number {
  if (!/^\d+$/.test(cell)) throw new RegistryMismatchError(`${what} "${cell}" in spec/registries.json is not an integer`);
  return Number(cell);
}

interface RawRegistries {
  "message-types": Record<string, string>[];
  errors: Record<string, string>[];
  capabilities: Record<string, string>[];
  limits?: Record<string, string>[];
}
const raw = registries as RawRegistries;

function cell(row: Record<string, string>, column: string): string {
  const value = row[column];
  if (value === undefined) throw new RegistryMismatchError(`a registry row of spec/registries.json has no "${column}" column`);
  return value;
}

assertSameNames("message-types", MESSAGE_TYPE_NAMES, raw["message-types"].map((row) => cell(row, "type")));
assertSameNames("errors", ERROR_CODE_NAMES, raw.errors.map((row) => cell(row, "code")));
assertSameNames("capabilities", CAPABILITY_NAMES, raw.capabilities.map((row) => cell(row, "name")));
assertSameNames("limits", LIMIT_NAMES, (raw.limits ?? []).map((row) => cell(row, "member")));

/** Registry 17.1, keyed by type, in registry order. */
export const MESSAGE_TYPE_ROWS: Readonly<Record<MessageType, MessageTypeRow>> = Object.freeze(
  Object.fromEntries(
    raw["message-types"].map((row) => {
      const type = oneOf(cell(row, "type"), MESSAGE_TYPE_NAMES, "message type");
      const entry: MessageTypeRow = Object.freeze({
        type,
        since: oneOf(cell(row, "since"), VERSIONS, "version"),
        form: oneOf(cell(row, "form"), ["plaintext", "record", "either", "events"] as const, "form"),
        sentBy: oneOf(cell(row, "sent by"), ["initiator", "responder", "either", "client", "server"] as const, "sender"),
        payload: Object.freeze(list(cell(row, "payload"))),
      });
      return [type, entry];
    }),
  ) as Record<MessageType, MessageTypeRow>,
);

/** Registry 17.2, keyed by code, in registry order. */
export const ERROR_CODES: Readonly<Record<ErrorCode, ErrorCodeRow>> = Object.freeze(
  Object.fromEntries(
    raw.errors.map((row) => {
      const code = oneOf(cell(row, "code"), ERROR_CODE_NAMES, "error code");
      const connection = oneOf(cell(row, "connection"), ["open", "close"] as const, "connection");
      const entry: ErrorCodeRow = Object.freeze({
        code,
        since: oneOf(cell(row, "since"), VERSIONS, "version"),
        retryable: oneOf(cell(row, "retryable"), ["true", "false"] as const, "retryable") === "true",
        connection,
        close: cell(row, "close") === "-" ? null : integerCell(cell(row, "close"), "close code"),
        http: integerCell(cell(row, "http"), "HTTP status"),
        meaning: cell(row, "meaning"),
      });
      return [code, entry];
    }),
  ) as Record<ErrorCode, ErrorCodeRow>,
);

/** Registry 17.3, keyed by name. */
export const CAPABILITY_ROWS: Readonly<Record<Capability, CapabilityRow>> = Object.freeze(
  Object.fromEntries(
    raw.capabilities.map((row) => {
      const name = oneOf(cell(row, "name"), CAPABILITY_NAMES, "capability");
      return [name, Object.freeze({ name, meaning: cell(row, "meaning"), requirements: Object.freeze(list(cell(row, "requirements"))) })];
    }),
  ) as Record<Capability, CapabilityRow>,
);

/** The default limits of the section 13 table. */
export const DEFAULT_LIMITS: Readonly<Record<LimitName, number>> = Object.freeze(
  Object.fromEntries((raw.limits ?? []).map((row) => [oneOf(cell(row, "member"), LIMIT_NAMES, "limit"), integerCell(cell(row, "default"), "limit default")])) as Record<
    LimitName,
    number
  >,
);

/** Registry order of the names of every capability. */
export const CAPABILITIES: readonly Capability[] = Object.freeze(Object.keys(CAPABILITY_ROWS) as Capability[]);

/** True when `since` is at most `version`: a v1.1 row belongs to both versions, a v1.2 row to v1.2 only. */
export function inVersion(since: Version, version: Version): boolean {
  return VERSIONS.indexOf(since) <= VERSIONS.indexOf(version);
}

/** The message types of `version`, in registry order. */
export function messageTypesFor(version: Version): MessageType[] {
  return Object.values(MESSAGE_TYPE_ROWS)
    .filter((row) => inVersion(row.since, version))
    .map((row) => row.type);
}

/** The error codes of `version`, in registry order. */
export function errorCodesFor(version: Version): ErrorCode[] {
  return Object.values(ERROR_CODES)
    .filter((row) => inVersion(row.since, version))
    .map((row) => row.code);
}

/** The record types (section 7.3) of `version`, including ERROR, in registry order. */
export function recordTypesFor(version: Version): MessageType[] {
  return messageTypesFor(version).filter((type) => RECORD_TYPES.includes(type));
}

function typesWhere(predicate: (row: MessageTypeRow) => boolean): readonly MessageType[] {
  return Object.freeze(Object.values(MESSAGE_TYPE_ROWS).filter(predicate).map((row) => row.type));
}

/** Every message type of v1.2 (a superset of v1.1), in registry order. */
export const MESSAGE_TYPES: readonly MessageType[] = typesWhere(() => true);
/** Types that can travel as a record (section 7.3): form `record`, and `ERROR` (form `either`). */
export const RECORD_TYPES: readonly MessageType[] = typesWhere((row) => row.form === "record" || row.form === "either");
/** Types that can travel as a plaintext envelope on `/ws/v1/peers` or HTTP: form `plaintext`, and `ERROR` before a session. */
export const PLAINTEXT_TYPES: readonly MessageType[] = typesWhere((row) => row.form === "plaintext" || row.form === "either");
/** Frames of `/ws/v1/events` (section 15), plaintext envelopes protected by TLS. */
export const EVENTS_TYPES: readonly MessageType[] = typesWhere((row) => row.form === "events");
/** Data records (section 9): acknowledged, retransmitted, de-duplicated, chunkable. */
export const DATA_TYPES = Object.freeze(["PEER_MESSAGE", "BROADCAST", "TASK_REQUEST", "TASK_RESPONSE", "CHUNKED_MESSAGE"] as const);
export type DataType = (typeof DATA_TYPES)[number];
