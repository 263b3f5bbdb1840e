/**
 * Load 2: slowloris. HTTP requests that never finish arriving: headers that trickle one byte every
 * 100 ms and never end, and POST bodies to the HTTP binding (/peers/message, /peers/handshake)
 * whose headers are whole but whose body trickles a byte at a time. Every byte resets an idle
 * timer, so only a bound on the whole request cuts them: the server must close each within
 * request_timeout_ms of its first byte (PP-LIM-010; an HTTP 408 before the close is allowed). Each
 * is re-opened as it closes.
 */
import { connect, type Socket } from "node:net";
import { Counts } from "../counts.ts";
import { REFUSED_WITHIN_MS } from "./idle-sockets.ts";
import type { Load, LoadContext } from "./load.ts";

type Kind = "headers" | "body /peers/message" | "body /peers/handshake";

const BYTE_INTERVAL_MS = 100;
/** Far more body than will ever trickle in before request_timeout_ms. */
const CLAIMED_BODY_BYTES = 65_536;
const REOPEN_DELAY_MS = 10;

export class Slowloris implements Load {
  readonly name = "slowloris";
  readonly counts = new Counts();
  private readonly sockets = new Set<Socket>();
  private stopping = false;

  constructor(
    private readonly context: LoadContext,
    private readonly headerTricklers: number,
    private readonly bodyTricklers: number,
  ) {}

  start(): void {
    for (let i = 0; i < this.headerTricklers; i++) this.open("headers");
    for (let i = 0; i < this.bodyTricklers; i++) this.open(i % 2 === 0 ? "body /peers/message" : "body /peers/handshake");
  }

  async stop(): Promise<void> {
    this.stopping = true;
    for (const socket of this.sockets) socket.destroy();
  }

  /** The complete part of the request, sent at once; then one byte per BYTE_INTERVAL_MS. */
  private head(kind: Kind): string {
    const host = `Host: ${this.context.host}:${this.context.port}\r\n`;
    if (kind === "headers") return `GET /peers/capabilities HTTP/1.1\r\n${host}X-Slow: `;
    const path = kind === "body /peers/message" ? "/peers/message" : "/peers/handshake";
    return `POST ${path} HTTP/1.1\r\n${host}Content-Type: application/json\r\nContent-Length: ${CLAIMED_BODY_BYTES}\r\n\r\n{"a":"`;
  }

  private open(kind: Kind): void {
    if (this.stopping) return;
    const openedAt = performance.now();
    let connected = false;
    let answered = "";
    const socket = connect({ host: this.context.host, port: this.context.port });
    this.sockets.add(socket);
    this.counts.add(`${kind}: opened`);
    const trickle = setInterval(() => {
      if (connected && socket.writable) socket.write("a");
    }, BYTE_INTERVAL_MS);
    socket.on("connect", () => {
      connected = true;
      socket.write(this.head(kind));
    });
    socket.setEncoding("latin1");
    socket.on("data", (text: string) => (answered += text));
    socket.on("error", (error: NodeJS.ErrnoException) => this.counts.add(`${kind}: socket error ${error.code ?? error.message}`));
    socket.on("close", () => {
      clearInterval(trickle);
      this.sockets.delete(socket);
      if (this.stopping) return;
      const livedMs = performance.now() - openedAt;
      const status = /^HTTP\/1\.1 (\d{3})/.exec(answered)?.[1];
      if (status) {
        this.context.seen.httpStatuses.add(status);
        this.counts.add(`${kind}: answered ${status}`);
      }
      if (!connected) this.counts.add(`${kind}: connect failed`);
      else if (livedMs < REFUSED_WITHIN_MS) this.counts.add(`${kind}: closed at once (max_connections_per_ip)`);
      else {
        this.counts.add(`${kind}: closed by the server`);
        this.counts.max(`${kind}: slowest close ms`, Math.round(livedMs));
      }
      setTimeout(() => this.open(kind), REOPEN_DELAY_MS);
    });
  }
}
