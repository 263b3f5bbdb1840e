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
   * Frames sent in one tick leave in one write: the socket is corked until the next tick. A burst of
   * answers then costs one system call. A frame that may wait (an ACK, whose timer fires on its own)
   * holds the socket corked until the check phase of this turn of the event loop instead, so that
   * the answers the poll phase sends next go out in the same write.
   */
  send(text: string, mayWait = false): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    if (!this.corked) {
      const socket = (this.ws as unknown as { _socket?: { cork(): void; uncork(): void } })._socket;
      if (socket) {
        this.corked = true;
        socket.cork();
        const uncork = () => {
          this.corked = false;
          socket.uncork();
        };
        if (mayWait) setImmediate(uncork);
        else process.nextTick(uncork);
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
