/**
 * A fault-injecting proxy for the conformance self-test (DESIGN.md §5): it forwards the HTTP routes
 * and the two WebSocket endpoints (`/ws/v1/peers`, `/ws/v1/events`) to a clean upstream server and
 * breaks exactly one behaviour on the way, so that the proxy and the server together behave like
 * a faulty endpoint. Record contents stay sealed end to end (the proxy holds no keys), but every
 * envelope's `type` is visible, plaintext frames can be rewritten, and frames, closes and pings can
 * be dropped, duplicated or reordered.
 *
 * ```
 * probe ──ws/http──> fault proxy (one fault) ──ws/http──> clean reference server
 * ```
 *
 * With `fault: null` the proxy is transparent, including backpressure: a client that stops reading
 * stalls the upstream connection, so the server sees a slow consumer as it would directly.
 */
import { createServer as createHttpServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { Socket } from "node:net";
import { networkInterfaces } from "node:os";
import type { Duplex } from "node:stream";
import WebSocket, { WebSocketServer, type RawData } from "ws";
import { ed25519PublicKey, randomBytes } from "../src/probe/crypto.ts";
import { b64u } from "../src/probe/wire.ts";
import { errorRow } from "../src/schemas.ts";

/** Every fault the proxy can inject, with what it simulates. */
export const PROXY_FAULTS = {
  // Frames from the server (server -> client).
  "swallow-errors": "drops every ERROR the server sends and keeps the client's connection open when the server closes after it: bad input is ignored silently",
  "close-code-1000": "rewrites every close code the server sends to 1000",
  "keep-open-on-close": "keeps the client's connection open when the server closes it",
  "reorder-records": "swaps consecutive data records of the server (the second goes out first)",
  "duplicate-records": "sends every data record of the server twice",
  "add-unknown-member": "adds an unknown member to every plaintext envelope the server sends (a strict schema violation)",
  "strip-nonce": "removes the nonce of every plaintext envelope the server sends",
  "select-v11": 'rewrites HANDSHAKE_INIT_ACK.payload.version_selected to "1.1"',
  "strip-related-message-id": "removes related_message_id from plaintext ERROR envelopes",
  "wrong-retryable": "inverts retryable in plaintext ERROR envelopes",
  "reuse-handshake-values": "sends the first HANDSHAKE_INIT_ACK's ephemeral_key and challenge in every later one",
  "corrupt-responder-signature": "flips a bit of SESSION_ESTABLISHED.payload.signature",
  "drop-resume-ack": "drops SESSION_RESUME_ACK",
  "error-closes-all": "when the server closes one connection with an error code, closes every other connection too",
  "drop-pings": "does not forward the server's WebSocket pings (the heartbeat)",
  "no-backpressure": "buffers without limit for a client that does not read, so the server never sees a slow consumer",
  "subscribed-lists-request-only": "SUBSCRIBED lists only the channels of the SUBSCRIBE it answers, not every channel subscribed",
  "unsubscribed-empty": "UNSUBSCRIBED lists no channel",
  "duplicate-events": "sends every EVENT twice",
  "unsubscribe-ignored": "answers UNSUBSCRIBE itself with UNSUBSCRIBED and never tells the server: the subscription stays",
  // Frames from the client (client -> server).
  "truncate-offered-versions": "forwards HANDSHAKE_INIT with only its first offered version: the transcript no longer covers the offer as sent",
  "truncate-offered-capabilities": "forwards HANDSHAKE_INIT with only its first offered capability: the transcript no longer covers the offer as sent",
  "strip-unknown-members": "removes members the schema does not define from HANDSHAKE_INIT and CHALLENGE_RESPONSE: they never reach the transcript",
  "canonicalize-base64url": "re-encodes the binary members of HANDSHAKE_INIT as canonical base64url (a lenient decoder)",
  "drop-bye": "does not forward BYE records to the server",
  // WebSocket upgrades.
  "token-query-refused": "refuses (HTTP 401) an upgrade that carries its token in the token query parameter",
  "strip-authorization": "removes the token (Authorization header and token query parameter) from upgrades",
  // HTTP routes.
  "discovery-401": "answers GET /peers/capabilities with HTTP 401",
  "discovery-missing-transports": "removes transports from the discovery document",
  "discovery-without-http": "leaves the http capability out of the discovery document, though it serves the HTTP binding",
  "discovery-wrong-identity-key": "advertises another identity_key in discovery",
  "discovery-inflated-skew": "advertises ten times the max_clock_skew_ms the server enforces",
  "http-error-status-400": "answers every failed HTTP request with status 400, whatever the error",
  "http-refuse-v11": "refuses a v1.1 HANDSHAKE_INIT over POST /peers/handshake with VERSION_NOT_SUPPORTED",
  "http-last-handshake-wins": "correlates an HTTP CHALLENGE_RESPONSE with the most recent handshake, not its session_id",
  "poll-reversed": "returns the records of GET /peers/poll in decreasing seq order",
  "auth-challenge-repeated": "answers every GET /auth/token for an entity with the first challenge issued to it",
  "auth-verify-replayed": "answers a repeated POST /auth/verify with the token issued the first time",
  "token-long-lived": "rewrites the exp claim of issued tokens to 24 hours after iat",
  // Listening.
  "tls-1.2-only": "serves TLS capped at TLS 1.2",
  "plaintext-off-loopback": "serves plain ws:/http: on a non-loopback address",
  // Issue #12: HTTP binding and tokens.
  "poll-without-acks": "leaves the server's ACK records out of the answers of GET /peers/poll",
  "token-expiry-in-seconds": "rewrites the expires_at of POST /auth/verify answers to seconds since the epoch",
} as const;

export type ProxyFaultName = keyof typeof PROXY_FAULTS;
export const PROXY_FAULT_NAMES = Object.keys(PROXY_FAULTS) as ProxyFaultName[];

export interface TlsMaterial {
  cert: string | Buffer;
  key: string | Buffer;
}

export interface FaultProxyOptions {
  /** The fault to inject; null for a transparent proxy. */
  fault: ProxyFaultName | null;
  /** Address to listen on (default 127.0.0.1). */
  host?: string;
  /** Serve https:/wss: with this certificate. */
  tls?: TlsMaterial & { maxVersion?: "TLSv1.2" | "TLSv1.3" };
}

export interface FaultProxy {
  /** The http(s) base URL of the proxy. */
  url: string;
  close(): Promise<void>;
}

type Frame = { data: Buffer; isBinary: boolean };
type Json = Record<string, unknown>;

/** Data records (spec §9): what reorder/duplicate faults act on. */
const DATA_TYPES = new Set(["PEER_MESSAGE", "BROADCAST", "TASK_REQUEST", "TASK_RESPONSE", "CHUNKED_MESSAGE"]);
const ENVELOPE_MEMBERS = new Set(["message_id", "type", "version", "timestamp", "session_id", "sender_id", "recipient_id", "nonce", "payload", "seq", "signature"]);
const PAYLOAD_MEMBERS: Record<string, Set<string>> = {
  HANDSHAKE_INIT: new Set(["versions", "ephemeral_key", "identity_key", "capabilities"]),
  CHALLENGE_RESPONSE: new Set(["signature", "finished"]),
};
/** Close codes an endpoint may send in a close frame (RFC 6455 §7.4). */
const sendableClose = (code: number) => (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
const HIGH_WATER = 256 * 1024;
const MAX_PAYLOAD = 512 * 1024 * 1024;

function parse(frame: Frame): Json | null {
  if (frame.isBinary) return null;
  try {
    const value = JSON.parse(frame.data.toString("utf8")) as unknown;
    return value && typeof value === "object" && !Array.isArray(value) ? (value as Json) : null;
  } catch {
    return null;
  }
}

const frameOf = (value: unknown): Frame => ({ data: Buffer.from(JSON.stringify(value)), isBinary: false });
const isRecord = (message: Json) => typeof message.payload === "string";
const payloadOf = (message: Json): Json => (message.payload && typeof message.payload === "object" ? (message.payload as Json) : {});

/** A plaintext envelope made up by the proxy, valid against the schema. */
function madeUp(type: string, payload: Json, senderId: string): Json {
  return { message_id: `m${b64u(randomBytes(12))}`, type, version: "1.2", timestamp: Date.now(), sender_id: senderId, nonce: b64u(randomBytes(32)), payload };
}

function errorEnvelope(code: string, message: string, senderId: string, related?: unknown): Json {
  const payload: Json = { code, message, retryable: errorRow(code)?.retryable ?? false };
  if (typeof related === "string" && /^[A-Za-z0-9_-]{8,128}$/.test(related)) payload.related_message_id = related;
  return madeUp("ERROR", payload, senderId);
}

/** Lenient base64 (either alphabet, padding, stray trailing bits) re-encoded canonically. */
function canonicalB64u(value: unknown): unknown {
  if (typeof value !== "string" || !/^[A-Za-z0-9+/_=-]+$/.test(value)) return value;
  return Buffer.from(value.replace(/-/g, "+").replace(/_/g, "/"), "base64").toString("base64url");
}

function flipFirstBit(value: unknown): unknown {
  if (typeof value !== "string" || value.length === 0) return value;
  const bytes = Buffer.from(value, "base64url");
  bytes[0] = (bytes[0] as number) ^ 1;
  return bytes.toString("base64url");
}

/** One proxied WebSocket connection. */
interface Link {
  kind: "peers" | "events";
  client: WebSocket;
  upstream: WebSocket;
  /** Set once the proxy swallowed an ERROR on this link (swallow-errors). */
  swallowed: boolean;
  /** Channels of the last SUBSCRIBE the client sent (subscribed-lists-request-only). */
  lastSubscribe: string[];
  /** A data record held back by reorder-records. */
  held: { frame: Frame; timer: NodeJS.Timeout } | null;
  /** Bytes handed to the client socket and not yet flushed (backpressure). */
  inFlight: number;
  toClient(frame: Frame): void;
  toServer(frame: Frame): void;
  closeClient(code: number, reason: string): void;
}

/** State shared by every connection and request of one proxy. */
interface Shared {
  serverId: string;
  links: Set<Link>;
  firstInitAck: { ephemeral_key: unknown; challenge: unknown } | null;
  lastInitAckSession: string | null;
  challenges: Map<string, string>;
  verified: Map<string, { status: number; headers: Record<string, string>; body: Buffer }>;
}

/** What a fault changes in a frame from the server; an empty list drops it. */
function fromServer(fault: ProxyFaultName | null, frame: Frame, link: Link, shared: Shared): Frame[] {
  const message = parse(frame);
  if (!fault || !message) return [frame];
  const type = String(message.type);
  const plaintext = !isRecord(message);
  switch (fault) {
    case "swallow-errors":
      if (type !== "ERROR") return [frame];
      link.swallowed = true;
      return [];
    case "duplicate-records":
      return DATA_TYPES.has(type) && !plaintext ? [frame, frame] : [frame];
    case "add-unknown-member":
      return plaintext ? [frameOf({ ...message, x_proxy: true })] : [frame];
    case "strip-nonce": {
      if (!plaintext) return [frame];
      const { nonce: _nonce, ...rest } = message;
      return [frameOf(rest)];
    }
    case "select-v11":
      return type === "HANDSHAKE_INIT_ACK" ? [frameOf({ ...message, payload: { ...payloadOf(message), version_selected: "1.1" } })] : [frame];
    case "strip-related-message-id": {
      if (type !== "ERROR" || !plaintext) return [frame];
      const { related_message_id: _related, ...payload } = payloadOf(message);
      return [frameOf({ ...message, payload })];
    }
    case "wrong-retryable":
      return type === "ERROR" && plaintext ? [frameOf({ ...message, payload: { ...payloadOf(message), retryable: payloadOf(message).retryable !== true } })] : [frame];
    case "reuse-handshake-values": {
      if (type !== "HANDSHAKE_INIT_ACK") return [frame];
      const payload = payloadOf(message);
      shared.firstInitAck ??= { ephemeral_key: payload.ephemeral_key, challenge: payload.challenge };
      return [frameOf({ ...message, payload: { ...payload, ...shared.firstInitAck } })];
    }
    case "corrupt-responder-signature":
      return type === "SESSION_ESTABLISHED" ? [frameOf({ ...message, payload: { ...payloadOf(message), signature: flipFirstBit(payloadOf(message).signature) } })] : [frame];
    case "drop-resume-ack":
      return type === "SESSION_RESUME_ACK" ? [] : [frame];
    case "subscribed-lists-request-only":
      return type === "SUBSCRIBED" ? [frameOf({ ...message, payload: { ...payloadOf(message), channels: link.lastSubscribe } })] : [frame];
    case "unsubscribed-empty":
      return type === "UNSUBSCRIBED" ? [frameOf({ ...message, payload: { ...payloadOf(message), channels: [] } })] : [frame];
    case "duplicate-events":
      return type === "EVENT" ? [frame, frame] : [frame];
    default:
      return [frame];
  }
}

/** What a fault changes in a frame from the client; an empty list drops it. */
function fromClient(fault: ProxyFaultName | null, frame: Frame, link: Link, shared: Shared): Frame[] {
  const message = parse(frame);
  if (!message) return [frame];
  const type = String(message.type);
  if (type === "SUBSCRIBE") link.lastSubscribe = Array.isArray(payloadOf(message).channels) ? (payloadOf(message).channels as string[]) : [];
  switch (fault) {
    case "truncate-offered-versions":
    case "truncate-offered-capabilities": {
      const member = fault === "truncate-offered-versions" ? "versions" : "capabilities";
      const payload = payloadOf(message);
      if (type !== "HANDSHAKE_INIT" || !Array.isArray(payload[member])) return [frame];
      return [frameOf({ ...message, payload: { ...payload, [member]: payload[member].slice(0, 1) } })];
    }
    case "strip-unknown-members": {
      const known = PAYLOAD_MEMBERS[type];
      if (!known) return [frame];
      const envelope = Object.fromEntries(Object.entries(message).filter(([k]) => ENVELOPE_MEMBERS.has(k)));
      envelope.payload = Object.fromEntries(Object.entries(payloadOf(message)).filter(([k]) => known.has(k)));
      return [frameOf(envelope)];
    }
    case "canonicalize-base64url": {
      if (type !== "HANDSHAKE_INIT") return [frame];
      const payload = payloadOf(message);
      return [frameOf({ ...message, nonce: canonicalB64u(message.nonce), payload: { ...payload, ephemeral_key: canonicalB64u(payload.ephemeral_key), identity_key: canonicalB64u(payload.identity_key) } })];
    }
    case "drop-bye":
      return type === "BYE" && isRecord(message) ? [] : [frame];
    case "unsubscribe-ignored":
      if (type !== "UNSUBSCRIBE") return [frame];
      link.toClient(frameOf(madeUp("UNSUBSCRIBED", { channels: payloadOf(message).channels ?? [] }, shared.serverId)));
      return [];
    default:
      return [frame];
  }
}

/** How a fault changes the server's close of a link: a close code to forward, or null to keep the client open. */
function onServerClose(fault: ProxyFaultName | null, code: number, link: Link, shared: Shared): number | null {
  if (fault === "keep-open-on-close") return null;
  if (fault === "swallow-errors" && link.swallowed) return null;
  if (fault === "close-code-1000") return 1000;
  if (fault === "error-closes-all" && code !== 1000 && code !== 1001 && code !== 1005) {
    for (const other of shared.links) if (other !== link) other.closeClient(code, "another connection failed");
  }
  return code;
}

interface HttpAnswer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

const jsonAnswer = (status: number, value: unknown): HttpAnswer => ({ status, headers: { "content-type": "application/json" }, body: Buffer.from(JSON.stringify(value)) });

function parseBody(body: Buffer): Json | null {
  try {
    const value = JSON.parse(body.toString("utf8")) as unknown;
    return value && typeof value === "object" && !Array.isArray(value) ? (value as Json) : null;
  } catch {
    return null;
  }
}

/** A fault's answer to an HTTP request before it is forwarded (undefined: forward it), possibly with a rewritten body. */
function beforeHttp(fault: ProxyFaultName | null, method: string, url: URL, body: Buffer, shared: Shared): { answer?: HttpAnswer; body?: Buffer } {
  const path = url.pathname;
  if (fault === "discovery-401" && method === "GET" && path === "/peers/capabilities") return { answer: jsonAnswer(401, errorEnvelope("AUTHENTICATION_FAILED", "a token is required", shared.serverId)) };
  if (fault === "auth-challenge-repeated" && method === "GET" && path === "/auth/token") {
    const cached = shared.challenges.get(url.searchParams.get("entity_id") ?? "");
    if (cached) return { answer: { status: 200, headers: { "content-type": "application/json" }, body: Buffer.from(cached) } };
  }
  if (fault === "auth-verify-replayed" && method === "POST" && path === "/auth/verify") {
    const cached = shared.verified.get(body.toString("utf8"));
    if (cached) return { answer: cached };
  }
  if (method === "POST" && path === "/peers/handshake") {
    const message = parseBody(body);
    if (fault === "http-refuse-v11" && message?.type === "HANDSHAKE_INIT" && message.version === "1.1")
      return { answer: jsonAnswer(errorRow("VERSION_NOT_SUPPORTED")?.http ?? 400, errorEnvelope("VERSION_NOT_SUPPORTED", "v1.1 is not served", shared.serverId, message.message_id)) };
    if (fault === "http-last-handshake-wins" && message?.type === "CHALLENGE_RESPONSE" && shared.lastInitAckSession) return { body: Buffer.from(JSON.stringify({ ...message, session_id: shared.lastInitAckSession })) };
  }
  return {};
}

/** A fault's rewrite of an HTTP answer from the server. */
function afterHttp(fault: ProxyFaultName | null, method: string, url: URL, requestBody: Buffer, answer: HttpAnswer, shared: Shared): HttpAnswer {
  const path = url.pathname;
  const json = () => parseBody(answer.body);
  if (method === "POST" && path === "/peers/handshake") {
    const message = json();
    if (message?.type === "HANDSHAKE_INIT_ACK" && typeof message.session_id === "string") shared.lastInitAckSession = message.session_id;
  }
  switch (fault) {
    case "discovery-missing-transports":
    case "discovery-without-http":
    case "discovery-wrong-identity-key":
    case "discovery-inflated-skew": {
      if (method !== "GET" || path !== "/peers/capabilities") return answer;
      const doc = json();
      if (!doc) return answer;
      if (fault === "discovery-missing-transports") delete doc.transports;
      if (fault === "discovery-without-http" && Array.isArray(doc.capabilities)) doc.capabilities = doc.capabilities.filter((c: unknown) => c !== "http");
      if (fault === "discovery-wrong-identity-key") doc.identity_key = b64u(ed25519PublicKey(randomBytes(32)));
      if (fault === "discovery-inflated-skew") {
        const limits = (doc.limits ?? {}) as Record<string, number>;
        doc.limits = { ...limits, max_clock_skew_ms: (limits.max_clock_skew_ms ?? 300_000) * 10 };
      }
      return { ...answer, body: Buffer.from(JSON.stringify(doc)) };
    }
    case "http-error-status-400":
      return answer.status >= 400 ? { ...answer, status: 400 } : answer;
    case "poll-reversed": {
      if (method !== "GET" || path !== "/peers/poll") return answer;
      const body = json();
      if (!body || !Array.isArray(body.records)) return answer;
      return { ...answer, body: Buffer.from(JSON.stringify({ ...body, records: [...body.records].reverse() })) };
    }
    case "auth-challenge-repeated":
      if (method === "GET" && path === "/auth/token" && answer.status === 200) {
        const entity = url.searchParams.get("entity_id") ?? "";
        if (!shared.challenges.has(entity)) shared.challenges.set(entity, answer.body.toString("utf8"));
      }
      return answer;
    case "auth-verify-replayed":
      if (method === "POST" && path === "/auth/verify" && answer.status === 200) shared.verified.set(requestBody.toString("utf8"), answer);
      return answer;
    case "token-long-lived": {
      if (method !== "POST" || path !== "/auth/verify" || answer.status !== 200) return answer;
      const body = json();
      if (!body || typeof body.token !== "string") return answer;
      const [header, claims, signature] = body.token.split(".");
      const decoded = JSON.parse(Buffer.from(claims ?? "", "base64url").toString("utf8")) as Json;
      const iat = typeof decoded.iat === "number" ? decoded.iat : Math.floor(Date.now() / 1000);
      const token = `${header}.${Buffer.from(JSON.stringify({ ...decoded, exp: iat + 86_400 })).toString("base64url")}.${signature}`;
      return { ...answer, body: Buffer.from(JSON.stringify({ ...body, token, expires_at: (iat + 86_400) * 1000 })) };
    }
    // Issue #12: HTTP binding and tokens.
    case "poll-without-acks": {
      if (method !== "GET" || path !== "/peers/poll") return answer;
      const body = json();
      if (!body || !Array.isArray(body.records)) return answer;
      return { ...answer, body: Buffer.from(JSON.stringify({ ...body, records: (body.records as Json[]).filter((r) => r.type !== "ACK") })) };
    }
    case "token-expiry-in-seconds": {
      if (method !== "POST" || path !== "/auth/verify" || answer.status !== 200) return answer;
      const body = json();
      if (!body || typeof body.expires_at !== "number") return answer;
      return { ...answer, body: Buffer.from(JSON.stringify({ ...body, expires_at: Math.floor(body.expires_at / 1000) })) };
    }
    default:
      return answer;
  }
}

function readBody(stream: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("end", () => resolve(Buffer.concat(chunks)));
    stream.on("error", reject);
  });
}

const HOP_HEADERS = new Set(["connection", "keep-alive", "transfer-encoding", "content-length", "host", "upgrade"]);

function forwardHttp(upstream: URL, method: string, path: string, headers: IncomingMessage["headers"], body: Buffer): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const outHeaders: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(headers)) if (v !== undefined && !HOP_HEADERS.has(k)) outHeaders[k] = v;
    if (body.length > 0) outHeaders["content-length"] = String(body.length);
    const request = httpRequest({ host: upstream.hostname, port: upstream.port, method, path, headers: outHeaders }, (response) => {
      readBody(response)
        .then((data) => {
          const responseHeaders: Record<string, string> = {};
          for (const [k, v] of Object.entries(response.headers)) if (typeof v === "string" && !HOP_HEADERS.has(k)) responseHeaders[k] = v;
          resolve({ status: response.statusCode ?? 502, headers: responseHeaders, body: data });
        })
        .catch(reject);
    });
    request.on("error", reject);
    request.end(body);
  });
}

/** Starts the proxy in front of `upstreamBaseUrl` (an http: base URL of a clean server). */
export async function startFaultProxy(upstreamBaseUrl: string, options: FaultProxyOptions): Promise<FaultProxy> {
  const fault = options.fault;
  const upstream = new URL(upstreamBaseUrl);
  const upstreamWs = upstreamBaseUrl.replace(/^http/, "ws").replace(/\/+$/, "");
  let serverId = "peer-server";
  try {
    const discovery = (await (await fetch(`${upstreamBaseUrl}/peers/capabilities`)).json()) as { server_id?: unknown };
    if (typeof discovery.server_id === "string") serverId = discovery.server_id;
  } catch {
    // The proxy works without it; made-up envelopes then name "peer-server".
  }
  const shared: Shared = { serverId, links: new Set(), firstInitAck: null, lastInitAckSession: null, challenges: new Map(), verified: new Map() };
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: MAX_PAYLOAD, skipUTF8Validation: true, autoPong: false, clientTracking: false });
  const sockets = new Set<Duplex>();

  const onRequest = (request: IncomingMessage, response: ServerResponse) => {
    void (async () => {
      const url = new URL(request.url ?? "/", "http://proxy");
      const method = request.method ?? "GET";
      try {
        const body = await readBody(request);
        const before = beforeHttp(fault, method, url, body, shared);
        const sent = before.body ?? body;
        const answer = before.answer ?? afterHttp(fault, method, url, sent, await forwardHttp(upstream, method, `${url.pathname}${url.search}`, request.headers, sent), shared);
        response.writeHead(answer.status, { ...answer.headers, "content-length": String(answer.body.length) });
        response.end(answer.body);
      } catch (error) {
        response.writeHead(502, { "content-type": "text/plain" });
        response.end(`fault proxy: upstream failed (${error instanceof Error ? error.message : String(error)})`);
      }
    })();
  };

  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(request.url ?? "/", "http://proxy");
    const kind = url.pathname === "/ws/v1/events" ? "events" : "peers";
    const refuse = (status: number, text: string, body = "") => socket.end(`HTTP/1.1 ${status} ${text}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
    if (fault === "token-query-refused" && url.searchParams.has("token")) return refuse(401, "Unauthorized", JSON.stringify(errorEnvelope("AUTHENTICATION_FAILED", "tokens are accepted in the Authorization header only", serverId)));
    const headers: Record<string, string> = {};
    if (typeof request.headers.authorization === "string") headers.authorization = request.headers.authorization;
    if (typeof request.headers.origin === "string") headers.origin = request.headers.origin;
    if (fault === "strip-authorization") {
      delete headers.authorization;
      url.searchParams.delete("token");
    }
    const server = new WebSocket(`${upstreamWs}${url.pathname}${url.search}`, { headers, perMessageDeflate: false, maxPayload: MAX_PAYLOAD, skipUTF8Validation: true, autoPong: false, handshakeTimeout: 5000 });
    const early: Frame[] = [];
    let link: Link | null = null;
    let refused = false;
    server.on("message", (data: RawData, isBinary) => {
      const frame = { data: Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as Buffer), isBinary };
      if (link) relayToClient(link, frame);
      else early.push(frame);
    });
    server.on("error", () => {
      if (!link && !refused) socket.destroy();
    });
    // The server refused the upgrade (e.g. HTTP 401 without a token): the client gets the same answer.
    server.on("unexpected-response", (_req, response) => {
      refused = true;
      readBody(response).then(
        (body) => refuse(response.statusCode ?? 502, response.statusMessage ?? "Refused", body.toString("utf8")),
        () => socket.destroy(),
      );
    });
    server.once("open", () => {
      wss.handleUpgrade(request, socket, head, (client) => {
        link = connect(kind, client, server);
        for (const frame of early.splice(0)) relayToClient(link, frame);
      });
    });
  };

  /** Server -> client, through the fault, then through reorder-records and backpressure. */
  const relayToClient = (link: Link, frame: Frame) => {
    for (const out of fromServer(fault, frame, link, shared)) {
      const message = fault === "reorder-records" ? parse(out) : null;
      if (message && DATA_TYPES.has(String(message.type)) && isRecord(message)) {
        if (link.held) {
          const held = link.held;
          clearTimeout(held.timer);
          link.held = null;
          link.toClient(out);
          link.toClient(held.frame);
        } else {
          link.held = { frame: out, timer: setTimeout(() => flushHeld(link), 300) };
        }
        continue;
      }
      flushHeld(link);
      link.toClient(out);
    }
  };

  const flushHeld = (link: Link) => {
    if (!link.held) return;
    clearTimeout(link.held.timer);
    const frame = link.held.frame;
    link.held = null;
    link.toClient(frame);
  };

  const connect = (kind: "peers" | "events", client: WebSocket, server: WebSocket): Link => {
    let keptOpen = false;
    const link: Link = {
      kind,
      client,
      upstream: server,
      swallowed: false,
      lastSubscribe: [],
      held: null,
      inFlight: 0,
      toClient(frame) {
        if (client.readyState !== WebSocket.OPEN) return;
        const size = frame.data.length;
        link.inFlight += size;
        client.send(frame.data, { binary: frame.isBinary }, () => {
          link.inFlight -= size;
          if (server.isPaused && link.inFlight < HIGH_WATER / 2) server.resume();
        });
        // Backpressure: stop reading from the server while the client does not read.
        if (fault !== "no-backpressure" && link.inFlight > HIGH_WATER && !server.isPaused) server.pause();
      },
      toServer(frame) {
        if (server.readyState === WebSocket.OPEN) server.send(frame.data, { binary: frame.isBinary });
      },
      closeClient(code, reason) {
        flushHeld(link);
        if (client.readyState !== WebSocket.OPEN && client.readyState !== WebSocket.CONNECTING) return;
        if (code === 1006) client.terminate();
        else if (sendableClose(code)) client.close(code, reason);
        else client.close();
      },
    };
    shared.links.add(link);
    client.on("message", (data: RawData, isBinary) => {
      if (keptOpen) return;
      const frame = { data: Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as Buffer), isBinary };
      for (const out of fromClient(fault, frame, link, shared)) link.toServer(out);
    });
    client.on("ping", (data) => server.readyState === WebSocket.OPEN && server.ping(data));
    client.on("pong", (data) => server.readyState === WebSocket.OPEN && server.pong(data));
    server.on("ping", (data) => fault !== "drop-pings" && client.readyState === WebSocket.OPEN && client.ping(data));
    server.on("pong", (data) => client.readyState === WebSocket.OPEN && client.pong(data));
    client.on("close", (code, reason) => {
      shared.links.delete(link);
      if (link.held) clearTimeout(link.held.timer);
      if (server.readyState === WebSocket.OPEN) {
        if (sendableClose(code)) server.close(code, reason);
        else server.close();
      } else if (server.readyState === WebSocket.CONNECTING) server.terminate();
    });
    server.on("close", (code, reason) => {
      const forwarded = onServerClose(fault, code, link, shared);
      if (forwarded === null) {
        keptOpen = true;
        flushHeld(link);
        return;
      }
      link.closeClient(forwarded, reason.toString("utf8"));
    });
    client.on("error", () => undefined);
    server.on("error", () => undefined);
    return link;
  };

  const listener: Server = options.tls ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key, ...(options.tls.maxVersion ? { maxVersion: options.tls.maxVersion } : {}) }) : createHttpServer();
  listener.on("request", onRequest);
  listener.on("upgrade", onUpgrade);
  // Off loopback (plaintext-off-loopback), only this machine's own addresses may connect.
  const local = new Set(Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address)));
  const loopbackOnly = !options.host || /^(127\.|::1$|localhost$)/.test(options.host);
  listener.on("connection", (socket: Socket) => {
    const remote = (socket.remoteAddress ?? "").replace(/^::ffff:/, "");
    if (!loopbackOnly && !local.has(remote)) return socket.destroy();
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  listener.on("secureConnection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    listener.once("error", reject);
    listener.listen(0, options.host ?? "127.0.0.1", () => resolve());
  });
  const address = listener.address();
  if (!address || typeof address === "string") throw new Error("the fault proxy is not listening");
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    url: `${options.tls ? "https" : "http"}://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const link of shared.links) {
          link.client.terminate();
          link.upstream.terminate();
        }
        for (const socket of sockets) socket.destroy();
        listener.close(() => resolve());
      }),
  };
}
