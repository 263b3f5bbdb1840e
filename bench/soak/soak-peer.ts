/**
 * One WebSocket peer of the soak, on `/ws/v1/peers`. It runs the reference initiator
 * (reference/src/handshake/initiator.ts) and session (reference/src/session/session.ts), as
 * reference/test/support/raw-peer.ts does, with three differences the soak needs:
 *
 * - it is event-driven: after READY every record is opened as it arrives and handed to the
 *   handlers, so a peer can run for minutes without a test polling it;
 * - the caller gives the identity, so a peer that reconnects presents the key its entity is bound
 *   to (PP-AUTH-010) and its new session replaces the old one;
 * - the handshake can stop after any step, which is how abandoned handshakes are made.
 *
 *   peer (this file)                                   server
 *     | (TCP + upgrade)                                  |   stop "upgrade": the caller never calls handshake()
 *     | 1 HANDSHAKE_INIT ------------------------------->|
 *     |<------------------------------ 2 HANDSHAKE_INIT_ACK   stop "init"
 *     | 3 CHALLENGE_RESPONSE --------------------------->|
 *     |<----------------------------- 4 SESSION_ESTABLISHED   stop "challenge-response"
 *     | 5 SESSION_CONFIRM (record) --------------------->|
 *     |<------------------------------------- 6 READY    |   "ready": the session is usable
 */
import WebSocket from "ws";
import type { Ed25519Identity } from "../../reference/src/crypto.ts";
import { toBase64Url } from "../../reference/src/encoding.ts";
import type { Envelope } from "../../reference/src/envelope.ts";
import { InitiatorHandshake } from "../../reference/src/handshake/initiator.ts";
import type { RecordEnvelope } from "../../reference/src/record.ts";
import { DATA_TYPES, Session } from "../../reference/src/session/session.ts";

export type HandshakeStop = "init" | "challenge-response" | "ready";

export interface PeerHandlers {
  /** An ERROR from the server, plaintext (before the session) or a record (after READY). */
  onError?(code: string, message: string): void;
  /** A data record of the session, already opened. */
  onData?(type: string, inner: unknown, record: RecordEnvelope): void;
  /** The connection closed; `code` is the WebSocket close code (1006 when it just dropped), `byUs` when this side terminated it. */
  onClose?(code: number, byUs: boolean): void;
}

/** The handshake did not reach the step asked for: an ERROR, a close, a timeout, or a wrong answer. */
export class HandshakeFailed extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

const CAPABILITIES = ["websocket", "resume", "chunking", "events"];
/** Large enough for any frame the server may send (its max_frame_bytes is 1 MiB by default). */
const MAX_INBOUND_FRAME = 64 * 1024 * 1024;

export class SoakPeer {
  session: Session | undefined;
  /** The server's entity id, from HANDSHAKE_INIT_ACK. */
  serverId = "";
  closeCode: number | undefined;
  /** This side dropped the connection (terminate()). */
  terminatedByUs = false;
  /** Acknowledge every data record (PP-DLV-002), one cumulative ACK per turn of the event loop. */
  autoAck = true;
  readonly closed: Promise<number>;
  private ready = false;
  /** A handshake is waiting for its next frame: frames go to the inbox. */
  private handshaking = false;
  private readonly inbox: Envelope[] = [];
  private wake: (() => void) | undefined;
  private ackScheduled = false;

  private constructor(
    private readonly ws: WebSocket,
    public handlers: PeerHandlers,
  ) {
    this.closed = new Promise((resolve) => {
      ws.on("close", (code: number) => {
        this.closeCode = code;
        this.wake?.();
        this.handlers.onClose?.(code, this.terminatedByUs);
        resolve(code);
      });
    });
    ws.on("error", () => {}); // a close always follows
    ws.on("message", (data: Buffer) => this.onFrame(data));
  }

  /** Opens the WebSocket (TCP connect and HTTP upgrade); rejects when either fails. */
  static open(wsUrl: string, handlers: PeerHandlers = {}, timeoutMs = 5000): Promise<SoakPeer> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(wsUrl, { perMessageDeflate: false, maxPayload: MAX_INBOUND_FRAME, handshakeTimeout: timeoutMs });
      const fail = (error: Error) => {
        ws.removeAllListeners();
        ws.on("error", () => {});
        ws.terminate();
        reject(error);
      };
      ws.once("error", fail);
      ws.once("unexpected-response", (_request, response) => fail(new Error(`upgrade refused with HTTP ${response.statusCode}`)));
      ws.once("open", () => {
        ws.removeAllListeners();
        resolve(new SoakPeer(ws, handlers));
      });
    });
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Bytes queued in this process that the socket has not taken yet. */
  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  /** Runs the handshake up to `stopAfter` as `entityId` with `identity`. */
  async handshake(identity: Ed25519Identity, entityId: string, stopAfter: HandshakeStop = "ready", timeoutMs = 5000): Promise<void> {
    this.handshaking = true;
    try {
      await this.runHandshake(identity, entityId, stopAfter, timeoutMs);
    } finally {
      this.handshaking = false;
      for (const frame of this.inbox.splice(0)) this.dispatch(frame);
    }
  }

  private async runHandshake(identity: Ed25519Identity, entityId: string, stopAfter: HandshakeStop, timeoutMs: number): Promise<void> {
    const initiator = new InitiatorHandshake({ identity, entityId, versions: ["1.2"], capabilities: CAPABILITIES, now: Date.now });
    this.sendJson(initiator.start());
    const ack = await this.nextFrame("HANDSHAKE_INIT_ACK", timeoutMs);
    this.serverId = ack.sender_id;
    if (stopAfter === "init") return;
    this.sendJson(initiator.onInitAck(ack));
    const result = initiator.onEstablished(await this.nextFrame("SESSION_ESTABLISHED", timeoutMs));
    if (stopAfter === "challenge-response") return;
    const session = new Session(result, { now: Date.now, dedupeMemory: 64 });
    this.session = session;
    this.sendJson(session.seal("SESSION_CONFIRM", { handshake_hash: toBase64Url(result.keys.handshakeHash) }, { recipient_id: result.peerId }));
    const ready = session.open((await this.nextFrame("READY", timeoutMs)) as RecordEnvelope, "stream") as { handshake_hash?: string };
    if (ready.handshake_hash !== toBase64Url(session.handshakeHash)) throw new HandshakeFailed("BAD_READY", "READY handshake_hash does not match"); // PP-HS-009
    this.ready = true;
  }

  /** Seals and sends a record of the session; returns its message_id. */
  sendRecord(type: string, inner: unknown, fields: { recipient_id?: string; message_id?: string } = {}): string {
    const session = this.session;
    if (!session || !this.ready) throw new Error("the session is not ready");
    const record = session.seal(type, inner, fields);
    this.sendJson(record);
    return record.message_id;
  }

  sendJson(message: object): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
  }

  /** Stops reading the socket: the kernel buffers fill, then the server's send queue grows. */
  pauseReading(): void {
    this.ws.pause();
  }

  resumeReading(): void {
    this.ws.resume();
  }

  /** Drops the connection at once, without BYE or a close handshake. */
  terminate(): void {
    // Not by us if the server's close frame already came (the socket is then CLOSING, not OPEN).
    if (this.closeCode === undefined && this.ws.readyState === WebSocket.OPEN) this.terminatedByUs = true;
    this.ws.terminate();
  }

  private onFrame(data: Buffer): void {
    let frame: Envelope;
    try {
      frame = JSON.parse(data.toString()) as Envelope;
    } catch {
      this.handlers.onError?.("client:frame-not-json", "the server sent a frame that is not JSON");
      return;
    }
    if (!this.handshaking) this.dispatch(frame);
    else {
      this.inbox.push(frame);
      this.wake?.();
    }
  }

  private dispatch(frame: Envelope): void {
    if (frame.seq === undefined) {
      if (frame.type === "ERROR") this.reportError(frame.payload);
      return;
    }
    const session = this.session;
    if (!session || !this.ready) return; // a record of a handshake left unfinished
    let inner: unknown;
    try {
      inner = session.open(frame as RecordEnvelope, "stream");
    } catch (error) {
      this.handlers.onError?.("client:record-did-not-open", error instanceof Error ? error.message : String(error));
      return;
    }
    switch (frame.type) {
      case "ACK":
        session.acknowledge((inner as { ack: number }).ack); // frees this side's retransmit buffer
        return;
      case "PING":
        this.sendRecord("PONG", { ping_id: (inner as { ping_id: string }).ping_id }, { recipient_id: session.peerId });
        return;
      case "ERROR":
        this.reportError(inner);
        return;
      default:
        if (!DATA_TYPES.has(frame.type)) return;
        if (this.autoAck) this.scheduleAck();
        this.handlers.onData?.(frame.type, inner, frame as RecordEnvelope);
    }
  }

  private reportError(payload: unknown): void {
    const { code, message } = (payload ?? {}) as { code?: string; message?: string };
    this.handlers.onError?.(code ?? "ERROR", message ?? "");
  }

  /** One cumulative ACK per turn of the event loop (PP-DLV-002). */
  private scheduleAck(): void {
    if (this.ackScheduled) return;
    this.ackScheduled = true;
    setImmediate(() => {
      this.ackScheduled = false;
      const session = this.session;
      if (session && this.isOpen) this.sendRecord("ACK", { ack: session.lastRecvSeq }, { recipient_id: session.peerId });
    });
  }

  /** The next handshake frame, which must be `type`; a plaintext ERROR, a close or the timeout fail it. */
  private async nextFrame(type: string, timeoutMs: number): Promise<Envelope> {
    const deadline = Date.now() + timeoutMs;
    while (this.inbox.length === 0) {
      if (this.closeCode !== undefined) throw new HandshakeFailed(`close ${this.closeCode}`, `connection closed with ${this.closeCode} while waiting for ${type}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new HandshakeFailed("TIMEOUT", `no ${type} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
    const frame = this.inbox.shift() as Envelope;
    if (frame.type === "ERROR" && frame.seq === undefined) {
      this.reportError(frame.payload);
      const code = (frame.payload as { code?: string } | undefined)?.code ?? "ERROR";
      throw new HandshakeFailed(code, `ERROR ${code} while waiting for ${type}`);
    }
    if (frame.type !== type) throw new HandshakeFailed("UNEXPECTED", `expected ${type}, got ${frame.type}`);
    return frame;
  }
}
