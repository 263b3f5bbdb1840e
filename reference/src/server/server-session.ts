/**
 * A session as the server holds it: the protocol Session plus what the server needs around it —
 * where its records go now (a WebSocket, an HTTP outbox, or nowhere while disconnected), its
 * reassembler, rate limiter and timers. Its states and their transitions are the table of
 * ./peer-service.ts.
 */
import { Reassembler } from "../chunking.ts";
import type { Limits } from "../limits.ts";
import type { RecordEnvelope } from "../record.ts";
import { Session } from "../session/session.ts";
import { SlidingWindowLimiter } from "./rate-limiter.ts";

/** Where a session's outbound records go. */
export interface RecordSink {
  readonly kind: "websocket" | "http";
  send(record: RecordEnvelope): void;
  /** Closes the underlying connection after an error whose registry row closes it. */
  close(code: number, reason: string): void;
  /** The peer acknowledged every record up to `seq` (cumulative ACK). */
  acknowledged?(seq: number): void;
}

export class ServerSession {
  /** Where records go while connected; undefined while disconnected (or not yet attached). */
  sink: RecordSink | undefined;
  /** True once SESSION_CONFIRM verified (PP-HS-009); no data goes out before. */
  confirmed = false;
  /** When the last connection closed: the resume window runs from here (PP-SES-011). */
  disconnectedAt: number | undefined;
  /** Ended for good (BYE, expiry, replacement): never resumed (PP-SES-015). */
  ended = false;
  readonly reassembler: Reassembler;
  readonly limiter: SlidingWindowLimiter;
  /** An ACK is scheduled (./ack-coalescing.ts). */
  ackPending = false;
  /** Resume nonces already accepted (PP-RPL-006). */
  readonly resumeNonces = new Set<string>();

  constructor(
    readonly session: Session,
    limits: Limits,
  ) {
    this.reassembler = new Reassembler(limits);
    this.limiter = new SlidingWindowLimiter(limits.rate_limit_per_minute);
  }

  get id(): string {
    return this.session.id;
  }

  get peerId(): string {
    return this.session.peerId;
  }

  get connected(): boolean {
    return this.sink !== undefined;
  }
}
