/**
 * The server side of the probe's Transport (probe/transport.ts): one accepted WebSocket of the
 * probe server, so that the responder speaks through the same small interface as the initiator
 * (STYLE.md "Shared transport"). Frames that arrive before a listener is registered are kept.
 */
import WebSocket from "ws";
import type { InboundData, Transport } from "../probe/transport.ts";

export function serverSocketTransport(socket: WebSocket): Transport {
  const early: InboundData[] = [];
  let earlyClose: [number, string] | null = null;
  let messageListener: ((data: InboundData) => void) | null = null;
  let closeListener: ((code: number, reason: string) => void) | null = null;
  let pingListener: (() => void) | null = null;

  socket.on("ping", () => pingListener?.());
  socket.on("message", (data, isBinary) => {
    const buffer = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
    const item: InboundData = isBinary ? { kind: "binary", bytes: new Uint8Array(buffer) } : { kind: "text", text: buffer.toString("utf8") };
    if (messageListener) messageListener(item);
    else early.push(item);
  });
  socket.on("close", (code, reason) => {
    if (closeListener) closeListener(code, reason.toString("utf8"));
    else earlyClose = [code, reason.toString("utf8")];
  });
  // A client that resets the TCP connection is reported through "close" (code 1006) as well.
  socket.on("error", () => undefined);

  return {
    send(data, options) {
      if (socket.readyState !== WebSocket.OPEN) return;
      if (typeof data === "string") socket.send(data);
      else socket.send(data, { binary: !(options?.asText ?? false) });
    },
    close(code, reason) {
      if (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING) socket.close(code, reason);
    },
    onMessage(listener) {
      messageListener = listener;
      for (const item of early.splice(0)) listener(item);
    },
    onClose(listener) {
      closeListener = listener;
      if (earlyClose) listener(earlyClose[0], earlyClose[1]);
    },
    onPing(listener) {
      pingListener = listener;
    },
    setReading(reading) {
      const raw = (socket as unknown as { _socket?: { pause(): void; resume(): void } })._socket;
      if (reading) raw?.resume();
      else raw?.pause();
    },
    get isOpen() {
      return socket.readyState === WebSocket.OPEN;
    },
  };
}
