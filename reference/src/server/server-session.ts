/**
 * A session as the server holds it: the protocol Session plus what the server needs around it —
 * where its records go now (a WebSocket, an HTTP outbox, or nowhere while disconnected), its
 * reassembler, rate limiter and timers. Its states and their transitions are the table of
 * ./peer-service.ts.
 */
import { Reassembler } from "../chunking.ts";
import type { ProtocolError } from "../errors.ts";
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
  /**
   * Whether the connection takes more data records now (flow control). The rest wait in the
   * session's queue, bounded by PP-DLV-014, until the sink drains and flushes again.
   */
  room?(): boolean;
  /** Reports an error found after its record was handled, with the registry row's behaviour (PP-ERR-003). */
  fail?(error: ProtocolError): void;
}

export class ServerSession {
  /** Where records go while connected; undefined while disconnected (or not yet attached). */
  sink: RecordSink | undefined;
  /**
   * True once SESSION_CONFIRM verified (PP-HS-009): from then on the session is in the store, its
   * entity is bound, and it can be routed to and resumed. Before, it is a pending handshake that
   * only its connection knows, released with it (PP-HS-011).
   */
  confirmed = false;
  /** Order of step 4 among all handshakes: an older pending handshake never replaces a newer session. */
  generation = 0;
  /** When the last connection closed: the resume window runs from here (PP-SES-011). */
  disconnectedAt: number | undefined;
  /** Ended for good (BYE, expiry, replacement): never resumed (PP-SES-015). */
  ended = false;
  /** Ended because its lifetime is over: its records are answered SESSION_EXPIRED (PP-SES-018). */
  expired = false;
  /** Ends the session when its lifetime is over, whatever the traffic (PP-SES-012). */
  lifetimeTimer: NodeJS.Timeout | undefined;
  readonly reassembler: Reassembler;
  readonly limiter: SlidingWindowLimiter;
  /** An ACK is scheduled (./ack-coalescing.ts). */
  ackPending = false;
  /** Resume nonces already accepted (PP-RPL-006); made by the first resume (most sessions never resume). */
  resumeNonces: Set<string> | undefined;
  /** What this session last added to the server's held data (PeerService.account, PP-LIM-012). */
  accountedBytes = 0;

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

  /**
   * The identity key that completed the handshake: bound to the entity at SESSION_CONFIRM
   * (PP-AUTH-010). The session's retained copy, not the handshake's decoded bytes: those are a view
   * into an 8 KiB Buffer pool slab, which a long-lived reference would keep alive per session.
   */
  get identityKey(): Buffer {
    return this.session.peerIdentityKey;
  }

  get connected(): boolean {
    return this.sink !== undefined;
  }

  /** The size of the data records queued or unacknowledged for the peer (PP-DLV-014). */
  get queueBytes(): number {
    let bytes = 0;
    for (const entry of this.session.unacked.values()) bytes += entry.size ?? 0;
    for (const entry of this.session.queued) bytes += entry.size ?? 0;
    return bytes;
  }

  /** Everything the session holds: its queue and its incomplete chunked messages (PP-LIM-012). */
  get heldBytes(): number {
    return this.queueBytes + this.reassembler.heldBytes;
  }
}
