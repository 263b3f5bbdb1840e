/**
 * The limits object (section 13), advertised in discovery, in `HANDSHAKE_INIT_ACK.payload.limits`
 * and in `CAPABILITY_EXCHANGE` (PP-CAP-002). Every member is required: an endpoint states all its
 * limits. Minimums exclude values that would make the protocol unusable; a zero is allowed where
 * it means "none" (no grace, no subscriptions, no resume window, no skew, no delay).
 */
import { Type, type Static, type TInteger } from "@sinclair/typebox";
import { DEFAULT_LIMITS, LIMIT_NAMES, type LimitName } from "../registry.ts";
import { MAX_SAFE } from "../v1.1/common.ts";

const LIMIT_DOCS: Record<LimitName, { minimum: number; description: string }> = {
  max_frame_bytes: { minimum: 1024, description: "Largest WebSocket frame or HTTP body in bytes; at least 1 KiB so a HANDSHAKE_INIT_ACK fits (PP-LIM-001, PP-LIM-002)." },
  max_message_bytes: { minimum: 1, description: "Largest total_size of a chunked message in bytes (PP-CHK-006)." },
  max_chunk_bytes: { minimum: 1, description: "Largest JCS(payload) sent unchunked, and largest chunk piece, in bytes (PP-CHK-001)." },
  rate_limit_per_minute: { minimum: 0, description: "Data records per session per sliding minute, each chunk counted; 0 means no limit (PP-LIM-003, PP-LIM-016)." },
  ping_interval_ms: { minimum: 1, description: "Idle time after which an endpoint sends PING (PP-LIM-004)." },
  pong_grace_ms: { minimum: 0, description: "Added to ping_interval_ms before a silent connection is closed (PP-LIM-005)." },
  handshake_timeout_ms: { minimum: 1, description: "Time allowed for the in-band handshake (PP-HS-011)." },
  max_subscriptions: { minimum: 0, description: "Channel subscriptions per events connection (PP-LIM-006)." },
  max_send_queue_bytes: { minimum: 1, description: "Unsent data per connection before BUFFER_OVERFLOW (PP-LIM-007)." },
  retransmit_buffer: { minimum: 1, description: "Unacknowledged data records a peer may have outstanding (PP-DLV-011)." },
  resume_window_ms: { minimum: 0, description: "How long a dropped session stays resumable (PP-SES-011)." },
  session_lifetime_ms: { minimum: 1, description: "Lifetime of a session (PP-SES-012)." },
  chunk_timeout_ms: { minimum: 1, description: "Time an incomplete chunked message is kept (PP-CHK-010)." },
  max_clock_skew_ms: { minimum: 0, description: "Accepted difference of a HANDSHAKE_INIT timestamp (PP-RPL-001)." },
  ack_delay_ms: { minimum: 0, description: "Longest delay before acknowledging a data record (PP-DLV-002)." },
  replay_window: { minimum: 1, description: "HTTP replay window in records (PP-RPL-005)." },
  request_timeout_ms: { minimum: 1, description: "Time a connection may stay silent before it upgrades, and time to receive a whole HTTP request (PP-LIM-010)." },
  max_connections_per_ip: { minimum: 0, description: "Open connections from one IP address; 0 means no limit (PP-LIM-011)." },
  max_buffered_bytes: { minimum: 0, description: "Data held for all sessions at once: incomplete chunked messages and data records queued or unacknowledged; 0 means no limit (PP-LIM-012)." },
};

function limitMember(name: LimitName): TInteger {
  const { minimum, description } = LIMIT_DOCS[name];
  return Type.Integer({ minimum, maximum: MAX_SAFE, description: `${description} Default ${DEFAULT_LIMITS[name]}.`, examples: [DEFAULT_LIMITS[name]] });
}

export const LimitsSchema = Type.Object(
  Object.fromEntries(LIMIT_NAMES.map((name) => [name, limitMember(name)])) as Record<LimitName, TInteger>,
  {
    additionalProperties: false,
    description: "The limits an endpoint enforces (section 13); discovery's must equal them (PP-TRN-015).",
    examples: [{ ...DEFAULT_LIMITS }],
  },
);
export type Limits = Static<typeof LimitsSchema>;
