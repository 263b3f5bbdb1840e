/**
 * The probe's transport: one small interface (STYLE.md "Shared transport") with a WebSocket
 * implementation for real targets and an in-memory linked pair for tests. The probe sends
 * whatever the case asks for, so `send` takes raw text or bytes and never serialises itself.
 */
import WebSocket from "ws";
import { describeTlsError, tlsOptions } from "./tls.ts";

export type InboundData = { kind: "text"; text: string } | { kind: "binary"; bytes: Uint8Array };

export interface Transport {
  /** Sends one frame: a string as a text frame, bytes as a binary frame unless `asText`. */
  send(data: string | Uint8Array, options?: { asText?: boolean }): void;
  close(code?: number, reason?: string): void;
  onMessage(listener: (data: InboundData) => void): void;
  onClose(listener: (code: number, reason: string) => void): void;
  /** WebSocket ping control frames received (RFC 6455 §5.5.2); optional for transports without them. */
  onPing?(listener: () => void): void;
  /** Stop or resume reading from the network, to act as a slow consumer (PP-LIM-007). */
  setReading?(reading: boolean): void;
  readonly isOpen: boolean;
}

/** Local error of the transport layer (not a protocol error code). */
export class TransportError extends Error {
  constructor(
    message: string,
    readonly code: "CONNECT_FAILED" | "CONNECT_TIMEOUT" | "UPGRADE_REFUSED",
    readonly status?: number,
  ) {
    super(message);
  }
}

export interface WebSocketOptions {
  headers?: Record<string, string>;
  timeoutMs?: number;
  /** Largest inbound frame the probe accepts; generous, since the target's limits are what is tested. */
  maxPayload?: number;
  /** Answer WebSocket pings with pongs (RFC 6455); off to test a server's heartbeat timeout. */
  autoPong?: boolean;
}

/**
 * A `ws` socket as a Transport, on either side: the probe's own connections (connectWebSocket) and
 * the connections a client opens to the runner's server in client mode. Frames and a close that
 * arrive before a listener is registered are kept, not lost.
 */
export function socketTransport(socket: WebSocket): Transport {
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
  // A peer that resets the TCP connection is reported through "close" (code 1006) as well.
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

export function connectWebSocket(url: string, options: WebSocketOptions = {}): Promise<Transport> {
  const timeoutMs = options.timeoutMs ?? 5000;
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, {
      headers: options.headers,
      perMessageDeflate: false,
      maxPayload: options.maxPayload ?? 256 * 1024 * 1024,
      handshakeTimeout: timeoutMs,
      autoPong: options.autoPong ?? true,
      ...tlsOptions(),
    });
    const transport = socketTransport(socket);
    let settled = false;
    socket.on("unexpected-response", (_request, response) => {
      settled = true;
      reject(new TransportError(`upgrade to ${url} refused with HTTP ${response.statusCode}`, "UPGRADE_REFUSED", response.statusCode));
      socket.terminate();
    });
    socket.on("error", (error) => {
      if (!settled) {
        settled = true;
        const tls = describeTlsError(error);
        reject(new TransportError(`cannot connect to ${url}: ${tls ?? error.message}`, /timed out/i.test(error.message) ? "CONNECT_TIMEOUT" : "CONNECT_FAILED"));
      }
    });
    socket.on("open", () => {
      settled = true;
      resolve(transport);
    });
  });
}

/** Two transports wired to each other in memory, for tests: what one sends the other receives. */
export function memoryPair(): [Transport, Transport] {
  const make = () => {
    const state = {
      open: true,
      onMessage: null as ((data: InboundData) => void) | null,
      onClose: null as ((code: number, reason: string) => void) | null,
      queue: [] as InboundData[],
    };
    return state;
  };
  const a = make();
  const b = make();
  const deliver = (to: ReturnType<typeof make>, data: InboundData) => {
    queueMicrotask(() => {
      if (!to.open) return;
      if (to.onMessage) to.onMessage(data);
      else to.queue.push(data);
    });
  };
  const endpoint = (self: ReturnType<typeof make>, peer: ReturnType<typeof make>): Transport => ({
    send(data, options) {
      if (!self.open) return;
      deliver(peer, typeof data === "string" || options?.asText ? { kind: "text", text: typeof data === "string" ? data : Buffer.from(data).toString("utf8") } : { kind: "binary", bytes: data });
    },
    close(code = 1000, reason = "") {
      if (!self.open) return;
      self.open = false;
      peer.open = false;
      queueMicrotask(() => {
        self.onClose?.(code, reason);
        peer.onClose?.(code, reason);
      });
    },
    onMessage(listener) {
      self.onMessage = listener;
      for (const item of self.queue.splice(0)) listener(item);
    },
    onClose(listener) {
      self.onClose = listener;
    },
    get isOpen() {
      return self.open;
    },
  });
  return [endpoint(a, b), endpoint(b, a)];
}

/** One HTTP exchange of the HTTP binding (spec §4.3), kept for the case to inspect. */
export interface HttpExchange {
  method: string;
  path: string;
  status: number;
  body: unknown;
  text: string;
}

export interface HttpTransport extends Transport {
  /** Every exchange so far, in order. */
  readonly exchanges: HttpExchange[];
  /** Headers sent with every request from now on (e.g. `authorization` once a token is issued, PP-AUTH-004). */
  readonly headers: Record<string, string>;
  /** Resolves when every request sent so far has been answered. */
  settled(): Promise<void>;
  /** GET /peers/poll; the records are delivered as inbound frames. Returns the exchange. */
  poll(sessionId: string, after: number): Promise<HttpExchange>;
}

const HANDSHAKE_TYPES = new Set(["HANDSHAKE_INIT", "CHALLENGE_RESPONSE", "SESSION_CONFIRM"]);

/**
 * The HTTP binding as a transport: handshake steps go to POST /peers/handshake and records to
 * POST /peers/message, one request at a time in order; envelope answers (INIT_ACK, ESTABLISHED,
 * READY, ERROR) are delivered as inbound frames, other bodies ({"ack"}) are kept in `exchanges`.
 */
export interface HttpTransportOptions {
  timeoutMs?: number;
  onExchange?: (exchange: HttpExchange) => void;
  /**
   * The `Authorization` value of each request, asked afresh every time so that a token is renewed
   * before it expires (PP-AUTH-004, PP-AUTH-006); `headers` set by a case win over it. When it throws,
   * the request is not sent and its exchange has status 0 and the reason.
   */
  authorization?: () => Promise<string | undefined>;
}

export function httpTransport(baseUrl: string, options: HttpTransportOptions = {}): HttpTransport {
  let messageListener: ((data: InboundData) => void) | null = null;
  let closeListener: ((code: number, reason: string) => void) | null = null;
  const pending: InboundData[] = [];
  let open = true;
  let chain: Promise<void> = Promise.resolve();
  const exchanges: HttpExchange[] = [];
  const headers: Record<string, string> = {};
  const deliver = (text: string) => (messageListener ? messageListener({ kind: "text", text }) : pending.push({ kind: "text", text }));

  const request = async (method: string, path: string, body?: string): Promise<HttpExchange> => {
    let exchange: HttpExchange;
    try {
      let authorization: string | undefined;
      try {
        authorization = await options.authorization?.();
      } catch (error) {
        exchange = { method, path, status: 0, body: undefined, text: `<not sent: no token (${error instanceof Error ? error.message : String(error)})>` };
        exchanges.push(exchange);
        options.onExchange?.(exchange);
        return exchange;
      }
      const own = Object.keys(headers).some((name) => name.toLowerCase() === "authorization");
      const sent = { ...(authorization && !own ? { authorization } : {}), ...headers, ...(body === undefined ? {} : { "content-type": "application/json" }) };
      const response = await fetch(`${baseUrl}${path}`, { method, body, headers: sent, signal: AbortSignal.timeout(options.timeoutMs ?? 5000) });
      const text = await response.text();
      let parsed: unknown = undefined;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      exchange = { method, path, status: response.status, body: parsed, text };
    } catch (error) {
      exchange = { method, path, status: 0, body: undefined, text: `<no response: ${error instanceof Error ? error.message : String(error)}>` };
    }
    exchanges.push(exchange);
    options.onExchange?.(exchange);
    return exchange;
  };

  return {
    exchanges,
    headers,
    send(data) {
      if (!open) return;
      const text = typeof data === "string" ? data : Buffer.from(data).toString("utf8");
      let type = "";
      try {
        type = String((JSON.parse(text) as { type?: unknown }).type);
      } catch {
        type = "";
      }
      const path = HANDSHAKE_TYPES.has(type) || type === "" ? "/peers/handshake" : "/peers/message";
      chain = chain.then(async () => {
        const exchange = await request("POST", path, text);
        if (exchange.body && typeof exchange.body === "object" && "type" in exchange.body) deliver(exchange.text);
      });
    },
    async poll(sessionId, after) {
      await chain;
      const exchange = await request("GET", `/peers/poll?session_id=${encodeURIComponent(sessionId)}&after=${after}`);
      const records = (exchange.body as { records?: unknown } | undefined)?.records;
      if (Array.isArray(records)) for (const record of records) deliver(JSON.stringify(record));
      else if (exchange.body && typeof exchange.body === "object" && "type" in exchange.body) deliver(exchange.text);
      return exchange;
    },
    settled: () => chain,
    close(code = 1000, reason = "") {
      if (!open) return;
      open = false;
      closeListener?.(code, reason);
    },
    onMessage(listener) {
      messageListener = listener;
      for (const item of pending.splice(0)) listener(item);
    },
    onClose(listener) {
      closeListener = listener;
    },
    get isOpen() {
      return open;
    },
  };
}
