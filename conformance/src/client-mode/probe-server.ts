/**
 * The probe server: what a client under test connects to in client-mode conformance. It listens on
 * 127.0.0.1, serves the discovery document at `GET /peers/capabilities` without a token (spec §4.4,
 * PP-TRN-014), accepts WebSockets on `/ws/v1/peers` (spec §4.1) and serves the HTTP binding (spec
 * §4.3, http-binding.ts). Each WebSocket, and each handshake begun over HTTP, is handed to
 * `onConnection` as a Transport for a ProbeResponder to drive. The discovery `identity_key` may be
 * deliberately bad (any bytes or text), to test what a client does with it; the upgrade may be
 * refused, to test a client's fallback to HTTP (PP-TRN-012).
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocketServer, type WebSocket } from "ws";
import type { Bytes } from "../probe/crypto.ts";
import { socketTransport, type Transport } from "../probe/transport.ts";
import { b64u } from "../probe/wire.ts";
import type { Trace } from "../probe/trace.ts";
import { DEFAULT_LIMITS } from "../schemas.ts";
import { HTTP_PATHS, HttpBinding, type HttpRequestLog } from "./http-binding.ts";

export const PEERS_PATH = "/ws/v1/peers";
export const DISCOVERY_PATH = "/peers/capabilities";

export interface ProbeServerOptions {
  /** The port to listen on; a free one when absent or 0. */
  port?: number;
  serverId: string;
  /** The discovery identity key: bytes (encoded b64u) or text served as is (PP-TRN-016). */
  identityKey: Bytes | string;
  capabilities?: string[];
  limits?: Record<string, number>;
  /** Overrides of discovery members, to serve a deliberately wrong document. */
  discovery?: Record<string, unknown>;
  /** Answer every WebSocket upgrade with this HTTP status (and an ERROR body) instead of upgrading. */
  refuseUpgrade?: number;
  trace?: Trace;
  onConnection(transport: Transport, request: IncomingMessage): void;
}

/** What a case can see of the server's side of the wire beyond its connections: upgrades and HTTP requests. */
export interface ProbeWire {
  /** Every WebSocket upgrade request accepted so far (method, url with query). */
  readonly upgrades: readonly string[];
  /** Every WebSocket upgrade request refused so far (refuseUpgrade). */
  readonly refusedUpgrades: readonly string[];
  /** Every request to the HTTP binding, whatever its session. */
  readonly httpRequests: readonly HttpRequestLog[];
}

export interface ProbeServer {
  /** http://127.0.0.1:port, the base URL a client is given. */
  readonly url: string;
  readonly port: number;
  readonly discovery: Record<string, unknown>;
  /** Every WebSocket upgrade request accepted so far (method, url with query). */
  readonly upgrades: string[];
  /** Every WebSocket upgrade request refused so far (refuseUpgrade). */
  readonly refusedUpgrades: string[];
  readonly http: HttpBinding;
  readonly wire: ProbeWire;
  close(): Promise<void>;
}

export const DEFAULT_SERVER_CAPABILITIES = ["websocket", "http", "resume", "chunking", "events"];

export function discoveryDocument(options: Pick<ProbeServerOptions, "serverId" | "identityKey" | "capabilities" | "limits" | "discovery">): Record<string, unknown> {
  return {
    protocol: "peer-protocol",
    versions: ["1.2"],
    server_id: options.serverId,
    identity_key: typeof options.identityKey === "string" ? options.identityKey : b64u(options.identityKey),
    transports: { websocket: { peers: PEERS_PATH }, http: HTTP_PATHS },
    // PP-CAP-010: a v1.2 server advertises websocket and http, and the probe serves both.
    capabilities: options.capabilities ?? DEFAULT_SERVER_CAPABILITIES,
    limits: { ...DEFAULT_LIMITS, ...options.limits },
    auth: { required: false },
    ...options.discovery,
  };
}

export async function startProbeServer(options: ProbeServerOptions): Promise<ProbeServer> {
  const discovery = discoveryDocument(options);
  const upgrades: string[] = [];
  const refusedUpgrades: string[] = [];
  const sockets = new Set<WebSocket>();
  const binding = new HttpBinding({ serverId: options.serverId, ...(options.trace ? { trace: options.trace } : {}), onSession: (session, request) => options.onConnection(session, request) });
  const http: Server = createServer((request, response) => {
    if (binding.handle(request, response)) return;
    const path = new URL(request.url ?? "/", "http://127.0.0.1").pathname;
    if (request.method === "GET" && path === DISCOVERY_PATH) {
      const body = JSON.stringify(discovery);
      response.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
      response.end(body);
      return;
    }
    response.writeHead(404, { "content-type": "application/json" });
    response.end(JSON.stringify({ error: "not served by the probe server" }));
  });
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 256 * 1024 * 1024 });
  http.on("upgrade", (request, socket, head) => {
    const path = new URL(request.url ?? "/", "http://127.0.0.1").pathname;
    if (path !== PEERS_PATH) {
      socket.end("HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n");
      return;
    }
    if (options.refuseUpgrade !== undefined) {
      // An upgrade that fails (PP-TRN-012), as a server or proxy that serves no WebSocket there answers it.
      refusedUpgrades.push(`${request.method ?? "GET"} ${request.url ?? ""}`);
      options.trace?.add("out", `<HTTP ${options.refuseUpgrade} for the upgrade ${request.url ?? ""}>`);
      socket.end(`HTTP/1.1 ${options.refuseUpgrade} Refused\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => {
      upgrades.push(`${request.method ?? "GET"} ${request.url ?? ""}`);
      sockets.add(ws);
      ws.on("close", () => sockets.delete(ws));
      options.onConnection(socketTransport(ws), request);
    });
  });
  await new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  const port = (http.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    discovery,
    upgrades,
    refusedUpgrades,
    http: binding,
    wire: { upgrades, refusedUpgrades, httpRequests: binding.requests },
    async close() {
      binding.close();
      for (const ws of sockets) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
