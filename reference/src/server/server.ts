/**
 * The reference server: `node:http` for discovery, tokens, metrics and the HTTP binding, `ws` for
 * `/ws/v1/peers` and `/ws/v1/events`. State lives behind ServerStore.
 *
 * ```ts
 * import { PeerServer } from "peer-protocol/reference/server";
 * ```
 *
 * @module peer-protocol/reference/server
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import { ed25519FromSeed, randomBytes, type Ed25519Identity } from "../crypto.ts";
import { toBase64Url } from "../encoding.ts";
import { plaintextEnvelope } from "../envelope.ts";
import { ProtocolError } from "../errors.ts";
import { withLimits, type Limits } from "../limits.ts";
import { PLAIN_AT_REST, sealedAtRest } from "./cluster/at-rest.ts";
import { ClusterNode } from "./cluster/cluster-node.ts";
import { Registry } from "./cluster/registry.ts";
import { EventsConnection } from "./events-connection.ts";
import { EventsHub } from "./events-hub.ts";
import { HttpBinding } from "./http-binding.ts";
import { createLogger, type Logger } from "./logger.ts";
import { ServerMetrics } from "./metrics.ts";
import { fullCollection, MemoryRelease } from "./memory-release.ts";
import { PeerConnection } from "./peer-connection.ts";
import { PeerService } from "./peer-service.ts";
import { MemoryStore, type ServerStore } from "./store.ts";
import { TokenIssuer, type TokenSubject } from "./tokens.ts";
import { WebSocketTransport } from "../transport/websocket-transport.ts";
import type { Transport } from "../transport/transport.ts";

export const SUPPORTED_CAPABILITIES = ["websocket", "http", "resume", "chunking", "events", "aes-256-gcm", "message-signatures", "sealed-relay"];

export interface PeerServerOptions {
  host?: string;
  port?: number;
  serverId?: string;
  /** 32-byte Ed25519 seed of the server identity; random when absent. */
  identitySeed?: Buffer;
  limits?: Partial<Limits>;
  capabilities?: string[];
  requireToken?: boolean;
  tokenLifetimeSeconds?: number;
  /** Allowed Origin header values; empty allows any (PP-AUTH-009). */
  originAllowlist?: string[];
  /** Entity id -> identity key bindings fixed by configuration (PP-AUTH-010). */
  identityAllowlist?: Map<string, Buffer>;
  tls?: { cert: Buffer; key: Buffer };
  logLevel?: string;
  logger?: Logger;
  store?: ServerStore;
  /** The server's clock, for sessions, limits and timeouts; Date.now when absent (tests move it). */
  now?: () => number;
  /**
   * A listener of its own for GET /metrics, as Prometheus exporters have (host defaults to
   * 127.0.0.1). With it, the public listener serves no /metrics; without it, the public listener
   * serves /metrics only when tokens are not required, since a scraper holds no token.
   */
  metrics?: { host?: string; port: number };
  /**
   * One node of a cluster on Redis (./cluster/cluster-node.ts, docs/guides/deployment.md). Every
   * node of a cluster has the same identitySeed and serverId: together they are one server.
   */
  cluster?: {
    redisUrl: string;
    /** This node's name in the cluster; unique per process. */
    nodeId: string;
    /** 32 bytes: seals keys, resumption secrets and queued messages in Redis (./cluster/at-rest.ts). */
    atRestKey?: Buffer;
  };
}

export class PeerServer {
  readonly service: PeerService;
  readonly identity: Ed25519Identity;
  readonly limits: Limits;
  private readonly http: Server;
  private readonly peersWss: WebSocketServer;
  private readonly eventsWss: WebSocketServer;
  private readonly peers = new Set<PeerConnection>();
  private readonly events = new Set<EventsConnection>();
  private readonly binding: HttpBinding;
  private readonly tokens: TokenIssuer;
  private sweepTimer: NodeJS.Timeout | undefined;
  private metricsListener: Server | undefined;
  /** A full collection once a burst of held data is over (./memory-release.ts). */
  private readonly memory: MemoryRelease;
  /** Open TCP connections by remote address (PP-LIM-011). */
  private readonly connectionsByIp = new Map<string, number>();
  private closing = false;
  /** This server as one node of a cluster, when it is one. */
  private readonly cluster: ClusterNode | undefined;

  private constructor(
    private readonly options: PeerServerOptions,
    registry?: Registry,
  ) {
    this.limits = withLimits(options.limits);
    this.identity = ed25519FromSeed(options.identitySeed ?? randomBytes(32));
    const collect = fullCollection();
    this.memory = new MemoryRelease(this.limits.max_buffered_bytes, collect && (() => {
      collect();
      this.service.metrics.memoryReleases.inc();
    }));
    const serverId = options.serverId ?? "peer-server";
    const log = options.logger ?? createLogger(options.logLevel ?? "info");
    const metrics = new ServerMetrics();
    const capabilities = options.capabilities ?? SUPPORTED_CAPABILITIES;
    const hub = new EventsHub(serverId, this.limits.max_subscriptions);
    this.cluster = registry && new ClusterNode(registry, log);
    this.service = new PeerService({ serverId, identity: this.identity, limits: this.limits, capabilities, ...(options.now ? { now: options.now } : {}) }, options.store ?? new MemoryStore(options.identityAllowlist), hub, metrics, log, this.cluster);
    this.tokens = new TokenIssuer(serverId, options.tokenLifetimeSeconds ?? 300, Date.now);
    this.binding = new HttpBinding(this.service, this.tokens, { discovery: () => this.discovery() });
    const maxPayload = this.limits.max_frame_bytes;
    const wsOptions = { noServer: true, maxPayload, perMessageDeflate: false, clientTracking: false }; // PP-LIM-001: ws closes 1009 past maxPayload
    this.peersWss = new WebSocketServer(wsOptions);
    this.eventsWss = new WebSocketServer(wsOptions);
    // PP-LIM-010: requests must arrive whole within request_timeout_ms (Node checks at this interval),
    // and a connection silent for as long before its upgrade is destroyed (server.timeout, and the
    // TLS handshake's own timeout); ws clears the socket's timeout once it takes the connection over.
    const requestTimeout = this.limits.request_timeout_ms;
    const httpOptions = { headersTimeout: requestTimeout, requestTimeout, connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(requestTimeout / 5))) };
    this.http = options.tls ? createHttpsServer({ ...httpOptions, handshakeTimeout: requestTimeout, cert: options.tls.cert, key: options.tls.key }) : createHttpServer(httpOptions);
    this.http.timeout = requestTimeout;
    this.http.keepAliveTimeout = Math.min(this.http.keepAliveTimeout, requestTimeout);
    this.http.on("connection", (socket: Socket) => this.onConnection(socket));
    this.http.on("request", (req, res) => void this.onRequest(req, res));
    this.http.on("upgrade", (req, socket, head) => void this.onUpgrade(req, socket, head));
  }

  static async start(options: PeerServerOptions = {}): Promise<PeerServer> {
    let registry: Registry | undefined;
    if (options.cluster) {
      const { redisUrl, nodeId, atRestKey } = options.cluster;
      registry = await Registry.connect(redisUrl, { nodeId, atRest: atRestKey ? sealedAtRest(atRestKey) : PLAIN_AT_REST });
    }
    const server = new PeerServer(options, registry);
    const cluster = server.cluster;
    await new Promise<void>((resolve, reject) => {
      server.http.once("error", (error) => void cluster?.stop().finally(() => reject(error)));
      server.http.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
    });
    if (options.metrics) {
      const listener = createHttpServer((request, response) => void server.serveMetrics(request, response));
      server.metricsListener = listener;
      await new Promise<void>((resolve, reject) => {
        listener.once("error", (error) => void server.close().finally(() => reject(error)));
        listener.listen(options.metrics?.port, options.metrics?.host ?? "127.0.0.1", () => resolve());
      });
    }
    const limits = server.limits;
    // The sweep serves what has no timer of its own (a connection's handshake and heartbeat timers and a
    // session's lifetime have theirs): chunk timeouts, resume windows, the nonce cache and the events
    // heartbeat. Its period is a fiftieth of the shortest of those, so they fire at most 2% late.
    const period = Math.max(10, Math.min(1000, limits.chunk_timeout_ms / 50, limits.resume_window_ms / 50, limits.ping_interval_ms / 50, limits.pong_grace_ms / 50));
    server.sweepTimer = setInterval(() => server.sweep(), period);
    server.sweepTimer.unref();
    return server;
  }

  get serverId(): string {
    return this.service.config.serverId;
  }

  get identityKey(): string {
    return toBase64Url(this.identity.publicKey);
  }

  /** The URL of GET /metrics on its own listener, when it has one. */
  get metricsUrl(): string | undefined {
    const address = this.metricsListener?.address();
    if (!address || typeof address === "string") return undefined;
    const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
    return `http://${host}:${address.port}/metrics`;
  }

  /** The http(s) base URL. */
  get url(): string {
    const address = this.http.address();
    if (!address || typeof address === "string") throw new Error("server is not listening");
    const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
    return `${this.options.tls ? "https" : "http"}://${host}:${address.port}`;
  }

  get wsUrl(): string {
    return this.url.replace(/^http/, "ws") + "/ws/v1/peers";
  }

  /** The discovery document (spec §4.4). */
  discovery(): object {
    return {
      protocol: "peer-protocol",
      versions: ["1.2", "1.1"],
      server_id: this.serverId,
      identity_key: this.identityKey, // PP-TRN-016
      transports: { websocket: { peers: "/ws/v1/peers", events: "/ws/v1/events" }, http: { handshake: "/peers/handshake", message: "/peers/message", poll: "/peers/poll" } },
      capabilities: this.service.config.capabilities,
      limits: { ...this.limits }, // PP-TRN-015
      auth: { required: this.options.requireToken ?? false, token_endpoint: "/auth/token", verify_endpoint: "/auth/verify", algorithms: ["EdDSA"] },
    };
  }

  private async tokenFrom(request: IncomingMessage, url: URL): Promise<TokenSubject | undefined> {
    const header = request.headers.authorization;
    const token = header?.startsWith("Bearer ") ? header.slice(7) : (url.searchParams.get("token") ?? undefined); // PP-AUTH-004, PP-AUTH-005
    if (token === undefined) {
      if (this.options.requireToken) throw new ProtocolError("AUTHENTICATION_FAILED", "a bearer token is required"); // PP-AUTH-006
      return undefined;
    }
    return this.tokens.check(token);
  }

  private async onRequest(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? "/", "http://localhost");
    if (request.method === "GET" && url.pathname === "/metrics" && !this.options.metrics && !this.options.requireToken) {
      await this.serveMetrics(request, response);
      return;
    }
    const publicRoute = url.pathname === "/peers/capabilities" || url.pathname.startsWith("/auth/");
    const handled = await this.binding.handle(request, response, url, () => (publicRoute ? Promise.resolve(undefined) : this.tokenFrom(request, url)));
    if (!handled) {
      response.writeHead(404, { "content-type": "application/json" });
      response.end(JSON.stringify({ error: `no route ${request.method} ${url.pathname}` }));
    }
  }

  /** GET /metrics: counts only, no ids, keys or tokens (PP-AUTH-008). */
  private async serveMetrics(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (request.method !== "GET" || new URL(request.url ?? "/", "http://localhost").pathname !== "/metrics") {
      response.writeHead(404, { "content-type": "text/plain" });
      response.end("this listener serves GET /metrics only\n");
      return;
    }
    const { contentType, body } = await this.service.metrics.render();
    response.writeHead(200, { "content-type": contentType });
    response.end(body);
  }

  private async onUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(request.url ?? "/", "http://localhost");
    const wss = url.pathname === "/ws/v1/peers" ? this.peersWss : url.pathname === "/ws/v1/events" ? this.eventsWss : undefined;
    const refuse = (status: number, error?: ProtocolError) => {
      const body = error ? JSON.stringify(plaintextEnvelope({ type: "ERROR", version: "1.2", sender_id: this.serverId, timestamp: Date.now(), payload: error.toPayload() })) : "";
      socket.end(`HTTP/1.1 ${status} ${status === 404 ? "Not Found" : "Unauthorized"}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
    };
    if (!wss || this.closing) return refuse(404);
    if (wss === this.eventsWss && !this.service.config.capabilities.includes("events")) return refuse(404);
    const allowlist = this.options.originAllowlist ?? [];
    const origin = request.headers.origin;
    if (allowlist.length > 0 && origin !== undefined && !allowlist.includes(origin)) {
      this.service.metrics.errors.labels("AUTHENTICATION_FAILED").inc();
      return refuse(401, new ProtocolError("AUTHENTICATION_FAILED", "Origin is not allowed")); // PP-AUTH-009
    }
    let tokenSubject: TokenSubject | undefined;
    try {
      tokenSubject = await this.tokenFrom(request, url); // PP-AUTH-006, PP-EVT-006
    } catch (error) {
      this.service.metrics.errors.labels("AUTHENTICATION_FAILED").inc();
      return refuse(401, error as ProtocolError);
    }
    wss.handleUpgrade(request, socket, head, (ws: WebSocket) => {
      if (wss === this.peersWss) {
        const sessionId = url.searchParams.get("session_id");
        this.accept(new WebSocketTransport(ws), { ...(sessionId !== null ? { resumeSessionId: sessionId } : {}), ...(tokenSubject ? { tokenSubject } : {}) });
      } else {
        const connection = new EventsConnection(ws, this.service.hub, this.service);
        this.events.add(connection);
        ws.on("close", () => this.events.delete(connection));
        this.service.metrics.connections.labels("events").inc();
        this.service.metrics.openConnections.labels("events").inc();
      }
    });
  }

  /** PP-LIM-011: a connection over max_connections_per_ip from one address is closed before it is read. */
  private onConnection(socket: Socket): void {
    const limit = this.limits.max_connections_per_ip;
    if (limit === 0) return;
    const ip = socket.remoteAddress ?? "";
    const open = this.connectionsByIp.get(ip) ?? 0;
    if (open >= limit) {
      socket.destroy();
      return;
    }
    this.connectionsByIp.set(ip, open + 1);
    socket.once("close", () => {
      const left = (this.connectionsByIp.get(ip) ?? 1) - 1;
      if (left > 0) this.connectionsByIp.set(ip, left);
      else this.connectionsByIp.delete(ip);
    });
  }

  /** Serves a peer connection over any Transport (a WebSocket, or an in-memory pair in tests). */
  accept(transport: Transport, options: { resumeSessionId?: string; tokenSubject?: TokenSubject } = {}): PeerConnection {
    const connection = new PeerConnection(transport, this.service, options);
    this.peers.add(connection);
    this.service.metrics.connections.labels("peers").inc();
    this.service.metrics.openConnections.labels("peers").inc();
    transport.onClose(() => {
      this.peers.delete(connection);
      this.service.metrics.openConnections.labels("peers").dec();
    });
    return connection;
  }

  private sweep(): void {
    const now = this.service.now();
    for (const connection of this.events) if (now - connection.lastReceivedAt >= this.limits.ping_interval_ms) connection.tick(now);
    this.service.sweep();
    this.binding.sweep();
    this.memory.observe(this.service.heldBytes, now);
  }

  /** Graceful shutdown (PP-SES-016): BYE to every session, close 1001, then drain. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    for (const connection of this.peers) {
      const serverSession = connection.session;
      if (serverSession?.confirmed && serverSession.sink === connection) {
        this.service.sendControl(serverSession, "BYE", { reason: "server shutting down" });
        connection.close(1001, "server shutting down");
        this.service.end(serverSession, "server shutting down", false);
      }
      connection.close(1001, "server shutting down");
    }
    for (const connection of this.events) connection.close(1001, "server shutting down");
    await new Promise<void>((resolve) => {
      this.http.close(() => resolve());
      this.http.closeAllConnections?.();
    });
    const metrics = this.metricsListener;
    if (metrics?.listening) {
      await new Promise<void>((resolve) => {
        metrics.close(() => resolve());
        metrics.closeAllConnections();
      });
    }
    await this.cluster?.stop();
  }
}
