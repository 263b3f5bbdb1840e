/**
 * The client library: its API, and its connection — connect (WebSocket preferred, HTTP fallback),
 * handshake, stay connected with heartbeats, and reconnect with exponential backoff followed by a
 * resume, so that nothing is lost or delivered twice. What it does with the data it receives is
 * ./receiver.ts; how it re-sends chunked messages is ./chunked-sends.ts; how it opens a transport
 * is ./open-transport.ts.
 *
 * The connection's states and transitions (a transition names its method):
 *
 * | state                     | event                                                     | next state   | requirement |
 * | ------------------------- | --------------------------------------------------------- | ------------ | ----------- |
 * | idle, handshaking, reconnecting | a connection opens: HANDSHAKE_INIT (startHandshake) | handshaking  | PP-HS-002   |
 * | reconnecting              | a WebSocket opens with session_id: SESSION_RESUME (attach) | resuming    | PP-SES-001  |
 * | handshaking               | READY verified (onHandshakeMessage)                       | ready        | PP-HS-010   |
 * | resuming                  | SESSION_RESUME_ACK READY verified (onResumeAnswer)        | ready        | PP-SES-009  |
 * | resuming                  | EXPIRED, ERROR or NOT_FOUND (onResumeAnswer)              | handshaking  | PP-SES-006  |
 * | any, with a session       | the connection closes, or is silent too long (onTransportClose, heartbeat) | reconnecting | PP-LIM-005 |
 * | ready                     | the session's lifetime ends: a new connection and handshake (renewSession) | handshaking | PP-SES-012 |
 * | reconnecting              | the backoff delay passes: a new connection (scheduleReconnect) | (attach) | PP-LIM-009  |
 * | idle, handshaking         | no transport completes the handshake (establish)          | closed       | PP-TRN-012  |
 * | ready, without reconnect  | the connection closes (onTransportClose)                  | closed       |             |
 * | any                       | close() sends BYE; a BYE arrives; reconnect gives up (shutdown) | closed | PP-SES-015  |
 *
 * Data goes out only in `ready` (PP-HS-010); until the first session exists it waits in
 * `preSession`. A data record the server discarded with RATE_LIMIT_EXCEEDED waits in `refused`
 * and goes out again after a backoff (PP-LIM-003).
 *
 * ```ts
 * import { PeerClient } from "peer-protocol/reference/client";
 * ```
 *
 * @module peer-protocol/reference/client
 */
import { EventEmitter } from "node:events";
import { validateEnvelope, validateInnerPayload } from "../../../schemas/src/index.ts";
import { splitMessage } from "../chunking.ts";
import { ed25519FromSeed, randomBytes, type Ed25519Identity } from "../crypto.ts";
import { toBase64Url } from "../encoding.ts";
import { newMessageId, plaintextEnvelope, type Envelope } from "../envelope.ts";
import { LocalError, ProtocolError, type ErrorCode } from "../errors.ts";
import { InitiatorHandshake } from "../handshake/initiator.ts";
import { DEFAULT_LIMITS } from "../limits.ts";
import type { RecordEnvelope } from "../record.ts";
import { afterAckWait } from "../session/ack-wait.ts";
import { startResume } from "../session/resume-initiator.ts";
import { Session, type OutboundEntry } from "../session/session.ts";
import type { Transport } from "../transport/transport.ts";
import { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from "./backoff.ts";
import { ChunkedSends } from "./chunked-sends.ts";
import { openTransport, transportOrder, type TransportKind, type TransportPreference } from "./open-transport.ts";
import { Receiver, type ReceivedMessage } from "./receiver.ts";

export type { ReceivedMessage } from "./receiver.ts";
export type { TransportPreference } from "./open-transport.ts";

export interface PeerClientOptions {
  /** The server's http(s) base URL. */
  url: string;
  entityId: string;
  /** 32-byte Ed25519 seed; random when absent. */
  identitySeed?: Buffer;
  transport?: TransportPreference;
  capabilities?: string[];
  token?: string;
  /** Pin the server identity key (base64url), e.g. from discovery. */
  serverIdentityKey?: string;
  /** Pin the server's entity id, e.g. from discovery: the handshake names it and refuses another. */
  serverId?: string;
  reconnect?: Partial<BackoffOptions> & { enabled?: boolean; maxAttempts?: number };
  pollIntervalMs?: number;
  connectTimeoutMs?: number;
  /** Delays before re-sending records refused with RATE_LIMIT_EXCEEDED (PP-LIM-003); 1 s doubling to 60 s by default. */
  rateLimitRetry?: Partial<BackoffOptions>;
  /** Replaces the network, e.g. with an in-memory pair in tests. */
  openTransport?: (kind: TransportKind, resumeSessionId: string | undefined) => Promise<Transport>;
}

/** The connection's state: the table above. */
type ClientState = "idle" | "handshaking" | "resuming" | "ready" | "reconnecting" | "closed";

const DEFAULT_CAPABILITIES = ["websocket", "http", "resume", "chunking", "events"];
/** Data records (spec §9): acknowledged, de-duplicated and delivered; the others are control records. */
const DATA_TYPES = new Set(["PEER_MESSAGE", "BROADCAST", "TASK_REQUEST", "TASK_RESPONSE", "CHUNKED_MESSAGE"]);

/** A text frame's envelope; a frame that is not JSON is INVALID_MESSAGE (PP-TRN-002). */
function parseFrame(text: string): Envelope {
  try {
    return JSON.parse(text) as Envelope;
  } catch {
    throw new ProtocolError("INVALID_MESSAGE", "frame is not JSON");
  }
}

/** The offending message's id for `related_message_id`, when one can be read (PP-ENV-007). */
function readableMessageId(message: unknown): string | undefined {
  const id = (message as { message_id?: unknown } | null)?.message_id;
  return typeof id === "string" && id.length > 0 && id.length <= 128 ? id : undefined;
}

export class PeerClient extends EventEmitter {
  readonly identity: Ed25519Identity;
  readonly entityId: string;
  private state: ClientState = "idle";
  private transport: Transport | undefined;
  private transportKind: TransportKind = "websocket";
  private handshake: InitiatorHandshake | undefined;
  private session: Session | undefined;
  private resumeFlow: ReturnType<typeof startResume> | undefined;
  private readonly preSession: OutboundEntry[] = [];
  /** Data records the server discarded with RATE_LIMIT_EXCEEDED, in the order sent, until the retry timer. */
  private readonly refused: OutboundEntry[] = [];
  private retryTimer: NodeJS.Timeout | undefined;
  private retryAttempt = 0;
  private readonly receiver = new Receiver(
    (message) => this.emit("message", message),
    (error) => this.transport && this.refuse(this.transport, error),
  );
  private readonly chunkedSends = new ChunkedSends();
  private readyWaiter: { resolve(): void; reject(error: Error): void } | undefined;
  private ackScheduled = false;
  private attempt = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private lifetimeTimer: NodeJS.Timeout | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private lastSentAt = 0;
  private lastReceivedAt = 0;

  private constructor(private readonly options: PeerClientOptions) {
    super();
    this.identity = ed25519FromSeed(options.identitySeed ?? randomBytes(32));
    this.entityId = options.entityId;
  }

  /** Connects and completes the handshake, trying transports in the preferred order (spec §4.3). */
  static async connect(options: PeerClientOptions): Promise<PeerClient> {
    const client = new PeerClient(options);
    await client.establish();
    return client;
  }

  get sessionId(): string | undefined {
    return this.session?.id;
  }

  get connected(): boolean {
    return this.state === "ready";
  }

  get transportInUse(): TransportKind {
    return this.transportKind;
  }

  /** Data messages sent and not yet acknowledged, plus those waiting to be sent. */
  get pendingCount(): number {
    return (this.session?.pendingCount ?? 0) + this.preSession.length + this.refused.length;
  }

  /** Sends a PEER_MESSAGE; returns its message_id. Large payloads are chunked automatically. */
  send(recipientId: string, content: unknown): string {
    return this.sendData("PEER_MESSAGE", recipientId, { content });
  }

  /** Publishes on a channel of `/ws/v1/events` subscribers (spec §15). */
  broadcast(channel: string, content: unknown): string {
    return this.sendData("BROADCAST", undefined, { channel, content });
  }

  /** Sends a TASK_REQUEST and resolves with the TASK_RESPONSE's result. */
  request(recipientId: string, action: string, params: unknown): Promise<unknown> {
    const taskId = toBase64Url(randomBytes(12));
    return new Promise((resolve, reject) => {
      this.receiver.expectTask(taskId, { resolve, reject });
      this.sendData("TASK_REQUEST", recipientId, { task_id: taskId, action, params });
    });
  }

  /** Every data message delivered to this client, once each and in order. */
  messages(): AsyncIterableIterator<ReceivedMessage> {
    return this.receiver.inbox;
  }

  /** Ends the session with BYE (PP-SES-015) and closes. */
  async close(): Promise<void> {
    if (this.state === "closed") return;
    if (this.state === "ready" && this.session && this.transport && !this.session.isExpired()) this.transport.send(JSON.stringify(this.session.seal("BYE", { reason: "client closing" }, { recipient_id: this.session.peerId })));
    this.shutdown(new LocalError("CONNECTION_CLOSED", "client closed"));
  }

  /** Drops the connection without BYE, as a network failure would; the client reconnects and resumes. */
  dropConnection(): void {
    this.transport?.close(4000, "dropped");
  }

  private sendData(type: string, recipientId: string | undefined, payload: unknown): string {
    if (this.state === "closed") throw new LocalError("CONNECTION_CLOSED", "client is closed");
    const messageId = newMessageId();
    const maxChunk = this.session?.peerLimits?.max_chunk_bytes ?? DEFAULT_LIMITS.max_chunk_bytes;
    const chunks = splitMessage({ message_id: messageId, type, payload }, maxChunk); // PP-CHK-001
    const base = { sender_id: this.entityId, ...(recipientId !== undefined ? { recipient_id: recipientId } : {}) };
    const entries: OutboundEntry[] = chunks ? chunks.map((chunk) => ({ ...base, message_id: newMessageId(), type: "CHUNKED_MESSAGE", inner: chunk })) : [{ ...base, message_id: messageId, type, inner: payload }];
    if (chunks) this.chunkedSends.add(messageId, entries);
    if (this.session) this.session.queued.push(...entries);
    else this.preSession.push(...entries);
    this.flush();
    return messageId;
  }

  /** Sends queued data while the peer's retransmit bound allows (PP-DLV-011). */
  private flush(): void {
    const session = this.session;
    if (this.state !== "ready" || !session || !this.transport) return; // PP-HS-010
    if (session.isExpired()) return this.renewSession(); // PP-SES-012
    const window = session.peerLimits?.retransmit_buffer ?? DEFAULT_LIMITS.retransmit_buffer;
    for (const record of session.drainQueue(window)) {
      this.lastSentAt = Date.now();
      this.transport.send(JSON.stringify(record));
    }
  }

  private async establish(): Promise<void> {
    let lastError: Error | undefined;
    for (const kind of transportOrder(this.options.transport)) {
      try {
        await this.attach(kind, false);
        return;
      } catch (error) {
        lastError = error as Error;
        // PP-TRN-012: fall back to the next transport; a protocol refusal is not a transport failure,
        // whether the server refused the client or the client the server (a key or id it does not expect).
        if (error instanceof ProtocolError || (error instanceof LocalError && error.code === "REMOTE_ERROR")) throw error;
      }
    }
    this.state = "closed";
    throw new LocalError("TRANSPORT_UNAVAILABLE", `could not connect to ${this.options.url}: ${lastError?.message ?? "no transport"}`);
  }

  private openTransport(kind: TransportKind, resumeSessionId: string | undefined): Promise<Transport> {
    if (this.options.openTransport) return this.options.openTransport(kind, resumeSessionId);
    return openTransport(this.options, kind, resumeSessionId);
  }

  /** Opens a transport and runs the handshake (or a resume); resolves once READY. */
  private async attach(kind: TransportKind, resume: boolean): Promise<void> {
    // PP-SES-012: a session past its lifetime is not resumed; a new handshake makes a new one.
    const resumeId = resume && kind === "websocket" && this.session?.capabilities.includes("resume") && !this.session.isExpired() ? this.session.id : undefined;
    const transport = await this.openTransport(kind, resumeId);
    this.transport = transport;
    this.transportKind = kind;
    const ready = new Promise<void>((resolve, reject) => (this.readyWaiter = { resolve, reject }));
    transport.onMessage((data, isBinary) => this.onFrame(transport, data.toString(), isBinary));
    transport.onClose((code, reason) => this.onTransportClose(transport, code, reason));
    if (resumeId && this.session) {
      this.state = "resuming";
      this.resumeFlow = startResume(this.session.resumptionSecret, { sessionId: this.session.id, entityId: this.entityId, peerId: this.session.peerId, lastRxSeq: this.session.acknowledgeableSeq, now: Date.now() }); // PP-SES-021
      transport.send(JSON.stringify(this.resumeFlow.resume)); // PP-SES-001: the first frame
    } else {
      this.startHandshake(transport);
    }
    const timeout = setTimeout(() => this.readyWaiter?.reject(new LocalError("TIMEOUT", "handshake did not complete in time")), this.options.connectTimeoutMs ?? 10_000);
    try {
      await ready;
    } catch (error) {
      transport.close(1000, "handshake failed");
      throw error;
    } finally {
      clearTimeout(timeout);
    }
  }

  private startHandshake(transport: Transport): void {
    this.state = "handshaking";
    this.handshake = new InitiatorHandshake({
      identity: this.identity,
      entityId: this.entityId,
      versions: ["1.2"],
      capabilities: this.options.capabilities ?? DEFAULT_CAPABILITIES,
      now: Date.now,
      ...(this.options.serverIdentityKey ? { expectedResponderKey: Buffer.from(this.options.serverIdentityKey, "base64url") } : {}),
      ...(this.options.serverId !== undefined ? { responderId: this.options.serverId } : {}),
    });
    transport.send(JSON.stringify(this.handshake.start()));
  }

  private onFrame(transport: Transport, text: string, isBinary = false): void {
    if (transport !== this.transport) return;
    this.lastReceivedAt = Date.now();
    try {
      if (isBinary) throw new ProtocolError("INVALID_MESSAGE", "binary frames are not part of the protocol; send JSON text frames"); // PP-TRN-002
      const message = parseFrame(text);
      const version = this.session?.version ?? "1.2";
      const check = validateEnvelope(version, message, { strict: false }); // PP-ENV-012, PP-ENV-013: the schema first
      if (!check.ok) throw new ProtocolError("INVALID_MESSAGE", `${check.path} ${check.error}`, readableMessageId(message)); // PP-ENV-007
      if (message.type === "ERROR" && message.seq === undefined) return this.onRemoteError(message.payload as { code: ErrorCode; message: string; retryable: boolean; related_message_id?: string });
      switch (this.state) {
        case "handshaking":
          return this.onHandshakeMessage(transport, message);
        case "resuming":
          return this.onResumeAnswer(transport, message);
        case "ready":
          return this.onRecord(message as RecordEnvelope);
        default:
          return;
      }
    } catch (error) {
      this.refuse(transport, error instanceof ProtocolError ? error : new ProtocolError("INTERNAL_ERROR", (error as Error).message));
    }
  }

  /**
   * A protocol error of this client's connection (spec §12): the server is told with an ERROR
   * (sendError), then the connection closes with the row's close code, or stays open (PP-ERR-003,
   * PP-ERR-004).
   */
  private refuse(transport: Transport, failure: ProtocolError): void {
    if (this.listenerCount("error") > 0) this.emit("error", failure);
    if (this.readyWaiter) this.readyWaiter.reject(failure);
    if (transport === this.transport) this.sendError(transport, failure);
    if (failure.row.closes) transport.close(failure.row.closeCode ?? 1011, failure.code);
  }

  /**
   * Answers a message with ERROR: the registry's code and `retryable` (PP-ERR-001, PP-ERR-002), a
   * record once the session is ready, a plaintext ERROR with a fresh nonce before (PP-ENV-010).
   * The message says what was wrong, never a key (PP-ERR-008).
   */
  private sendError(transport: Transport, failure: ProtocolError): void {
    if (this.state === "ready" && this.session) return this.sendRecord("ERROR", failure.toPayload());
    const version = this.session?.version ?? "1.2";
    transport.send(JSON.stringify(plaintextEnvelope({ type: "ERROR", version, sender_id: this.entityId, timestamp: Date.now(), payload: failure.toPayload() })));
  }

  private onHandshakeMessage(transport: Transport, message: Envelope): void {
    const handshake = this.handshake as InitiatorHandshake;
    if (message.type === "HANDSHAKE_INIT_ACK") {
      transport.send(JSON.stringify(handshake.onInitAck(message)));
    } else if (message.type === "SESSION_ESTABLISHED") {
      const result = handshake.onEstablished(message);
      const session = new Session(result, { now: Date.now, dedupeMemory: 4096, identity: this.identity });
      // Carry everything not yet acknowledged into the new session: nothing is lost (spec §8).
      const previous = this.session;
      if (previous) session.queued.push(...previous.takeUndelivered());
      session.queued.push(...this.preSession.splice(0));
      this.chunkedSends.resendWhole(session, this.preSession);
      this.session = session;
      this.receiver.useLimits(session.peerLimits); // chunks are reassembled under the server's limits
      transport.send(JSON.stringify(session.seal("SESSION_CONFIRM", { handshake_hash: toBase64Url(result.keys.handshakeHash) }, { recipient_id: result.peerId })));
    } else if (message.type === "READY" && this.session) {
      const inner = this.session.open(message as RecordEnvelope, this.transportKind === "http" ? "window" : "stream") as { handshake_hash: string };
      if (inner.handshake_hash !== toBase64Url(this.session.handshakeHash)) throw new ProtocolError("AUTHENTICATION_FAILED", "READY handshake_hash does not match");
      this.becomeReady();
    } else {
      throw new ProtocolError("INVALID_STATE", `${message.type} during the handshake`, message.message_id);
    }
  }

  private onResumeAnswer(transport: Transport, message: Envelope): void {
    if (message.type !== "SESSION_RESUME_ACK" || !this.resumeFlow || !this.session) throw new ProtocolError("INVALID_STATE", `${message.type} while resuming`, message.message_id);
    const status = (message.payload as { status: string }).status;
    if (status !== "READY") {
      // PP-SES-006: EXPIRED, ERROR or NOT_FOUND only ever lead to a new handshake.
      this.emit("resume-refused", status);
      this.resumeFlow = undefined;
      this.startHandshake(transport);
      return;
    }
    const { keys, peerLastRxSeq } = this.resumeFlow.finish(message); // PP-SES-009
    this.resumeFlow = undefined;
    this.session.rekey(keys, peerLastRxSeq); // PP-SES-008, PP-SES-010
    this.chunkedSends.resendWhole(this.session, this.preSession);
    this.emit("resumed", this.session.id);
    this.becomeReady();
  }

  private becomeReady(): void {
    this.state = "ready";
    this.attempt = 0;
    this.startHeartbeat();
    this.watchLifetime();
    this.readyWaiter?.resolve();
    this.readyWaiter = undefined;
    this.flush();
  }

  private onRecord(record: RecordEnvelope): void {
    const session = this.session as Session;
    const inner = session.open(record, this.transportKind === "http" ? "window" : "stream");
    // A data record that authenticated is acknowledged even when it is refused below (PP-DLV-016).
    if (DATA_TYPES.has(record.type)) this.scheduleAck();
    const check = validateInnerPayload(session.version, record.type, inner, { strict: false });
    if (!check.ok) throw new ProtocolError("INVALID_MESSAGE", `${record.type} payload ${check.path} ${check.error}`, record.message_id);
    switch (record.type) {
      case "ACK":
        if (session.acknowledge((inner as { ack: number }).ack) > 0 && this.refused.length === 0 && !this.retryTimer) this.retryAttempt = 0;
        this.chunkedSends.forgetDelivered(session, [...this.preSession, ...this.refused]);
        this.flush();
        return;
      case "PING":
        this.sendRecord("PONG", { ping_id: (inner as { ping_id: string }).ping_id }); // PP-DLV-010
        return;
      case "ERROR":
        return this.onRemoteError(inner as { code: ErrorCode; message: string; retryable: boolean; related_message_id?: string });
      case "CAPABILITY_EXCHANGE":
        return this.onCapabilityExchange(record, inner as { capabilities: string[]; reply?: boolean });
      case "BYE":
        this.shutdown(new LocalError("CONNECTION_CLOSED", `server ended the session: ${(inner as { reason?: string }).reason ?? "BYE"}`));
        return;
      case "CHUNKED_MESSAGE":
      case "PEER_MESSAGE":
      case "BROADCAST":
      case "TASK_REQUEST":
      case "TASK_RESPONSE":
        return this.receiver.onData(record, inner, session.version);
      default:
        return;
    }
  }

  /**
   * A CAPABILITY_EXCHANGE restates what the handshake selected (spec §11): another set is
   * INVALID_MESSAGE with no reply (PP-CAP-004, PP-CAP-009); otherwise one without `reply` is answered
   * with the session's capabilities and the limits both sides use, the server's (PP-CAP-003, PP-CHK-018).
   */
  private onCapabilityExchange(record: RecordEnvelope, exchange: { capabilities: string[]; reply?: boolean }): void {
    const session = this.session as Session;
    const named = new Set(exchange.capabilities);
    if (named.size !== session.capabilities.length || session.capabilities.some((c) => !named.has(c))) throw new ProtocolError("INVALID_MESSAGE", "CAPABILITY_EXCHANGE names capabilities other than those selected in the handshake", record.message_id);
    if (exchange.reply === true) return;
    this.sendRecord("CAPABILITY_EXCHANGE", { capabilities: [...session.capabilities], limits: { ...DEFAULT_LIMITS, ...session.peerLimits }, reply: true });
  }

  /** One cumulative ACK per burst (../session/ack-wait.ts), within the server's ack_delay_ms (PP-DLV-002). */
  private scheduleAck(): void {
    if (this.ackScheduled) return;
    this.ackScheduled = true;
    afterAckWait(this.session?.peerLimits?.ack_delay_ms ?? DEFAULT_LIMITS.ack_delay_ms, () => {
      this.ackScheduled = false;
      const session = this.session;
      if (this.state !== "ready" || !session || !this.transport) return;
      this.sendRecord("ACK", { ack: session.acknowledgeableSeq }); // PP-SES-021
    });
  }

  private onRemoteError(error: { code: ErrorCode; message: string; retryable: boolean; related_message_id?: string }): void {
    const failure = new LocalError("REMOTE_ERROR", `${error.code}: ${error.message}`, error);
    if (this.readyWaiter && this.state !== "ready") {
      this.readyWaiter.reject(failure);
      this.readyWaiter = undefined;
      return;
    }
    if (error.code === "RATE_LIMIT_EXCEEDED" && error.related_message_id !== undefined) this.holdRefused(error.related_message_id);
    this.emit("remote-error", error);
  }

  /**
   * PP-LIM-003, PP-DLV-001: the server discarded this data record, and the cumulative ACK that
   * follows will cover its seq, so it leaves the retransmit buffer now and is sent again after a
   * backoff as a new record with the same message_id (the receiver de-duplicates by it, PP-DLV-003).
   * The ERROR comes before that ACK on the ordered connection, so the record is still unacknowledged.
   */
  private holdRefused(messageId: string): void {
    const session = this.session;
    if (!session) return;
    for (const [seq, entry] of session.unacked) {
      if (entry.message_id !== messageId) continue;
      session.unacked.delete(seq);
      const { seq: _seq, ...unsent } = entry;
      this.refused.push(unsent);
      break;
    }
    if (this.refused.length === 0 || this.retryTimer || this.state === "closed") return;
    const delay = backoffDelay(this.retryAttempt++, { ...DEFAULT_BACKOFF, ...this.options.rateLimitRetry });
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.state === "closed") return;
      // Ahead of what is still queued, in the order first sent; a new session takes them from the queue.
      const entries = this.refused.splice(0);
      if (this.session) this.session.queued.unshift(...entries);
      else this.preSession.unshift(...entries);
      this.flush();
    }, delay);
  }

  private onTransportClose(transport: Transport, code: number, reason: string): void {
    if (transport !== this.transport || this.state === "closed") return;
    this.readyWaiter?.reject(new LocalError("CONNECTION_CLOSED", `connection closed (${code} ${reason})`));
    this.readyWaiter = undefined;
    const reconnect = this.options.reconnect ?? {};
    if (reconnect.enabled === false || !this.session) {
      if (this.state === "ready") this.shutdown(new LocalError("CONNECTION_CLOSED", `connection closed (${code} ${reason})`));
      return;
    }
    this.state = "reconnecting";
    this.scheduleReconnect();
  }

  /**
   * One reconnection at a time: a failed attempt is reported both by its transport's close and by
   * its rejected attach, and two attempts would resume with the same secret — one would be refused
   * and force a new handshake, with two live connections meanwhile (PP-SES-014).
   */
  private scheduleReconnect(): void {
    if (this.reconnectTimer || this.state === "closed") return;
    const reconnect = { ...DEFAULT_BACKOFF, ...this.options.reconnect };
    if (this.options.reconnect?.maxAttempts !== undefined && this.attempt >= this.options.reconnect.maxAttempts) {
      this.shutdown(new LocalError("CONNECTION_CLOSED", "gave up reconnecting"));
      return;
    }
    const delay = backoffDelay(this.attempt++, reconnect); // PP-LIM-009
    this.emit("reconnecting", { attempt: this.attempt, delayMs: delay });
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.state === "closed") return;
      this.attach(this.transportKind, true).catch(() => {
        if (this.state !== "closed" && this.state !== "ready") {
          this.state = "reconnecting";
          this.scheduleReconnect();
        }
      });
    }, delay);
  }

  /**
   * PP-LIM-004: a PING record when nothing was sent for ping_interval_ms; PP-LIM-005: a connection
   * silent for ping_interval_ms + pong_grace_ms is dead and is dropped, which starts a resume.
   */
  private startHeartbeat(): void {
    if (this.heartbeatTimer) return;
    const limits = { ...DEFAULT_LIMITS, ...this.session?.peerLimits };
    const period = Math.max(10, Math.min(limits.ping_interval_ms, limits.pong_grace_ms) / 2);
    this.lastReceivedAt = this.lastSentAt = Date.now();
    this.heartbeatTimer = setInterval(() => {
      const now = Date.now();
      if (this.state !== "ready" || !this.session || !this.transport) return;
      if (now - this.lastReceivedAt >= limits.ping_interval_ms + limits.pong_grace_ms) {
        this.transport.close(4002, "HEARTBEAT_TIMEOUT");
        return;
      }
      if (now - this.lastSentAt >= limits.ping_interval_ms) this.sendRecord("PING", { ping_id: toBase64Url(randomBytes(8)) });
    }, period);
    this.heartbeatTimer.unref();
  }

  /** Renews the session when its lifetime ends (PP-SES-012); setTimeout holds at most 2^31-1 ms, so a longer lifetime is waited for in steps. */
  private watchLifetime(): void {
    clearTimeout(this.lifetimeTimer);
    const session = this.session;
    if (!session) return;
    this.lifetimeTimer = setTimeout(() => (session.isExpired() ? this.renewSession() : this.watchLifetime()), Math.min(Math.max(0, session.expiresAt - Date.now()), 2 ** 31 - 1));
    this.lifetimeTimer.unref();
  }

  /**
   * PP-SES-012: a session is not used after its lifetime ends. Its connection closes without a
   * record more (not even BYE), and a new handshake on a new connection makes a new session, which
   * takes over every data record not yet acknowledged (spec §8), as after a refused resume.
   */
  private renewSession(): void {
    const session = this.session;
    if (this.state !== "ready" || !session || !session.isExpired()) return;
    const expired = this.transport;
    this.state = "handshaking";
    this.transport = undefined;
    expired?.close(1000, "session lifetime ended");
    this.attach(this.transportKind, false).catch((error: Error) => {
      if (this.state === "closed" || this.state === "ready") return;
      if (this.options.reconnect?.enabled === false) return this.shutdown(new LocalError("CONNECTION_CLOSED", `no new session after the lifetime of the last one: ${error.message}`));
      this.state = "reconnecting";
      this.scheduleReconnect();
    });
  }

  private sendRecord(type: string, inner: unknown): void {
    const session = this.session as Session;
    if (session.isExpired()) return this.renewSession(); // PP-SES-012
    this.lastSentAt = Date.now();
    this.transport?.send(JSON.stringify(session.seal(type, inner, { recipient_id: session.peerId })));
  }

  private shutdown(reason: LocalError): void {
    this.state = "closed";
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    clearTimeout(this.lifetimeTimer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.transport?.close(1000, "client closed");
    this.receiver.end(reason);
    this.emit("closed", reason);
  }
}
