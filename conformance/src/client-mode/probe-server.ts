/**
 * The probe server: what a client under test connects to in client-mode conformance. It listens on
 * 127.0.0.1, serves the discovery document at `GET /peers/capabilities` without a token (spec §4.4,
 * PP-TRN-014) and accepts WebSockets on `/ws/v1/peers` (spec §4.1), each handed to `onConnection`
 * as a Transport for a ProbeResponder to drive. The discovery `identity_key` may be deliberately
 * bad (any bytes or text), to test what a client does with it.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocketServer, type WebSocket } from "ws";
import type { Bytes } from "../probe/crypto.ts";
import { socketTransport, type Transport } from "../probe/transport.ts";
import { b64u } from "../probe/wire.ts";
import { DEFAULT_LIMITS } from "../schemas.ts";

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
  onConnection(transport: Transport, request: IncomingMessage): void;
}

export interface ProbeServer {
  /** http://127.0.0.1:port, the base URL a client is given. */
  readonly url: string;
  readonly port: number;
  readonly discovery: Record<string, unknown>;
  /** Every WebSocket upgrade request accepted so far (method, url with query). */
  readonly upgrades: string[];
  close(): Promise<void>;
}

export const DEFAULT_SERVER_CAPABILITIES = ["websocket", "http", "resume", "chunking", "events"];

export function discoveryDocument(options: Pick<ProbeServerOptions, "serverId" | "identityKey" | "capabilities" | "limits" | "discovery">): Record<string, unknown> {
  return {
    protocol: "peer-protocol",
    versions: ["1.2"],
    server_id: options.serverId,
    identity_key: typeof options.identityKey === "string" ? options.identityKey : b64u(options.identityKey),
    transports: { websocket: { peers: PEERS_PATH } },
    // PP-CAP-010 asks a v1.2 server to advertise websocket and http; the probe serves only the
    // WebSocket, which is all client-mode tests drive.
    capabilities: options.capabilities ?? DEFAULT_SERVER_CAPABILITIES,
    limits: { ...DEFAULT_LIMITS, ...options.limits },
    auth: { required: false },
    ...options.discovery,
  };
}

export async function startProbeServer(options: ProbeServerOptions): Promise<ProbeServer> {
  const discovery = discoveryDocument(options);
  const upgrades: string[] = [];
  const sockets = new Set<WebSocket>();
  const http: Server = createServer((request, response) => {
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
    async close() {
      for (const ws of sockets) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
