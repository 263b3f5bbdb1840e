/**
 * An in-memory linked pair of transports: client and server in one process, no sockets. Frames
 * are delivered asynchronously (a microtask later) and in order, like a socket; closing either end
 * loses the frames still in flight, like a dropped connection.
 */
import type { Transport } from "./transport.ts";

class MemoryEnd implements Transport {
  peer!: MemoryEnd;
  private messageHandlers: ((data: string, isBinary: boolean) => void)[] = [];
  private closeHandlers: ((code: number, reason: string) => void)[] = [];
  private closed = false;
  bufferedAmount = 0;

  send(text: string): void {
    if (this.closed) return;
    const peer = this.peer;
    this.bufferedAmount += text.length;
    queueMicrotask(() => {
      this.bufferedAmount -= text.length;
      if (!peer.closed) for (const handler of peer.messageHandlers) handler(text, false);
      if (this.bufferedAmount === 0 && !this.closed) for (const handler of this.drainHandlers) handler();
    });
  }

  private drainHandlers: (() => void)[] = [];

  onDrain(handler: () => void): void {
    this.drainHandlers.push(handler);
  }

  /** Like a dropped TCP connection: frames still in flight either way are lost. */
  close(code = 1000, reason = ""): void {
    if (this.closed) return;
    const peer = this.peer;
    this.closed = true;
    const peerWasOpen = !peer.closed;
    peer.closed = true;
    queueMicrotask(() => {
      for (const handler of this.closeHandlers) handler(code, reason);
      if (peerWasOpen) for (const handler of peer.closeHandlers) handler(code, reason);
    });
  }

  onMessage(handler: (data: string, isBinary: boolean) => void): void {
    this.messageHandlers.push(handler);
  }

  onClose(handler: (code: number, reason: string) => void): void {
    this.closeHandlers.push(handler);
  }
}

export function createMemoryPair(): [Transport, Transport] {
  const a = new MemoryEnd();
  const b = new MemoryEnd();
  a.peer = b;
  b.peer = a;
  return [a, b];
}
