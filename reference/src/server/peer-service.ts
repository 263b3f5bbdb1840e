/**
 * The server's protocol logic, independent of the transport: establishing sessions, resuming them,
 * and handling records — acknowledgement, de-duplication, chunk reassembly, routing by
 * `recipient_id`, the echo task and broadcast. WebSocket connections and the HTTP binding both call
 * into this class.
 */
import { splitMessage, type ChunkPayload } from "../chunking.ts";
import type { Ed25519Identity } from "../crypto.ts";
import { toBase64Url } from "../encoding.ts";
import { newMessageId, type Envelope, type Version } from "../envelope.ts";
import { ProtocolError } from "../errors.ts";
import { ResponderHandshake } from "../handshake/responder.ts";
import type { HandshakeResult } from "../handshake/result.ts";
import type { Limits } from "../limits.ts";
import type { RecordEnvelope } from "../record.ts";
import { acceptResume, resumeRefusal } from "../session/resume.ts";
import { DATA_TYPES, Session, type OutboundEntry, type ReplayMode } from "../session/session.ts";
import type { EventsHub } from "./events-hub.ts";
import type { Logger } from "./logger.ts";
import type { ServerMetrics } from "./metrics.ts";
import { ServerSession, type RecordSink } from "./server-session.ts";
import type { ServerStore } from "./store.ts";
import type { TokenSubject } from "./tokens.ts";

export interface ServiceConfig {
  serverId: string;
  identity: Ed25519Identity;
  limits: Limits;
  capabilities: string[];
  now?: () => number;
}

/** Versions per transport: v1.1 is HTTP-only (PP-VER-009). */
const VERSIONS: Record<"websocket" | "http", Version[]> = { websocket: ["1.2"], http: ["1.2", "1.1"] };

export class PeerService {
  readonly now: () => number;

  constructor(
    readonly config: ServiceConfig,
    readonly store: ServerStore,
    readonly hub: EventsHub,
    readonly metrics: ServerMetrics,
    readonly log: Logger,
  ) {
    this.now = config.now ?? Date.now;
  }

  get limits(): Limits {
    return this.config.limits;
  }

  newResponder(transport: "websocket" | "http", tokenSubject?: TokenSubject): ResponderHandshake {
    const { config, store, limits } = this;
    return new ResponderHandshake({
      identity: config.identity,
      serverId: config.serverId,
      versions: VERSIONS[transport],
      capabilities: config.capabilities,
      limits,
      now: this.now,
      newSessionId: () => "sess_" + toBase64Url(Buffer.from(crypto.getRandomValues(new Uint8Array(16)))), // PP-HS-012
      isReplayedNonce: (nonce) => store.seenNonce(nonce, this.now() + limits.max_clock_skew_ms, this.now()),
      checkIdentity: (entityId, key) => {
        const bound = store.boundKey(entityId);
        if (bound && !bound.equals(key)) throw new ProtocolError("AUTHENTICATION_FAILED", `entity ${entityId} is bound to another identity key`); // PP-AUTH-011
      },
      ...(tokenSubject ? { tokenSubject } : {}),
    });
  }

  /** Creates the server session after step 4; the entity's older session hands over its queue (PP-DLV-008). */
  establish(result: HandshakeResult): ServerSession {
    const session = new Session(result, { now: this.now, dedupeMemory: Math.max(1024, this.limits.retransmit_buffer * 4), identity: this.config.identity });
    const serverSession = new ServerSession(session, this.limits);
    const previous = this.store.sessionOf(result.peerId);
    if (previous) {
      session.queued.push(...previous.session.takeUndelivered());
      this.end(previous, "replaced by a new session");
    }
    this.store.bindKey(result.peerId, result.peerIdentityKey); // PP-AUTH-010
    this.store.putSession(serverSession);
    this.metrics.sessions.inc();
    // Ids and versions only: keys, tokens and secrets never reach a log (PP-AUTH-008).
    this.log.info({ entity: result.peerId, version: result.version, capabilities: result.capabilities }, "session established");
    return serverSession;
  }

  /** Step 5 -> 6: verifies SESSION_CONFIRM and returns READY (PP-HS-009). */
  confirm(serverSession: ServerSession, record: RecordEnvelope, mode: ReplayMode): RecordEnvelope {
    if (record.type !== "SESSION_CONFIRM") throw new ProtocolError("INVALID_STATE", `expected SESSION_CONFIRM, got ${record.type}`, record.message_id);
    const inner = serverSession.session.open(record, mode, this.limits.replay_window) as { handshake_hash?: string };
    if (inner.handshake_hash !== toBase64Url(serverSession.session.handshakeHash)) throw new ProtocolError("AUTHENTICATION_FAILED", "SESSION_CONFIRM handshake_hash does not match", record.message_id); // PP-HS-009
    serverSession.ready = true;
    this.metrics.handshakes.labels(mode === "stream" ? "websocket" : "http", "ok").inc();
    return serverSession.session.seal("READY", { handshake_hash: toBase64Url(serverSession.session.handshakeHash) }, { recipient_id: serverSession.peerId });
  }

  attach(serverSession: ServerSession, sink: RecordSink): void {
    const previous = serverSession.sink;
    serverSession.sink = sink;
    serverSession.disconnectedAt = undefined;
    if (previous && previous !== sink) previous.close(1000, "session resumed on a newer connection"); // PP-SES-014
  }

  detach(serverSession: ServerSession, sink: RecordSink): void {
    if (serverSession.sink !== sink) return;
    serverSession.sink = undefined;
    serverSession.disconnectedAt = this.now();
  }

  /** Sends queued records once the session is ready and connected. */
  flush(serverSession: ServerSession): void {
    if (!serverSession.ready || !serverSession.sink) return;
    for (const record of serverSession.session.drainQueue()) this.emit(serverSession, record);
  }

  /**
   * SESSION_RESUME (spec §8). Returns the answer and, when READY, the session with fresh keys;
   * the caller attaches its sink and then calls `flush` to re-send (PP-SES-010).
   */
  resume(resume: Envelope): { answer: Envelope; serverSession?: ServerSession } {
    const payload = resume.payload as { session_id: string };
    const now = this.now();
    const serverSession = this.store.getSession(payload.session_id);
    const refuse = (status: "EXPIRED" | "ERROR" | "NOT_FOUND", error?: ProtocolError) => {
      this.metrics.resumes.labels(status).inc();
      return { answer: resumeRefusal(resume, status, this.config.serverId, now, error) };
    };
    if (!serverSession || serverSession.ended || serverSession.peerId !== resume.sender_id) return refuse("NOT_FOUND"); // PP-SES-004
    if (serverSession.session.version !== "1.2") return refuse("ERROR", new ProtocolError("VERSION_NOT_SUPPORTED", "a v1.1 session cannot be resumed"));
    const windowOver = serverSession.disconnectedAt !== undefined && now - serverSession.disconnectedAt > this.limits.resume_window_ms;
    if (serverSession.session.isExpired(now) || windowOver) {
      this.end(serverSession, "expired");
      return refuse("EXPIRED"); // PP-SES-005
    }
    if (!resume.nonce || serverSession.resumeNonces.has(resume.nonce)) return refuse("ERROR", new ProtocolError("REPLAY_DETECTED", "resume nonce already used", resume.message_id)); // PP-RPL-006
    let accepted;
    try {
      accepted = acceptResume(serverSession.session.resumptionSecret, resume, { serverId: this.config.serverId, now, lastRxSeq: serverSession.session.acknowledgeableSeq });
    } catch (error) {
      if (error instanceof ProtocolError) return refuse("ERROR", error); // PP-SES-003, PP-SES-017: the session is untouched
      throw error;
    }
    serverSession.resumeNonces.add(resume.nonce);
    serverSession.session.rekey(accepted.keys, accepted.peerLastRxSeq);
    serverSession.ready = true;
    this.metrics.resumes.labels("READY").inc();
    this.log.info({ entity: serverSession.peerId, resent: serverSession.session.queued.length }, "session resumed");
    return { answer: accepted.ack, serverSession };
  }

  /** Ends a session for good (BYE, expiry, replacement): it can no longer be resumed (PP-SES-015). */
  end(serverSession: ServerSession, reason: string, closeConnection = true): void {
    if (serverSession.ended) return;
    serverSession.ended = true;
    this.store.deleteSession(serverSession.id);
    this.metrics.sessions.dec();
    if (closeConnection) serverSession.sink?.close(1000, reason);
    serverSession.sink = undefined;
  }

  /** Seals and sends a non-data record (or an ERROR) to a connected session. */
  sendControl(serverSession: ServerSession, type: string, inner: unknown, relatedRecipient = true): void {
    if (!serverSession.sink) return;
    const record = serverSession.session.seal(type, inner, relatedRecipient ? { recipient_id: serverSession.peerId } : {});
    this.emit(serverSession, record);
  }

  private emit(serverSession: ServerSession, record: RecordEnvelope): void {
    this.metrics.countMessage("out", record.type);
    serverSession.sink?.send(record);
  }

  /** Handles one record of an established, ready session. */
  handleRecord(serverSession: ServerSession, record: RecordEnvelope, mode: ReplayMode, validateInner: (type: string, inner: unknown) => string | null): void {
    const session = serverSession.session;
    if (session.isExpired(this.now())) {
      this.end(serverSession, "session lifetime ended", false); // the connection stays open for a new handshake
      throw new ProtocolError("SESSION_EXPIRED", "the session's lifetime has ended", record.message_id); // PP-SES-012
    }
    const inner = session.open(record, mode, this.limits.replay_window);
    this.metrics.countMessage("in", record.type);
    const problem = validateInner(record.type, inner);
    if (problem) throw new ProtocolError("INVALID_MESSAGE", `${record.type} payload: ${problem}`, record.message_id); // PP-KS-010
    switch (record.type) {
      case "ACK": {
        const ack = (inner as { ack: number }).ack;
        session.acknowledge(ack);
        serverSession.sink?.acknowledged?.(ack);
        return;
      }
      case "PING":
        this.sendControl(serverSession, "PONG", { ping_id: (inner as { ping_id: string }).ping_id }); // PP-DLV-010
        return;
      case "PONG":
      case "STATUS":
        return;
      case "ERROR":
        return; // PP-ERR-007: never answer an ERROR with an ERROR
      case "CAPABILITY_EXCHANGE": {
        const exchange = inner as { capabilities: string[]; reply?: boolean };
        if (session.version !== "1.2") throw new ProtocolError("INVALID_STATE", "CAPABILITY_EXCHANGE is not part of v1.1", record.message_id); // PP-VER-010
        if (!exchange.reply) this.sendControl(serverSession, "CAPABILITY_EXCHANGE", { capabilities: session.capabilities, limits: { ...this.limits }, reply: true }); // PP-CAP-003
        return;
      }
      case "BYE":
        this.end(serverSession, "BYE");
        return;
      case "SESSION_CONFIRM":
      case "READY":
        throw new ProtocolError("INVALID_STATE", `${record.type} after the handshake`, record.message_id);
      default:
        if (!DATA_TYPES.has(record.type)) throw new ProtocolError("INVALID_STATE", `${record.type} is not a session record`, record.message_id);
        this.handleData(serverSession, record, inner);
    }
  }

  private handleData(serverSession: ServerSession, record: RecordEnvelope, inner: unknown): void {
    const session = serverSession.session;
    if (!serverSession.limiter.tryAcquire(this.now())) {
      throw new ProtocolError("RATE_LIMIT_EXCEEDED", `more than ${this.limits.rate_limit_per_minute} data messages in 60 s; discarded`, record.message_id); // PP-LIM-003
    }
    this.scheduleAck(serverSession); // PP-DLV-002, PP-DLV-004: duplicates are acknowledged too
    if (record.type === "CHUNKED_MESSAGE") {
      // A chunked message is one data message whose message_id is its chunk_id (spec §10): a chunk of
      // a message already delivered is a duplicate; a repeated chunk of one in progress is the
      // reassembler's (PP-CHK-008). Reassembly survives a resume: those chunks were acknowledged.
      const chunk = inner as ChunkPayload;
      if (session.delivered(session.peerId, chunk.chunk_id)) return;
      const reassembler = serverSession.reassembler;
      const whole = reassembler.add(chunk, this.now());
      if (!whole) return;
      try {
        this.routeOnce(serverSession, record, { message_id: whole.message_id, type: whole.type, inner: whole.payload, sender_id: session.peerId, ...(record.recipient_id !== undefined ? { recipient_id: record.recipient_id } : {}) });
      } catch (error) {
        // PP-DLV-013: only the completing chunk was refused; the others were acknowledged and stay.
        if (error instanceof ProtocolError && error.code === "BUFFER_OVERFLOW") reassembler.withdraw(chunk);
        else reassembler.delivered(chunk.chunk_id);
        throw error;
      }
      reassembler.delivered(chunk.chunk_id);
      return;
    }
    if (session.delivered(session.peerId, record.message_id)) return; // PP-DLV-003
    // PP-DLV-006: the session says who sent it; PP-DLV-012: the message keeps its message_id.
    this.routeOnce(serverSession, record, { message_id: record.message_id, type: record.type, inner, sender_id: session.peerId, ...(record.recipient_id !== undefined ? { recipient_id: record.recipient_id } : {}) });
  }

  /**
   * Routes a whole message and remembers it as delivered. A message refused because a queue is
   * full is neither remembered nor acknowledged, so the sender's re-send gets through (PP-DLV-013).
   */
  private routeOnce(from: ServerSession, record: RecordEnvelope, message: OutboundEntry): void {
    try {
      this.route(from, message);
    } catch (error) {
      if (error instanceof ProtocolError && error.code === "BUFFER_OVERFLOW") from.session.refuse(record.seq);
      throw error;
    }
    from.session.markDelivered(from.session.peerId, message.message_id);
  }

  /** Routes a whole data message from a session's peer (PP-DLV-006..009, PP-EVT-003). */
  private route(from: ServerSession, message: OutboundEntry): void {
    if (message.type === "BROADCAST") {
      if (from.session.version !== "1.2" || !from.session.capabilities.includes("events")) throw new ProtocolError("PERMISSION_DENIED", "BROADCAST needs the events capability", message.message_id); // PP-CAP-001
      const { channel, content } = message.inner as { channel: string; content: unknown };
      this.hub.publish(channel, content, message.sender_id);
      return;
    }
    const recipient = message.recipient_id;
    if (recipient === undefined) throw new ProtocolError("INVALID_MESSAGE", `${message.type} needs a recipient_id`, message.message_id);
    if (recipient === this.config.serverId) {
      this.serveLocally(from, message);
      return;
    }
    const target = this.store.sessionOf(recipient);
    if (!target) {
      if (this.store.knowsEntity(recipient)) throw new ProtocolError("SESSION_NOT_FOUND", `${recipient} has no session to deliver to`, message.message_id);
      throw new ProtocolError("UNKNOWN_RECIPIENT", `no entity ${recipient} is known to this server`, message.message_id); // PP-DLV-007
    }
    this.deliver(target, message);
  }

  /**
   * Queues or sends a data message to a session, chunking it for the wire (PP-CHK-001, PP-CHK-013).
   * A full queue is BUFFER_OVERFLOW naming `causeId`, the message that caused this one (PP-ERR-006).
   */
  deliver(target: ServerSession, message: OutboundEntry, causeId = message.message_id): void {
    const chunks = splitMessage({ message_id: message.message_id, type: message.type, payload: message.inner }, this.limits.max_chunk_bytes); // PP-CHK-001, PP-CHK-014
    const entries: OutboundEntry[] = chunks
      ? chunks.map((chunk) => ({ message_id: `${message.message_id.slice(0, 100)}-c${chunk.sequence_number}`, type: "CHUNKED_MESSAGE", inner: chunk, sender_id: message.sender_id, ...(message.recipient_id !== undefined ? { recipient_id: message.recipient_id } : {}) }))
      : [message];
    // PP-DLV-011, PP-DLV-013: a client advertises no limits, so the server's own retransmit_buffer bounds what it holds for it.
    if (target.session.pendingCount + entries.length > this.limits.retransmit_buffer) {
      throw new ProtocolError("BUFFER_OVERFLOW", `the queue for ${target.peerId} is full (${this.limits.retransmit_buffer} records)`, causeId); // PP-DLV-013
    }
    target.session.queued.push(...entries);
    this.flush(target);
  }

  /** Messages addressed to the server itself: the echo task (PP-DLV-009). */
  private serveLocally(from: ServerSession, message: OutboundEntry): void {
    if (message.type !== "TASK_REQUEST") return; // a PEER_MESSAGE or TASK_RESPONSE to the server is accepted and dropped
    const request = message.inner as { task_id: string; action: string; params?: unknown };
    const response =
      request.action === "echo"
        ? { task_id: request.task_id, status: "ok", result: request.params ?? null }
        : { task_id: request.task_id, status: "error", error: `unknown action ${request.action}; this server serves "echo"` };
    this.deliver(from, { message_id: newMessageId(), type: "TASK_RESPONSE", inner: response, sender_id: this.config.serverId, recipient_id: from.peerId }, message.message_id);
  }

  /**
   * Coalesces acknowledgements (PP-DLV-002): one cumulative ACK at most every ack_delay_ms / 4
   * (10 ms at most), so that a stream of one-at-a-time messages does not cost an ACK record each.
   */
  private scheduleAck(serverSession: ServerSession): void {
    if (serverSession.ackPending) return;
    serverSession.ackPending = true;
    const send = () => {
      serverSession.ackPending = false;
      // A resume may have restarted the numbering since the ACK was scheduled: nothing to acknowledge yet.
      const ack = serverSession.session.acknowledgeableSeq;
      if (serverSession.ended || !serverSession.sink || ack < 0) return;
      this.sendControl(serverSession, "ACK", { ack });
    };
    const delay = Math.min(10, Math.floor(this.limits.ack_delay_ms / 4));
    if (delay === 0) setImmediate(send);
    else setTimeout(send, delay);
  }

  /** Periodic housekeeping: chunk timeouts (PP-CHK-010), resume windows, nonce cache. */
  sweep(): ProtocolError[] {
    const now = this.now();
    const errors: ProtocolError[] = [];
    this.store.sweepNonces(now);
    for (const serverSession of this.store.sessions()) {
      const windowOver = serverSession.disconnectedAt !== undefined && now - serverSession.disconnectedAt > this.limits.resume_window_ms; // PP-SES-005
      if (windowOver || (serverSession.disconnectedAt !== undefined && serverSession.session.isExpired(now))) {
        this.end(serverSession, "resume window over");
        continue;
      }
      for (const chunkId of serverSession.reassembler.expire(now)) {
        const error = new ProtocolError("CHUNK_ERROR", `chunked message ${chunkId} incomplete after ${this.limits.chunk_timeout_ms} ms; discarded`, chunkId);
        if (serverSession.sink && serverSession.ready) this.sendControl(serverSession, "ERROR", error.toPayload());
        errors.push(error);
      }
    }
    return errors;
  }
}
