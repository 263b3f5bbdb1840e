/**
 * The one Transport interface both the server and the client speak through (STYLE.md): a WebSocket
 * implements it, and so does an in-memory linked pair for tests.
 *
 * Contract: `send` queues one text frame; `close` ends the connection and fires `onClose` once on
 * both ends; frames arrive in order; `bufferedAmount` is the bytes queued but not yet delivered.
 * `send(text, true)`: the frame may wait, at most until the end of this turn of the event loop, for
 * frames sent after it to share its write (an ACK that rides with the answers being sent).
 */
export interface Transport {
  send(text: string, mayWait?: boolean): void;
  close(code?: number, reason?: string): void;
  onMessage(handler: (data: string | Buffer, isBinary: boolean) => void): void;
  onClose(handler: (code: number, reason: string) => void): void;
  /** Liveness signals below the protocol (WebSocket pongs); optional. */
  onPong?(handler: () => void): void;
  ping?(): void;
  /** Stop and restart reading (flow control); optional. */
  pause?(): void;
  resume?(): void;
  readonly bufferedAmount: number;
  /** Called when the bytes queued were all written (flow control); optional. */
  onDrain?(handler: () => void): void;
}
