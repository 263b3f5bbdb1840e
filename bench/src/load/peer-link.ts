/**
 * A lean Peer Protocol session for load generation, built from the reference client library's
 * session, resume and chunking modules and the reference key schedule (see `initiator.ts`). It does
 * what `PeerClient` does on the wire (six-step handshake, AEAD records, cumulative ACKs, PONG,
 * chunking, resume) but skips the client-side schema validation and delivery bookkeeping, so the
 * load generator costs less per message than the server it measures. It times every phase.
 */
import WebSocket from "ws";
import { Reassembler, splitMessage, type ChunkPayload } from "../../../reference/src/chunking.ts";
import type { Ed25519Identity } from "../../../reference/src/crypto.ts";
import { toBase64Url } from "../../../reference/src/encoding.ts";
import { randomBytes } from "../../../reference/src/crypto.ts";
import type { Envelope } from "../../../reference/src/envelope.ts";
import { DEFAULT_LIMITS } from "../../../reference/src/limits.ts";
import { afterAckWait } from "../../../reference/src/session/ack-wait.ts";
import { envelopeText, type RecordEnvelope } from "../../../reference/src/record.ts";
import { startResume } from "../../../reference/src/session/resume-initiator.ts";
import { Session } from "../../../reference/src/session/session.ts";
import { epochMs } from "./clock.ts";
import { BenchInitiator } from "./initiator.ts";

export interface LinkOptions {
  /** The server's http(s) base URL. */
  baseUrl: string;
  entityId: string;
  identity: Ed25519Identity;
  timeoutMs?: number;
}

export interface LinkHandlers {
  /** A whole data message (chunks reassembled). */
  onData?(type: string, inner: unknown, messageId: string): void;
  onPong?(pingId: string): void;
  /** An ERROR from the server (plaintext or record). */
  onError?(code: string, message: string): void;
  /** The connection closed while the session was ready. */
  onClose?(code: number, reason: string): void;
}

export class LinkError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

const CAPABILITIES = ["websocket", "resume", "chunking", "events"];
type LinkState = "connecting" | "handshaking" | "resuming" | "ready" | "closed";

interface Waiter {
  resolve(): void;
  reject(error: Error): void;
}

export function wsUrlOf(baseUrl: string, path = "/ws/v1/peers"): string {
  return baseUrl.replace(/^http/, "ws").replace(/\/$/, "") + path;
}

/**
 * A zero masking key: valid on the wire (RFC 6455 §5.3 asks for unpredictable keys to protect
 * intermediaries, and there are none on loopback), and it lets `ws` skip masking every byte. Both
 * the protocol client and the raw baseline client use it.
 */
function zeroMask(mask: Buffer): void {
  mask.fill(0);
}

/** Client WebSocket options shared by the protocol load and the raw baseline. */
export function clientSocketOptions(timeoutMs: number): WebSocket.ClientOptions {
  return { perMessageDeflate: false, handshakeTimeout: timeoutMs, maxPayload: 64 * 1024 * 1024, generateMask: zeroMask };
}

const corked = new WeakSet<WebSocket>();

/**
 * Sends a frame, coalescing every frame sent in the same tick into one write: the socket is corked
 * on the first send and uncorked on the next tick. Used identically for protocol and raw load.
 */
export function batchedSend(ws: WebSocket, data: string): void {
  const socket = (ws as unknown as { _socket?: import("node:net").Socket })._socket;
  if (socket && !corked.has(ws)) {
    corked.add(ws);
    socket.cork();
    process.nextTick(() => {
      corked.delete(ws);
      socket.uncork();
    });
  }
  ws.send(data);
}

export function openWebSocket(url: string, timeoutMs: number): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, clientSocketOptions(timeoutMs));
    const fail = (error: Error) => {
      ws.removeAllListeners();
      ws.on("error", () => {});
      ws.terminate();
      reject(new LinkError("CONNECT_FAILED", error.message));
    };
    ws.once("open", () => {
      ws.removeAllListeners();
      resolve(ws);
    });
    ws.once("error", fail);
    ws.once("unexpected-response", (_request, response) => fail(new Error(`upgrade refused with HTTP ${response.statusCode}`)));
  });
}

export class PeerLink {
  state: LinkState = "connecting";
  session: Session | undefined;
  /** The server's entity id, from HANDSHAKE_INIT_ACK. */
  serverId = "";
  /** Sizes of the three frames this side sent during the handshake (for the raw baseline). */
  readonly handshakeFrameSizes: number[] = [];
  /** Size of the last SESSION_RESUME frame sent. */
  resumeFrameSize = 0;
  private ws: WebSocket | undefined;
  private handshake: BenchInitiator | undefined;
  private resumeFlow: ReturnType<typeof startResume> | undefined;
  private waiter: Waiter | undefined;
  private ackScheduled = false;
  private reassembler: Reassembler | undefined;
  private maxChunk = DEFAULT_LIMITS.max_chunk_bytes;
  private readonly wsUrl: string;
  /** message_id = random per-link prefix + counter: unique per sender (PP-ENV-006) without a syscall per message. */
  private readonly idPrefix = toBase64Url(randomBytes(9));
  private idCounter = 0;

  private constructor(
    private readonly options: LinkOptions,
    public handlers: LinkHandlers,
  ) {
    this.wsUrl = wsUrlOf(options.baseUrl);
  }

  /** Opens `/ws/v1/peers` and runs the six-step handshake; times both phases. */
  static async connect(options: LinkOptions, handlers: LinkHandlers = {}): Promise<{ link: PeerLink; connectMs: number; handshakeMs: number }> {
    const link = new PeerLink(options, handlers);
    const t0 = epochMs();
    const ws = await openWebSocket(link.wsUrl, link.timeoutMs);
    const t1 = epochMs();
    await link.run(ws, "handshaking", () => {
      link.handshake = new BenchInitiator(options.identity, options.entityId, CAPABILITIES);
      link.sendFrame(link.handshake.start());
    });
    return { link, connectMs: t1 - t0, handshakeMs: epochMs() - t1 };
  }

  get timeoutMs(): number {
    return this.options.timeoutMs ?? 10_000;
  }

  get entityId(): string {
    return this.options.entityId;
  }

  get ready(): boolean {
    return this.state === "ready";
  }

  /** The largest inner payload the server takes unchunked (its max_chunk_bytes). */
  get chunkBytes(): number {
    return this.maxChunk;
  }

  /** Data records sent and not yet acknowledged by the server. */
  get unacked(): number {
    return this.session?.unacked.size ?? 0;
  }

  /** Seals and sends a data message, chunked when it exceeds the server's chunk size; returns its message_id. */
  sendData(type: string, inner: unknown, recipientId: string | undefined, mayNeedChunks = false): string {
    const session = this.session;
    if (this.state !== "ready" || !session) throw new LinkError("NOT_READY", "the session is not ready");
    const messageId = this.nextMessageId();
    const fields: { recipient_id?: string; message_id: string } = { message_id: messageId };
    if (recipientId !== undefined) fields.recipient_id = recipientId;
    const chunks = mayNeedChunks ? splitMessage({ message_id: messageId, type, payload: inner }, this.maxChunk) : null; // PP-CHK-001, PP-CHK-014
    if (!chunks) {
      this.sendFrame(session.seal(type, inner, fields));
      return messageId;
    }
    for (const chunk of chunks) this.sendFrame(session.seal("CHUNKED_MESSAGE", chunk, { ...fields, message_id: this.nextMessageId() }));
    return messageId;
  }

  private nextMessageId(): string {
    return `${this.idPrefix}${(this.idCounter++).toString(36)}`;
  }

  /** A PING record (PP-LIM-004); the PONG comes to `onPong`. */
  ping(pingId: string): void {
    if (this.state !== "ready" || !this.session) return;
    this.sendFrame(this.session.seal("PING", { ping_id: pingId }, { recipient_id: this.session.peerId, message_id: this.nextMessageId() }));
  }

  /** Ends the session with BYE (PP-SES-015) and closes. */
  close(): void {
    if (this.state === "closed") return;
    if (this.state === "ready" && this.session) this.sendFrame(this.session.seal("BYE", { reason: "bench done" }, { recipient_id: this.session.peerId }));
    this.state = "closed";
    this.ws?.close(1000, "bench done");
  }

  /** Drops the TCP connection without BYE, as a network failure would; the session stays resumable. */
  drop(): void {
    this.state = "connecting";
    const ws = this.ws;
    this.ws = undefined;
    ws?.terminate();
  }

  /** Kills the socket without BYE and forgets the link (teardown of many sessions). */
  terminate(): void {
    this.state = "closed";
    this.ws?.terminate();
  }

  /** Reconnects to `/ws/v1/peers?session_id=` and resumes (spec §8); times connect and resume. */
  async resume(): Promise<{ connectMs: number; resumeMs: number }> {
    const session = this.session;
    if (!session) throw new LinkError("NOT_READY", "no session to resume");
    const t0 = epochMs();
    const ws = await openWebSocket(`${this.wsUrl}?session_id=${encodeURIComponent(session.id)}`, this.timeoutMs);
    const t1 = epochMs();
    await this.run(ws, "resuming", () => {
      this.resumeFlow = startResume(session.resumptionSecret, { sessionId: session.id, entityId: this.options.entityId, peerId: session.peerId, lastRxSeq: session.lastRecvSeq, now: Date.now() });
      this.sendFrame(this.resumeFlow.resume);
    });
    return { connectMs: t1 - t0, resumeMs: epochMs() - t1 };
  }

  /** Attaches a fresh socket and waits until the session is ready again (or fails). */
  private run(ws: WebSocket, state: "handshaking" | "resuming", begin: () => void): Promise<void> {
    this.ws = ws;
    this.state = state;
    ws.on("error", () => {});
    ws.on("message", (data: Buffer) => {
      if (ws === this.ws) this.onFrame(data);
    });
    ws.on("close", (code: number, reason: Buffer) => {
      if (ws !== this.ws) return;
      const wasReady = this.state === "ready";
      if (this.state !== "closed") this.state = "closed";
      this.settle(new LinkError("CLOSED", `connection closed (${code} ${reason.toString()})`));
      if (wasReady) this.handlers.onClose?.(code, reason.toString());
    });
    const done = new Promise<void>((resolve, reject) => (this.waiter = { resolve, reject }));
    const timer = setTimeout(() => this.settle(new LinkError("TIMEOUT", `${state} did not finish within ${this.timeoutMs} ms`)), this.timeoutMs);
    try {
      begin();
    } catch (error) {
      this.settle(error as Error);
    }
    return done.finally(() => clearTimeout(timer)).catch((error: Error) => {
      this.state = "closed";
      ws.terminate();
      throw error;
    });
  }

  private settle(error?: Error): void {
    const waiter = this.waiter;
    if (!waiter) return;
    this.waiter = undefined;
    if (error) waiter.reject(error);
    else waiter.resolve();
  }

  private sendFrame(message: object): void {
    const text = envelopeText(message);
    if (this.state === "handshaking") this.handshakeFrameSizes.push(text.length);
    else if (this.state === "resuming") this.resumeFrameSize = text.length;
    if (this.ws && this.ws.readyState === WebSocket.OPEN) batchedSend(this.ws, text);
  }

  private onFrame(data: Buffer): void {
    let message: Envelope;
    try {
      message = JSON.parse(data.toString()) as Envelope;
    } catch {
      this.handlers.onError?.("INVALID_MESSAGE", "server sent a frame that is not JSON");
      return;
    }
    try {
      if (message.type === "ERROR" && message.seq === undefined) {
        const payload = message.payload as { code?: string; message?: string };
        if (this.state !== "ready") this.settle(new LinkError(payload.code ?? "ERROR", payload.message ?? "server error"));
        else this.handlers.onError?.(payload.code ?? "ERROR", payload.message ?? "server error");
        return;
      }
      if (this.state === "ready") this.onRecord(message as RecordEnvelope);
      else if (this.state === "handshaking") this.onHandshake(message);
      else if (this.state === "resuming") this.onResumeAnswer(message);
    } catch (error) {
      const text = error instanceof Error ? error.message : String(error);
      if (this.state !== "ready") this.settle(error instanceof Error ? error : new Error(text));
      else this.handlers.onError?.("CLIENT_ERROR", text);
    }
  }

  private onHandshake(message: Envelope): void {
    const handshake = this.handshake as BenchInitiator;
    if (message.type === "HANDSHAKE_INIT_ACK") {
      this.serverId = message.sender_id;
      this.sendFrame(handshake.onInitAck(message));
    } else if (message.type === "SESSION_ESTABLISHED") {
      const result = handshake.onEstablished(message);
      const session = new Session(result, { now: Date.now, dedupeMemory: 64 });
      this.session = session;
      this.maxChunk = result.peerLimits?.max_chunk_bytes ?? DEFAULT_LIMITS.max_chunk_bytes;
      this.sendFrame(session.seal("SESSION_CONFIRM", { handshake_hash: toBase64Url(result.keys.handshakeHash) }, { recipient_id: result.peerId }));
    } else if (message.type === "READY" && this.session) {
      const inner = this.session.open(message as RecordEnvelope, "stream") as { handshake_hash?: string };
      if (inner.handshake_hash !== toBase64Url(this.session.handshakeHash)) throw new LinkError("AUTHENTICATION_FAILED", "READY handshake_hash does not match");
      this.handshake = undefined;
      this.state = "ready";
      this.settle();
    } else {
      throw new LinkError("INVALID_STATE", `${message.type} during the handshake`);
    }
  }

  private onResumeAnswer(message: Envelope): void {
    const session = this.session;
    const flow = this.resumeFlow;
    if (message.type !== "SESSION_RESUME_ACK" || !session || !flow) throw new LinkError("INVALID_STATE", `${message.type} while resuming`);
    const status = (message.payload as { status: string }).status;
    if (status !== "READY") throw new LinkError("RESUME_REFUSED", `resume answered ${status}`);
    const { keys, peerLastRxSeq } = flow.finish(message); // PP-SES-009
    this.resumeFlow = undefined;
    session.rekey(keys, peerLastRxSeq); // PP-SES-008, PP-SES-010
    this.state = "ready";
    this.settle();
  }

  private onRecord(record: RecordEnvelope): void {
    const session = this.session as Session;
    const inner = session.open(record, "stream");
    switch (record.type) {
      case "ACK":
        session.acknowledge((inner as { ack: number }).ack);
        return;
      case "PING":
        this.sendFrame(session.seal("PONG", { ping_id: (inner as { ping_id: string }).ping_id }, { recipient_id: session.peerId, message_id: this.nextMessageId() }));
        return;
      case "PONG":
        this.handlers.onPong?.((inner as { ping_id: string }).ping_id);
        return;
      case "ERROR": {
        const error = inner as { code?: string; message?: string };
        this.handlers.onError?.(error.code ?? "ERROR", error.message ?? "");
        return;
      }
      case "BYE":
        this.state = "closed";
        this.ws?.close(1000, "BYE");
        return;
      case "CHUNKED_MESSAGE": {
        this.scheduleAck();
        this.reassembler ??= new Reassembler(DEFAULT_LIMITS);
        const whole = this.reassembler.add(inner as ChunkPayload, Date.now());
        if (whole) this.handlers.onData?.(whole.type, whole.payload, whole.message_id);
        return;
      }
      case "PEER_MESSAGE":
      case "BROADCAST":
      case "TASK_REQUEST":
      case "TASK_RESPONSE":
        this.scheduleAck(); // PP-DLV-002
        this.handlers.onData?.(record.type, inner, record.message_id);
        return;
      default:
        return;
    }
  }

  /** One cumulative ACK per burst, as the reference client and server do (PP-DLV-002). */
  private scheduleAck(): void {
    if (this.ackScheduled) return;
    this.ackScheduled = true;
    afterAckWait(this.session?.peerLimits?.ack_delay_ms ?? DEFAULT_LIMITS.ack_delay_ms, () => {
      this.ackScheduled = false;
      const session = this.session;
      if (this.state !== "ready" || !session) return;
      this.sendFrame(session.seal("ACK", { ack: session.lastRecvSeq }, { recipient_id: session.peerId, message_id: this.nextMessageId() }));
    });
  }
}
