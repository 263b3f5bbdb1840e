/**
 * Load 1: TCP connections that never send a byte. The server must close each within
 * request_timeout_ms (PP-LIM-010); each one is re-opened as soon as it closes, so the number held
 * stays constant. A connection closed within 100 ms of opening was refused for
 * max_connections_per_ip (PP-LIM-011), not timed out.
 */
import { connect, type Socket } from "node:net";
import { Counts } from "../counts.ts";
import type { Load, LoadContext } from "./load.ts";

/** A close this soon after the connect is the per-IP refusal, not a timeout. */
export const REFUSED_WITHIN_MS = 100;
const REOPEN_DELAY_MS = 10;

export class IdleSockets implements Load {
  readonly name = "idle TCP sockets";
  readonly counts = new Counts();
  private readonly sockets = new Set<Socket>();
  private stopping = false;

  constructor(
    private readonly context: LoadContext,
    private readonly held: number,
  ) {}

  start(): void {
    for (let i = 0; i < this.held; i++) this.open();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    for (const socket of this.sockets) socket.destroy();
  }

  private open(): void {
    if (this.stopping) return;
    const openedAt = performance.now();
    let connected = false;
    const socket = connect({ host: this.context.host, port: this.context.port });
    this.sockets.add(socket);
    this.counts.add("opened");
    socket.on("connect", () => (connected = true));
    let answered = "";
    socket.setEncoding("latin1");
    socket.on("data", (text: string) => (answered += text));
    socket.on("error", (error: NodeJS.ErrnoException) => this.counts.add(`socket error ${error.code ?? error.message}`));
    socket.on("close", () => {
      this.sockets.delete(socket);
      if (this.stopping) return;
      const livedMs = performance.now() - openedAt;
      // Node answers 408 when its request-timeout check, rather than the idle timer, closes the socket.
      const status = /^HTTP\/1\.1 (\d{3})/.exec(answered)?.[1];
      if (status) {
        this.context.seen.httpStatuses.add(status);
        this.counts.add(`answered ${status} before the close`);
      } else if (answered !== "") this.counts.add("answered with bytes that are not HTTP");
      if (!connected) this.counts.add("connect failed");
      else if (livedMs < REFUSED_WITHIN_MS) this.counts.add("closed at once (max_connections_per_ip)");
      else {
        this.counts.add("closed by the server");
        this.counts.min("fastest close ms", Math.round(livedMs));
        this.counts.max("slowest close ms", Math.round(livedMs));
      }
      setTimeout(() => this.open(), REOPEN_DELAY_MS);
    });
  }
}
