/**
 * A raw peer for server tests: it runs the reference handshake code but lets a test send any frame
 * and read every frame and the close code.
 */
import WebSocket from "ws";
import { ed25519FromSeed, randomBytes } from "../../src/crypto.ts";
import { toBase64Url } from "../../src/encoding.ts";
import type { Envelope } from "../../src/envelope.ts";
import { InitiatorHandshake } from "../../src/handshake/initiator.ts";
import type { RecordEnvelope } from "../../src/record.ts";
import { Session } from "../../src/session/session.ts";

export interface Frame {
  message_id: string;
  type: string;
  seq?: number;
  payload: unknown;
}

export class RawPeer {
  /** Frames not yet taken by next(). */
  readonly frames: Frame[] = [];
  /** Every frame received, in order. */
  readonly history: Frame[] = [];
  session: Session | undefined;
  closeCode: number | undefined;
  private waiters: (() => void)[] = [];

  private constructor(readonly ws: WebSocket) {
    ws.on("message", (data) => {
      const frame = JSON.parse(data.toString()) as Frame;
      this.frames.push(frame);
      this.history.push(frame);
      this.waiters.splice(0).forEach((w) => w());
    });
    ws.on("close", (code) => {
      this.closeCode = code;
      this.waiters.splice(0).forEach((w) => w());
    });
  }

  static async open(url: string, options: WebSocket.ClientOptions = {}): Promise<RawPeer> {
    const ws = new WebSocket(url, { perMessageDeflate: false, ...options });
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    return new RawPeer(ws);
  }

  sendRaw(data: string | object): void {
    this.ws.send(typeof data === "string" ? data : JSON.stringify(data));
  }

  /** Waits for the next frame (decrypting records once the session exists). */
  async next(timeoutMs = 3000): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    while (this.frames.length === 0) {
      if (this.closeCode !== undefined) throw new Error(`connection closed with ${this.closeCode} before a frame arrived`);
      if (Date.now() > deadline) throw new Error("no frame in time");
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 20);
      });
    }
    const frame = this.frames.shift() as Frame;
    if (frame.seq !== undefined && this.session) return { ...frame, payload: this.session.open(frame as unknown as RecordEnvelope, "stream") };
    return frame;
  }

  /** The next frame of a given type, skipping ACKs and others. */
  async nextOfType(type: string, timeoutMs = 3000): Promise<Frame> {
    for (;;) {
      const frame = await this.next(timeoutMs);
      if (frame.type === type) return frame;
    }
  }

  async closed(timeoutMs = 3000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (this.closeCode === undefined) {
      if (Date.now() > deadline) throw new Error("connection still open");
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return this.closeCode;
  }

  /** Runs the six-step handshake as `entityId`; returns the session. */
  async handshake(entityId: string, mutate: { challengeResponse?: (m: Envelope) => Envelope } = {}): Promise<Session> {
    const identity = ed25519FromSeed(randomBytes(32));
    const initiator = new InitiatorHandshake({ identity, entityId, versions: ["1.2"], capabilities: ["websocket", "resume", "chunking", "events"], now: Date.now });
    this.sendRaw(initiator.start());
    const ack = (await this.next()) as unknown as Envelope;
    if (ack.type !== "HANDSHAKE_INIT_ACK") throw new Error(`expected HANDSHAKE_INIT_ACK, got ${JSON.stringify(ack)}`);
    const response = initiator.onInitAck(ack);
    this.sendRaw(mutate.challengeResponse ? mutate.challengeResponse(response) : response);
    const established = (await this.next()) as unknown as Envelope;
    if (established.type !== "SESSION_ESTABLISHED") throw new Error(`expected SESSION_ESTABLISHED, got ${JSON.stringify(established)}`);
    const result = initiator.onEstablished(established);
    const session = new Session(result, { now: Date.now, dedupeMemory: 1024 });
    this.sendRaw(session.seal("SESSION_CONFIRM", { handshake_hash: toBase64Url(result.keys.handshakeHash) }, { recipient_id: result.peerId }));
    this.session = session;
    const ready = await this.next();
    if (ready.type !== "READY") throw new Error(`expected READY, got ${JSON.stringify(ready)}`);
    return session;
  }

  /** Seals and sends a record in the session. */
  sendRecord(type: string, inner: unknown, fields: { recipient_id?: string; message_id?: string } = {}): RecordEnvelope {
    const record = (this.session as Session).seal(type, inner, fields);
    this.sendRaw(record);
    return record;
  }

  close(): void {
    this.ws.close();
  }
}
