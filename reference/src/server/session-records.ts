/**
 * What each record of an established, confirmed session does on the server (spec §9..§12): one
 * `case` per record type. A data record goes through the receiver's steps of spec §9 in order:
 * rate limit, acknowledgement, de-duplication, chunk reassembly, then routing (./router.ts).
 */
import type { ChunkPayload } from "../chunking.ts";
import { ProtocolError } from "../errors.ts";
import type { Limits } from "../limits.ts";
import { plaintextLength, type RecordEnvelope } from "../record.ts";
import { DATA_TYPES, type OutboundEntry, type ReplayMode } from "../session/session.ts";
import { scheduleAck } from "./ack-coalescing.ts";
import type { PeerService } from "./peer-service.ts";
import type { Router } from "./router.ts";
import type { ServerSession } from "./server-session.ts";

export class SessionRecords {
  constructor(
    private readonly service: PeerService,
    private readonly router: Router,
  ) {}

  private get limits(): Limits {
    return this.service.limits;
  }

  private now(): number {
    return this.service.now();
  }

  /** Handles one record of an established, confirmed session; `sealed` is its payload, if already decoded. */
  handle(serverSession: ServerSession, record: RecordEnvelope, mode: ReplayMode, validateInner: (type: string, inner: unknown) => string | null, sealed?: Buffer): void {
    const session = serverSession.session;
    if (serverSession.expired || session.isExpired(this.now())) {
      this.service.expire(serverSession); // the connection stays open for a new handshake
      throw new ProtocolError("SESSION_EXPIRED", "the session's lifetime has ended", record.message_id); // PP-SES-012, PP-SES-018: answered, the connection stays open
    }
    if (serverSession.ended) throw new ProtocolError("SESSION_NOT_FOUND", "the session has ended", record.message_id); // PP-SES-015: an ended session handles nothing
    const inner = session.open(record, mode, this.limits.replay_window, sealed);
    this.service.metrics.countMessage("in", record.type);
    const problem = validateInner(record.type, inner);
    if (problem) {
      if (DATA_TYPES.has(record.type)) this.acknowledge(serverSession); // PP-DLV-016: refused for good, so acknowledged
      throw new ProtocolError("INVALID_MESSAGE", `${record.type} payload: ${problem}`, record.message_id); // PP-KS-010
    }
    switch (record.type) {
      case "ACK": {
        const ack = (inner as { ack: number }).ack;
        const cluster = this.service.cluster;
        if (!cluster) {
          if (session.acknowledge(ack) > 0) this.service.account(serverSession); // PP-LIM-013
        } else {
          const released: OutboundEntry[] = [];
          if (session.acknowledge(ack, (entry) => released.push(entry)) > 0) this.service.account(serverSession);
          void cluster.acknowledged(serverSession.peerId, released); // they leave the entity's stream (PP-DLV-001)
        }
        serverSession.sink?.acknowledged?.(ack);
        return;
      }
      case "PING":
        this.service.sendControl(serverSession, "PONG", { ping_id: (inner as { ping_id: string }).ping_id }); // PP-DLV-010
        return;
      case "PONG":
      case "STATUS":
        return;
      case "ERROR":
        return; // PP-ERR-007: never answer an ERROR with an ERROR
      case "CAPABILITY_EXCHANGE": {
        const exchange = inner as { capabilities: string[]; reply?: boolean };
        if (session.version !== "1.2") throw new ProtocolError("INVALID_STATE", "CAPABILITY_EXCHANGE is not part of v1.1", record.message_id); // PP-VER-010
        // PP-CAP-004: the capabilities named are those selected in the handshake; PP-CAP-009: any other set is refused, without a reply.
        if (!sameSet(exchange.capabilities, session.capabilities)) throw new ProtocolError("INVALID_MESSAGE", `CAPABILITY_EXCHANGE must name the capabilities selected in the handshake, ${JSON.stringify(session.capabilities)}`, record.message_id);
        if (!exchange.reply) this.service.sendControl(serverSession, "CAPABILITY_EXCHANGE", { capabilities: session.capabilities, limits: { ...this.limits }, reply: true }); // PP-CAP-003
        return;
      }
      case "BYE":
        this.service.end(serverSession, "BYE");
        return;
      case "SESSION_CONFIRM":
      case "READY":
        throw new ProtocolError("INVALID_STATE", `${record.type} after the handshake`, record.message_id);
      default:
        if (!DATA_TYPES.has(record.type)) throw new ProtocolError("INVALID_STATE", `${record.type} is not a session record`, record.message_id);
        this.onData(serverSession, record, inner, validateInner);
    }
  }

  /** Acknowledges the records received so far within ack_delay_ms, several at once (PP-DLV-002). */
  private acknowledge(serverSession: ServerSession): void {
    scheduleAck(serverSession, this.limits.ack_delay_ms, (ack) => this.service.sendControl(serverSession, "ACK", { ack }));
  }

  private onData(serverSession: ServerSession, record: RecordEnvelope, inner: unknown, validateInner: (type: string, inner: unknown) => string | null): void {
    const session = serverSession.session;
    if (!serverSession.limiter.tryAcquire(this.now())) {
      throw new ProtocolError("RATE_LIMIT_EXCEEDED", `more than ${this.limits.rate_limit_per_minute} data messages in 60 s; discarded`, record.message_id); // PP-LIM-003, PP-LIM-016: every data record of the session counts
    }
    this.acknowledge(serverSession); // PP-DLV-002, PP-DLV-004: duplicates are acknowledged too; PP-DLV-016: so are records refused below
    // PP-DLV-019: the sender a recipient sees is the session's authenticated entity, never a claim.
    if (record.sender_id !== session.peerId) throw new ProtocolError("INVALID_MESSAGE", `sender_id ${record.sender_id} is not this session's entity ${session.peerId}`, record.message_id);
    if (record.type === "CHUNKED_MESSAGE") {
      // A chunked message is one data message whose message_id is its chunk_id (spec §10): a chunk of
      // a message already delivered is a duplicate; a repeated chunk of one in progress is the
      // reassembler's (PP-CHK-008). Reassembly survives a resume: those chunks were acknowledged.
      const chunk = inner as ChunkPayload;
      if (session.delivered(session.peerId, chunk.chunk_id)) return;
      try {
        this.reassemble(serverSession, record, chunk, validateInner);
      } finally {
        this.service.account(serverSession); // PP-LIM-012, PP-LIM-013: held or freed
      }
      return;
    }
    if (session.delivered(session.peerId, record.message_id)) return; // PP-DLV-003
    // PP-DLV-006: the session says who sent it; PP-DLV-012: the message keeps its message_id.
    this.routeOnce(serverSession, record, { message_id: record.message_id, type: record.type, inner, sender_id: session.peerId, ...(record.recipient_id !== undefined ? { recipient_id: record.recipient_id } : {}), size: plaintextLength(record) });
  }

  /** Adds a chunk to its message, within the session's and the server's bounds, and routes the message once whole. */
  private reassemble(serverSession: ServerSession, record: RecordEnvelope, chunk: ChunkPayload, validateInner: (type: string, inner: unknown) => string | null): void {
    const reassembler = serverSession.reassembler;
    // A refused chunk is not acknowledged, so it comes again after a resume (PP-DLV-013). A new
    // message reserves its total_size, so that the chunks of every message taken can complete.
    const reserved = reassembler.reservedBytes;
    if (!reassembler.has(chunk.chunk_id) && chunk.total_size <= this.limits.max_message_bytes && reserved + chunk.total_size > this.limits.max_message_bytes) { // over max_message_bytes alone is CHUNK_ERROR (PP-CHK-006)
      serverSession.session.refuse(record.seq);
      throw new ProtocolError("BUFFER_OVERFLOW", `the session's incomplete chunked messages reserve ${reserved} bytes; a new one of ${chunk.total_size} would pass max_message_bytes ${this.limits.max_message_bytes}`, record.message_id); // PP-CHK-015
    }
    const adding = Math.floor((chunk.data.length * 3) / 4); // decoded base64url: 3 bytes in every 4 characters
    if (!this.service.roomFor(serverSession, adding)) {
      serverSession.session.refuse(record.seq);
      throw new ProtocolError("BUFFER_OVERFLOW", `the server holds ${this.service.heldBytes} bytes for its sessions; ${adding} more would pass max_buffered_bytes ${this.limits.max_buffered_bytes}`, record.message_id); // PP-LIM-012
    }
    const whole = reassembler.add(chunk, this.now(), record.recipient_id); // PP-DLV-018: a chunk held is acknowledged
    if (!whole) return;
    const problem = validateInner(whole.type, whole.payload);
    if (problem) {
      reassembler.delivered(chunk.chunk_id); // discarded: nothing of it is delivered
      throw new ProtocolError("INVALID_MESSAGE", `reassembled ${whole.type} payload: ${problem}`, chunk.chunk_id); // PP-CHK-021
    }
    try {
      this.routeOnce(serverSession, record, { message_id: whole.message_id, type: whole.type, inner: whole.payload, sender_id: serverSession.peerId, ...(record.recipient_id !== undefined ? { recipient_id: record.recipient_id } : {}) });
    } catch (error) {
      // PP-DLV-013: only the completing chunk was refused; the others were acknowledged and stay.
      if (error instanceof ProtocolError && error.code === "BUFFER_OVERFLOW") reassembler.withdraw(chunk);
      else reassembler.delivered(chunk.chunk_id);
      throw error;
    }
    reassembler.delivered(chunk.chunk_id);
  }

  /**
   * Routes a whole message and remembers it as delivered. A message refused because a queue is
   * full is neither remembered nor acknowledged, so the sender's re-send gets through (PP-DLV-013).
   * In a cluster, a message still being stored holds back the record's acknowledgement until it is
   * stored (Session.hold); refused then, the ERROR follows on its own.
   */
  private routeOnce(from: ServerSession, record: RecordEnvelope, message: OutboundEntry): void {
    let storing: Promise<void> | undefined;
    try {
      storing = this.router.route(from, message);
    } catch (error) {
      if (error instanceof ProtocolError && error.code === "BUFFER_OVERFLOW") from.session.refuse(record.seq);
      throw error;
    }
    if (!storing) {
      from.session.markDelivered(from.session.peerId, message.message_id);
      return;
    }
    const queuedHere = this.service.store.sessionOf(message.recipient_id ?? "") !== undefined || message.recipient_id === this.service.config.serverId;
    (this.service.cluster as NonNullable<typeof this.service.cluster>).whenStored(from, record.seq, message.message_id, storing, queuedHere, () => this.acknowledge(from));
  }
}

/** The same names, in any order. */
function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const left = new Set(a);
  const right = new Set(b);
  return left.size === right.size && [...left].every((name) => right.has(name));
}
