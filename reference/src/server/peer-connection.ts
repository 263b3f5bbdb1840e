/**
 * One WebSocket connection on `/ws/v1/peers`: frames in, envelope validation, the handshake or
 * resume, then records handed to the PeerService. Every failure becomes an ERROR with its registry
 * row's transport behaviour (PP-ERR-003, PP-ERR-004).
 *
 *   start ──INIT──> handshaking ──CHALLENGE_RESPONSE──> await-confirm ──SESSION_CONFIRM──> ready
 *   await-resume ──SESSION_RESUME (READY)──> ready;  (EXPIRED | ERROR | NOT_FOUND) ──> start (PP-SES-019)
 *   await-resume ──any other first message: INVALID_STATE (PP-TRN-023)──> closed
 *   any state before ready ──a well-formed ERROR: no answer, close 4409 (PP-ERR-010)──> closed
 *   ready ──a record past the session's lifetime: SESSION_EXPIRED (PP-SES-018)──> start (PP-SES-020)
 */
import { validateEnvelope, validateInnerPayload } from "../../../schemas/src/index.ts";
import { fromBase64Url } from "../encoding.ts";
import { isMessageId, plaintextEnvelope, type Envelope, type Version } from "../envelope.ts";
import { ProtocolError } from "../errors.ts";
import type { ResponderHandshake } from "../handshake/responder.ts";
import { envelopeText, type RecordEnvelope } from "../record.ts";
import type { PeerService } from "./peer-service.ts";
import type { RecordSink, ServerSession } from "./server-session.ts";
import type { TokenSubject } from "./tokens.ts";
import type { Transport } from "../transport/transport.ts";

const FRAMES_PER_TURN = 32;

type ConnectionState = "start" | "await-resume" | "handshaking" | "await-confirm" | "ready" | "closed";

export class PeerConnection implements RecordSink {
  readonly kind = "websocket";
  state: ConnectionState;
  lastReceivedAt: number;
  lastSentAt: number;
  private responder: ResponderHandshake | undefined;
  private serverSession: ServerSession | undefined;
  private handshakeTimer: NodeJS.Timeout | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly transport: Transport,
    private readonly service: PeerService,
    private readonly options: { resumeSessionId?: string; tokenSubject?: TokenSubject },
  ) {
    this.lastReceivedAt = this.lastSentAt = service.now();
    // PP-TRN-004: a session_id in the URL means the first frame must be SESSION_RESUME.
    this.state = options.resumeSessionId !== undefined ? "await-resume" : "start";
    transport.onMessage((data, isBinary) => this.onFrame(data, isBinary));
    transport.onPong?.(() => (this.lastReceivedAt = service.now()));
    transport.onClose(() => this.onClose());
    transport.onDrain?.(() => {
      if (this.state === "ready" && this.serverSession) this.service.flush(this.serverSession);
    });
    this.armHandshakeTimer();
    this.armHeartbeat();
  }

  get session(): ServerSession | undefined {
    return this.serverSession;
  }

  /**
   * RecordSink: data records go out while the send queue is under half of max_send_queue_bytes; the
   * rest wait in the session's queue and follow on drain. A flush of a full session queue (a
   * resume) then never trips PP-LIM-007, which is left for a peer that stops reading.
   */
  room(): boolean {
    return this.transport.bufferedAmount < this.service.limits.max_send_queue_bytes / 2;
  }

  /** RecordSink: sends a sealed record. */
  send(record: RecordEnvelope): void {
    this.sendJson(record);
  }

  close(code: number, reason: string): void {
    if (this.state === "closed") return;
    this.state = "closed";
    this.stopTimers();
    this.transport.close(code, reason);
  }

  /**
   * The handshake timer (PP-HS-011): from the connection opening, or from the moment it is back in
   * `start` after its session ended (SESSION_EXPIRED, PP-SES-020; SESSION_NOT_FOUND), until READY.
   * Its own timer, so it fires on time rather than at the next sweep.
   */
  private armHandshakeTimer(): void {
    clearTimeout(this.handshakeTimer);
    const timeout = this.service.limits.handshake_timeout_ms;
    this.handshakeTimer = setTimeout(() => {
      if (this.state !== "ready" && this.state !== "closed") this.fail(new ProtocolError("HANDSHAKE_TIMEOUT", `handshake not finished within ${timeout} ms`)); // PP-HS-011
    }, timeout);
    this.handshakeTimer.unref();
  }

  /** The heartbeat (PP-LIM-004, PP-LIM-005): one timer, set for the earlier of the next PING and the dead-peer deadline. */
  private armHeartbeat(): void {
    const limits = this.service.limits;
    const due = Math.min(this.lastSentAt + limits.ping_interval_ms, this.lastReceivedAt + limits.ping_interval_ms + limits.pong_grace_ms);
    this.heartbeatTimer = setTimeout(() => this.heartbeat(), Math.max(1, due - this.service.now()));
    this.heartbeatTimer.unref();
  }

  private heartbeat(): void {
    if (this.state === "closed") return;
    const limits = this.service.limits;
    const now = this.service.now();
    if (now - this.lastReceivedAt >= limits.ping_interval_ms + limits.pong_grace_ms) {
      this.fail(new ProtocolError("HEARTBEAT_TIMEOUT", `nothing received for ${now - this.lastReceivedAt} ms`)); // PP-LIM-005
      return;
    }
    if (now - this.lastSentAt >= limits.ping_interval_ms) {
      this.lastSentAt = now;
      this.transport.ping?.(); // PP-LIM-004
    }
    this.armHeartbeat();
  }

  private stopTimers(): void {
    clearTimeout(this.handshakeTimer);
    clearTimeout(this.heartbeatTimer);
  }

  private sendJson(message: object): void {
    if (this.state === "closed" && (message as { type?: string }).type !== "ERROR") return;
    // PP-LIM-007: a consumer that does not read is disconnected before its queue grows without bound.
    if (this.transport.bufferedAmount > this.service.limits.max_send_queue_bytes) {
      this.service.metrics.errors.labels("BUFFER_OVERFLOW").inc();
      this.close(1013, "BUFFER_OVERFLOW: send queue over max_send_queue_bytes");
      return;
    }
    this.lastSentAt = this.service.now();
    // An ACK may wait for the answers this turn of the event loop sends, to share their write (PP-DLV-002 allows ack_delay_ms).
    this.transport.send(envelopeText(message), (message as { type?: string }).type === "ACK");
  }

  private onClose(): void {
    this.state = "closed";
    this.stopTimers();
    if (this.serverSession) this.service.detach(this.serverSession, this);
  }

  /**
   * Fairness under load: Node reads a readable socket until it is drained, so one busy connection
   * could hold the event loop for a long turn. After FRAMES_PER_TURN frames the connection pauses
   * until the next turn, and the others (and timers) get their share.
   */
  private framesThisTurn = 0;

  private countFrame(): void {
    if (this.framesThisTurn++ === 0) setImmediate(() => (this.framesThisTurn = 0));
    if (this.framesThisTurn === FRAMES_PER_TURN && this.transport.pause) {
      this.transport.pause();
      setImmediate(() => this.transport.resume?.());
    }
  }

  /**
   * A handshake step or resume that waits for something (a cluster's Redis; see
   * ./cluster/cluster-node.ts) holds the frames after it here, so that they are handled in order.
   */
  private waiting: Promise<void> | undefined;
  private readonly backlog: [string | Buffer, boolean][] = [];

  private onFrame(data: string | Buffer, isBinary: boolean): void {
    this.lastReceivedAt = this.service.now();
    this.countFrame();
    if (this.state === "closed") return;
    if (this.waiting) this.backlog.push([data, isBinary]);
    else this.run(data, isBinary);
  }

  private run(data: string | Buffer, isBinary: boolean): void {
    let pending: Promise<void> | undefined;
    try {
      pending = this.handleFrame(data, isBinary);
    } catch (error) {
      this.failWith(error);
      return;
    }
    if (!pending) return;
    this.transport.pause?.();
    this.waiting = pending
      .catch((error: unknown) => this.failWith(error))
      .finally(() => {
        this.waiting = undefined;
        this.transport.resume?.();
        while (!this.waiting && this.backlog.length > 0 && this.state !== "closed") {
          const [next, binary] = this.backlog.shift() as [string | Buffer, boolean];
          this.run(next, binary);
        }
      });
  }

  private failWith(error: unknown): void {
    if (this.state === "closed") return;
    if (error instanceof ProtocolError) this.fail(error);
    else {
      this.service.log.error({ err: error instanceof Error ? error.message : String(error) }, "internal error handling a frame");
      this.fail(new ProtocolError("INTERNAL_ERROR", "the server failed to handle the message"));
    }
  }

  /** Handles one frame; a promise when its step waits for something (the handshake's last step, a resume, a cluster). */
  private handleFrame(data: string | Buffer, isBinary: boolean): Promise<void> | undefined {
    // PP-TRN-002: binary frames and non-JSON text are INVALID_MESSAGE; the connection stays open.
    if (isBinary) throw new ProtocolError("INVALID_MESSAGE", "binary frames are not part of the protocol; send JSON text frames");
    let message: unknown;
    try {
      message = JSON.parse(data.toString());
    } catch {
      throw new ProtocolError("INVALID_MESSAGE", "frame is not valid JSON");
    }
    // related_message_id only when the offending message_id is itself well-formed (PP-ERR-006).
    const claimedId = (message as { message_id?: unknown } | null)?.message_id;
    const relatedId = isMessageId(claimedId) ? claimedId : undefined;
    const version = this.expectedVersion(message);
    // A record's ciphertext is left to the strict decoder below: it is the largest member, and one pass over it is enough.
    const check = validateEnvelope(version, message, { strict: false, ciphertextPattern: false });
    if (!check.ok) throw new ProtocolError("INVALID_MESSAGE", `${check.path || "/"} ${check.error}`, relatedId); // PP-ENV-007, PP-ENV-008
    const envelope = message as Envelope;
    // A string payload is a record's ciphertext (section 7.3): canonical base64url or INVALID_MESSAGE, like any other member (PP-ENV-004).
    const sealed = typeof envelope.payload === "string" ? fromBase64Url(envelope.payload) : undefined;
    if (sealed === null) throw new ProtocolError("INVALID_MESSAGE", "/payload /payload must be canonical base64url without padding (PP-ENV-004)", relatedId);
    if (envelope.type === "ERROR" && this.state !== "ready") {
      // PP-ERR-010: a well-formed ERROR before the session is established (the first message, one in
      // START again after a refused resume or SESSION_EXPIRED, or one in the middle of the handshake)
      // closes the connection unanswered, not even with the INVALID_STATE of the state table
      // (PP-HS-001, PP-TRN-023): no ERROR answers an ERROR (PP-ERR-007).
      this.close(4409, "INVALID_STATE: an ERROR before the session");
      return undefined;
    }
    switch (this.state) {
      case "await-resume":
        if (envelope.type !== "SESSION_RESUME") throw new ProtocolError("INVALID_STATE", `the first frame of a connection with session_id must be SESSION_RESUME, got ${envelope.type}`, envelope.message_id); // PP-TRN-004: a connection with session_id is a resume attempt (PP-SES-001); PP-TRN-023: anything else is INVALID_STATE, a HANDSHAKE_INIT too
        return this.onResume(envelope);
      case "start":
        if (envelope.type === "SESSION_RESUME") return this.onResume(envelope);
        if (envelope.type !== "HANDSHAKE_INIT") {
          throw new ProtocolError("INVALID_STATE", `${envelope.type} before the handshake`, envelope.message_id); // PP-HS-001
        }
        {
          // The state changes only once INIT is accepted: after an ERROR that keeps the connection
          // open (REPLAY_DETECTED), a new HANDSHAKE_INIT may follow (PP-ERR-004).
          const responder = this.service.newResponder("websocket", this.options.tokenSubject);
          const ack = responder.onInit(envelope);
          const accept = () => {
            if (this.state === "closed") return; // closed while the cluster answered
            this.responder = responder;
            this.state = "handshaking";
            this.sendJson(ack);
          };
          if (!this.service.cluster) {
            accept();
            return undefined;
          }
          return this.service.admitInit(envelope).then(accept); // PP-RPL-002 across the cluster's nodes
        }
      case "handshaking": {
        if (envelope.type !== "CHALLENGE_RESPONSE" || !this.responder) throw new ProtocolError("INVALID_STATE", `${envelope.type} while waiting for CHALLENGE_RESPONSE`, envelope.message_id);
        const { established, result } = this.responder.onChallengeResponse(envelope);
        this.responder = undefined;
        const proceed = () => {
          if (this.state === "closed") return; // closed while the cluster answered
          this.sendJson(established);
          this.serverSession = this.service.establish(result);
          this.state = "await-confirm";
        };
        if (!this.service.cluster) {
          proceed();
          return undefined;
        }
        return this.service.admitIdentity(result, envelope.message_id).then(proceed); // PP-AUTH-011 across the cluster's nodes
      }
      case "await-confirm": {
        const serverSession = this.serverSession as ServerSession;
        return this.service.confirm(serverSession, envelope as RecordEnvelope, "stream", sealed).then((ready) => {
          this.service.attach(serverSession, this);
          if (this.state !== "await-confirm") {
            // The connection closed while the session was confirmed (a cluster's Redis answered late):
            // disconnected from now, resumable for resume_window_ms (PP-SES-011).
            this.service.detach(serverSession, this);
            return;
          }
          this.state = "ready";
          clearTimeout(this.handshakeTimer);
          this.handshakeTimer = undefined; // a cleared timer still held would cost every idle session its memory
          this.sendJson(ready);
          this.service.flush(serverSession);
        });
      }
      case "ready": {
        const serverSession = this.serverSession as ServerSession;
        if (envelope.seq === undefined) throw new ProtocolError("INVALID_STATE", `${envelope.type} is not a record; the session is established`, envelope.message_id);
        this.service.records.handle(serverSession, envelope as RecordEnvelope, "stream", this.validateInner, sealed);
        if (serverSession.ended) this.close(1000, "session ended");
        return undefined;
      }
      default:
        return undefined;
    }
  }

  /** PP-KS-010: a record's inner payload against the schema of its type; one function for the connection, not one per record. */
  private readonly validateInner = (type: string, inner: unknown): string | null => {
    const result = validateInnerPayload((this.serverSession as ServerSession).session.version, type, inner, { strict: false });
    return result.ok ? null : `${result.path || "/"} ${result.error}`;
  };

  private async onResume(resume: Envelope): Promise<void> {
    const { answer, serverSession } = await this.service.resume(resume);
    if (this.state === "closed") return;
    this.sendJson(answer);
    if (!serverSession) {
      // EXPIRED, ERROR, NOT_FOUND: the connection stays open for a new handshake or resume (PP-SES-019).
      // A status ERROR answer is no ERROR message: the close of its code's registry row does not apply.
      this.state = "start";
      return;
    }
    this.serverSession = serverSession;
    this.service.attach(serverSession, this); // closes the older connection (PP-SES-014)
    this.state = "ready";
    clearTimeout(this.handshakeTimer);
    this.handshakeTimer = undefined;
    this.service.flush(serverSession); // PP-SES-010: unacknowledged records go out again under new seq
  }

  /** The version an inbound message is validated against. */
  private expectedVersion(message: unknown): Version {
    if (this.serverSession) return this.serverSession.session.version;
    const claimed = (message as { version?: unknown } | null)?.version;
    return claimed === "1.1" ? "1.1" : "1.2";
  }

  /** Sends the ERROR and applies the registry row (PP-ERR-001..004). */
  fail(error: ProtocolError): void {
    this.service.metrics.errors.labels(error.code).inc();
    this.service.log.debug({ code: error.code, reason: error.message, entity: this.serverSession?.peerId }, "protocol error");
    const serverSession = this.serverSession;
    if (this.state === "ready" && serverSession?.sink === this && !serverSession.ended) {
      this.service.sendControl(serverSession, "ERROR", error.toPayload());
    } else if (this.state !== "closed") {
      this.sendJson(plaintextEnvelope({ type: "ERROR", version: serverSession?.session.version ?? "1.2", sender_id: this.service.config.serverId, timestamp: this.service.now(), payload: error.toPayload() }));
    }
    if (error.row.closes) this.close(error.row.closeCode ?? 1011, error.code);
    else if (serverSession?.ended && (this.state === "ready" || this.state === "await-confirm")) {
      // The session ended (SESSION_EXPIRED), or a newer one replaced this pending handshake
      // (SESSION_NOT_FOUND), but the connection stays: back in START, a new handshake may follow,
      // in time (PP-SES-020, PP-HS-011).
      this.serverSession = undefined;
      this.state = "start";
      this.armHandshakeTimer();
    }
  }
}
