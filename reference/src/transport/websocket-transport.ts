/** Transport over a `ws` WebSocket. */
import type { WebSocket } from "ws";
import type { Transport } from "./transport.ts";

export class WebSocketTransport implements Transport {
  constructor(readonly ws: WebSocket) {
    ws.on("error", () => {}); // an error is always followed by close
  }

  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  /**
   * Frames sent in one turn of the event loop leave in one write: the socket is corked until the
   * next tick. A record and its ACK, or a burst of answers, then cost one system call.
   */
  send(text: string): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    if (!this.corked) {
      const socket = (this.ws as unknown as { _socket?: { cork(): void; uncork(): void } })._socket;
      if (socket) {
        this.corked = true;
        socket.cork();
        process.nextTick(() => {
          this.corked = false;
          socket.uncork();
        });
      }
    }
    this.ws.send(text);
  }

  private corked = false;

  close(code = 1000, reason = ""): void {
    if (this.ws.readyState === this.ws.OPEN || this.ws.readyState === this.ws.CONNECTING) this.ws.close(code, reason.slice(0, 120));
  }

  onMessage(handler: (data: string | Buffer, isBinary: boolean) => void): void {
    this.ws.on("message", (data, isBinary) => handler(Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data), isBinary));
  }

  onClose(handler: (code: number, reason: string) => void): void {
    this.ws.on("close", (code, reason) => handler(code, reason.toString()));
  }

  onDrain(handler: () => void): void {
    (this.ws as unknown as { _socket?: { on(event: "drain", listener: () => void): void } })._socket?.on("drain", handler);
  }

  onPong(handler: () => void): void {
    this.ws.on("pong", handler);
  }

  pause(): void {
    this.ws.pause();
  }

  resume(): void {
    this.ws.resume();
  }

  ping(): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.ping();
  }
}
