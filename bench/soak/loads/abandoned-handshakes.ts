/**
 * Load 5: handshakes abandoned at every step (spec §6). Each slot repeats one step forever:
 *
 *   tcp                      TCP connect, then nothing (PP-LIM-010: closed after request_timeout_ms)
 *   upgrade                  WebSocket upgrade, then nothing          (PP-HS-011: HANDSHAKE_TIMEOUT)
 *   init                     HANDSHAKE_INIT sent, INIT_ACK received   (PP-HS-011)
 *   challenge-response       CHALLENGE_RESPONSE sent, SESSION_ESTABLISHED received, no
 *                            SESSION_CONFIRM: a pending session, released with its connection
 *   http-init                POST /peers/handshake HANDSHAKE_INIT, then nothing (spec §4.3)
 *   http-challenge-response  ... and CHALLENGE_RESPONSE, then nothing
 *
 * On a connection, cycles alternate between going silent (the server must close it: the close
 * code and the time it took are counted) and vanishing at once (the server must release what it
 * held when the socket closes). Over HTTP there is no connection to hold: the slot waits
 * handshake_timeout_ms, the life of the pending handshake the server keeps, before the next one.
 */
import { request } from "node:http";
import { connect } from "node:net";
import { ed25519FromSeed, randomBytes, type Ed25519Identity } from "../../../reference/src/crypto.ts";
import type { Envelope } from "../../../reference/src/envelope.ts";
import { InitiatorHandshake } from "../../../reference/src/handshake/initiator.ts";
import { sleep } from "../../src/load/clock.ts";
import { Counts } from "../counts.ts";
import { HandshakeFailed, SoakPeer } from "../soak-peer.ts";
import type { Load, LoadContext } from "./load.ts";
import { tallyingHandlers } from "./peer-tallies.ts";

export const ABANDON_STEPS = ["tcp", "upgrade", "init", "challenge-response", "http-init", "http-challenge-response"] as const;
type Step = (typeof ABANDON_STEPS)[number];

/** How long past its own timer the server may take to close a silent connection before it counts as late. */
const LATE_AFTER_MS = 1500;
const VANISH_PAUSE_MS = 250;

export class AbandonedHandshakes implements Load {
  readonly name = "abandoned handshakes";
  readonly counts = new Counts();
  private readonly open = new Set<{ destroy(): void }>();
  private readonly loops: Promise<void>[] = [];
  private stopping = false;

  constructor(
    private readonly context: LoadContext,
    private readonly slotsPerStep: number,
  ) {}

  start(): void {
    for (const step of ABANDON_STEPS) for (let slot = 0; slot < this.slotsPerStep; slot++) this.loops.push(this.repeat(step, slot));
  }

  async stop(): Promise<void> {
    this.stopping = true;
    for (const connection of this.open) connection.destroy();
    await Promise.all(this.loops);
  }

  private async repeat(step: Step, slot: number): Promise<void> {
    const entityId = `soak-abandon-${step}-${slot}`;
    const identity = ed25519FromSeed(randomBytes(32));
    for (let cycle = 0; !this.stopping; cycle++) {
      const silent = cycle % 2 === 0;
      try {
        if (step === "tcp") await this.tcp(silent);
        else if (step === "http-init" || step === "http-challenge-response") await this.http(step, identity, entityId);
        else await this.websocket(step, silent, identity, entityId);
      } catch (error) {
        if (!this.stopping) this.counts.add(`${step}: failed before the step: ${error instanceof HandshakeFailed ? error.reason : (error as Error).message}`);
        await sleep(VANISH_PAUSE_MS);
      }
    }
  }

  /** Waits for the server to close, counting it on time or late against `timerMs`. */
  private async closedWithin(step: string, closed: Promise<unknown>, openedAt: number, timerMs: number): Promise<boolean> {
    const limit = timerMs + LATE_AFTER_MS;
    const result = await Promise.race([closed.then(() => "closed"), sleep(limit + 5000).then(() => "open")]);
    if (this.stopping) return false;
    const tookMs = Math.round(performance.now() - openedAt);
    if (result === "open") {
      this.counts.add(`${step}: still open ${limit + 5000} ms after the connect`);
      return false;
    }
    this.counts.add(`${step}: closed by the server${tookMs > limit ? " late" : ""}`);
    this.counts.max(`${step}: slowest close ms`, tookMs);
    return true;
  }

  private async tcp(silent: boolean): Promise<void> {
    const openedAt = performance.now();
    const socket = connect({ host: this.context.host, port: this.context.port });
    this.open.add(socket);
    socket.on("error", () => {});
    const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once("connect", () => resolve());
        socket.once("error", reject);
      });
      if (silent) await this.closedWithin("tcp", closed, openedAt, this.context.limits.request_timeout_ms);
      else {
        this.counts.add("tcp: vanished");
        socket.destroy();
        await sleep(VANISH_PAUSE_MS);
      }
    } finally {
      socket.destroy();
      this.open.delete(socket);
    }
  }

  private async websocket(step: "upgrade" | "init" | "challenge-response", silent: boolean, identity: Ed25519Identity, entityId: string): Promise<void> {
    const openedAt = performance.now();
    const peer = await SoakPeer.open(this.context.wsUrl, tallyingHandlers(this.context, this.counts, step, () => this.stopping || !silent));
    const connection = { destroy: () => peer.terminate() };
    this.open.add(connection);
    try {
      if (step !== "upgrade") await peer.handshake(identity, entityId, step);
      if (silent) await this.closedWithin(step, peer.closed, openedAt, this.context.limits.handshake_timeout_ms);
      else {
        this.counts.add(`${step}: vanished`);
        peer.terminate();
        await sleep(VANISH_PAUSE_MS);
      }
    } finally {
      peer.terminate();
      this.open.delete(connection);
    }
  }

  private async http(step: "http-init" | "http-challenge-response", identity: Ed25519Identity, entityId: string): Promise<void> {
    const initiator = new InitiatorHandshake({ identity, entityId, versions: ["1.2"], capabilities: ["http", "resume", "chunking"], now: Date.now });
    const ack = await this.post(step, initiator.start(), "HANDSHAKE_INIT_ACK");
    if (step === "http-challenge-response") await this.post(step, initiator.onInitAck(ack), "SESSION_ESTABLISHED");
    this.counts.add(`${step}: abandoned`);
    await sleep(this.context.limits.handshake_timeout_ms);
  }

  /** POSTs one handshake step to /peers/handshake on a connection of its own; the answer must be `expected`. */
  private post(step: string, envelope: Envelope, expected: string): Promise<Envelope> {
    const body = JSON.stringify(envelope);
    return new Promise((resolve, reject) => {
      const req = request({ host: this.context.host, port: this.context.port, method: "POST", path: "/peers/handshake", agent: false, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) } }, (response) => {
        let text = "";
        response.setEncoding("utf8");
        response.on("data", (piece: string) => (text += piece));
        response.on("end", () => {
          this.context.seen.httpStatuses.add(String(response.statusCode));
          let answer: Envelope | undefined;
          try {
            answer = JSON.parse(text) as Envelope;
          } catch {
            // reported below
          }
          if (answer?.type === "ERROR") {
            const code = (answer.payload as { code?: string }).code ?? "ERROR";
            this.context.seen.errors.add(code);
            this.counts.add(`${step}: ERROR ${code}`);
          }
          if (response.statusCode === 200 && answer?.type === expected) resolve(answer);
          else reject(new Error(`HTTP ${response.statusCode} ${answer?.type ?? text.slice(0, 60)}`));
        });
      });
      this.open.add(req);
      req.once("close", () => this.open.delete(req));
      req.on("error", reject);
      req.end(body);
    });
  }
}
