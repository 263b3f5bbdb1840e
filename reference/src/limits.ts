/** The limits of spec §13 with their defaults, read from the spec's limits registry. */
import registries from "../../spec/registries.json" with { type: "json" };

export interface Limits {
  max_frame_bytes: number;
  max_message_bytes: number;
  max_chunk_bytes: number;
  rate_limit_per_minute: number;
  ping_interval_ms: number;
  pong_grace_ms: number;
  handshake_timeout_ms: number;
  max_subscriptions: number;
  max_send_queue_bytes: number;
  retransmit_buffer: number;
  resume_window_ms: number;
  session_lifetime_ms: number;
  chunk_timeout_ms: number;
  max_clock_skew_ms: number;
  ack_delay_ms: number;
  replay_window: number;
  request_timeout_ms: number;
  max_connections_per_ip: number;
  max_buffered_bytes: number;
}

export const LIMIT_NAMES = registries.limits.map((row) => row.member) as (keyof Limits)[];

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze(Object.fromEntries(registries.limits.map((row) => [row.member, Number(row.default)])) as unknown as Limits);

export function withLimits(overrides: Partial<Limits> = {}): Limits {
  const limits = { ...DEFAULT_LIMITS, ...overrides };
  for (const name of LIMIT_NAMES) {
    const value = limits[name];
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`limit ${name} must be a non-negative integer, got ${String(value)}`);
  }
  return limits;
}
