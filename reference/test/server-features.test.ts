/** Server behaviours beyond messaging: tokens, Origin, events, v1.1 over HTTP, resume outcomes, shutdown, metrics, logs. */
import { afterEach, describe, expect, test } from "vitest";
import { connect as tcpConnect, type Socket } from "node:net";
import WebSocket from "ws";
import { ed25519FromSeed, ed25519Sign, randomBytes } from "../src/crypto.ts";
import { toBase64Url } from "../src/encoding.ts";
import type { Envelope } from "../src/envelope.ts";
import { InitiatorHandshake } from "../src/handshake/initiator.ts";
import { signatureInput } from "../src/key-schedule.ts";
import type { RecordEnvelope } from "../src/record.ts";
import { startResume } from "../src/session/resume-initiator.ts";
import { Session } from "../src/session/session.ts";
import { PeerClient } from "../src/client/peer-client.ts";
import { createLogger } from "../src/server/logger.ts";
import { PeerServer, type PeerServerOptions } from "../src/server/server.ts";
import { RawPeer } from "./support/raw-peer.ts";

const servers: PeerServer[] = [];
const closers: (() => unknown)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function server(options: PeerServerOptions = {}): Promise<PeerServer> {
  const s = await PeerServer.start({ logLevel: "silent", ...options });
  servers.push(s);
  return s;
}

async function issueToken(s: PeerServer, entityId: string, seed: Buffer): Promise<string> {
  const identity = ed25519FromSeed(seed);
  const publicKey = toBase64Url(identity.publicKey);
  const { challenge } = (await (await fetch(`${s.url}/auth/token?entity_id=${entityId}&public_key=${publicKey}`)).json()) as { challenge: string };
  const signature = toBase64Url(ed25519Sign(identity, signatureInput("token challenge", Buffer.from(challenge, "base64url"))));
  const response = await fetch(`${s.url}/auth/verify`, { method: "POST", body: JSON.stringify({ entity_id: entityId, public_key: publicKey, challenge, signature }) });
  expect(response.status).toBe(200);
  return ((await response.json()) as { token: string }).token;
}

async function upgradeStatus(url: string, headers: Record<string, string> = {}): Promise<number> {
  const ws = new WebSocket(url, { headers });
  return new Promise((resolve) => {
    ws.once("open", () => {
      ws.close();
      resolve(101);
    });
    ws.once("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
    ws.once("error", () => {});
  });
}

describe("tokens and Origin", () => {
  test("with --require-token, refuses an upgrade without a token with 401 and accepts a valid one (PP-AUTH-004..006)", async () => {
    const s = await server({ requireToken: true });
    expect(await upgradeStatus(s.wsUrl)).toBe(401);
    const seed = randomBytes(32);
    const token = await issueToken(s, "alice", seed);
    expect(await upgradeStatus(s.wsUrl, { authorization: `Bearer ${token}` })).toBe(101);
    expect(await upgradeStatus(`${s.wsUrl}?token=${token}`)).toBe(101);
    const client = await PeerClient.connect({ url: s.url, entityId: "alice", identitySeed: seed, token });
    closers.push(() => client.close());
    await expect(client.request(s.serverId, "echo", 1)).resolves.toBe(1);
  });

  test("fails a handshake whose identity differs from the token's subject (PP-AUTH-007)", async () => {
    const s = await server({ requireToken: true });
    const token = await issueToken(s, "alice", randomBytes(32));
    await expect(PeerClient.connect({ url: s.url, entityId: "alice", identitySeed: randomBytes(32), token, transport: "WEBSOCKET_ONLY" })).rejects.toThrow(/AUTHENTICATION_FAILED/);
  });

  test("a token challenge is single-use (PP-RPL-007)", async () => {
    const s = await server();
    const identity = ed25519FromSeed(randomBytes(32));
    const publicKey = toBase64Url(identity.publicKey);
    const { challenge } = (await (await fetch(`${s.url}/auth/token?entity_id=bob&public_key=${publicKey}`)).json()) as { challenge: string };
    const body = JSON.stringify({ entity_id: "bob", public_key: publicKey, challenge, signature: toBase64Url(ed25519Sign(identity, signatureInput("token challenge", Buffer.from(challenge, "base64url")))) });
    expect((await fetch(`${s.url}/auth/verify`, { method: "POST", body })).status).toBe(200);
    expect((await fetch(`${s.url}/auth/verify`, { method: "POST", body })).status).toBe(401);
  });

  test("refuses an Origin that is not on the allowlist (PP-AUTH-009)", async () => {
    const s = await server({ originAllowlist: ["https://good.example"] });
    expect(await upgradeStatus(s.wsUrl, { origin: "https://evil.example" })).toBe(401);
    expect(await upgradeStatus(s.wsUrl, { origin: "https://good.example" })).toBe(101);
  });
});

describe("identity binding", () => {
  test("fails a second handshake for an entity id with another identity key (PP-AUTH-011)", async () => {
    const s = await server();
    const first = await PeerClient.connect({ url: s.url, entityId: "carol" });
    closers.push(() => first.close());
    await expect(PeerClient.connect({ url: s.url, entityId: "carol", transport: "WEBSOCKET_ONLY" })).rejects.toThrow(/AUTHENTICATION_FAILED/);
  });
});

describe("events", () => {
  test("delivers a BROADCAST as one EVENT to each subscriber of the channel only (PP-EVT-001, PP-EVT-003, PP-EVT-004)", async () => {
    const s = await server();
    const url = s.url.replace("http", "ws") + "/ws/v1/events";
    const subscriber = await RawPeer.open(url);
    const other = await RawPeer.open(url);
    closers.push(() => subscriber.close(), () => other.close());
    const subscribe = (p: RawPeer, channel: string) => p.sendRaw({ message_id: `sub-${channel}-0001`, type: "SUBSCRIBE", version: "1.2", timestamp: Date.now(), sender_id: "watcher", nonce: toBase64Url(randomBytes(16)), payload: { channels: [channel] } });
    subscribe(subscriber, "news");
    subscribe(other, "sports");
    expect((await subscriber.next()).payload).toEqual({ channels: ["news"] });
    expect((await other.next()).payload).toEqual({ channels: ["sports"] });
    const publisher = await PeerClient.connect({ url: s.url, entityId: "anchor" });
    closers.push(() => publisher.close());
    publisher.broadcast("news", { headline: "hello" });
    const event = await subscriber.nextOfType("EVENT");
    expect(event.payload).toMatchObject({ channel: "news", content: { headline: "hello" }, publisher_id: "anchor" });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(other.frames).toEqual([]);
  });

  test("closes a connection that sends no SUBSCRIBE within handshake_timeout_ms with HANDSHAKE_TIMEOUT and 4408, and keeps one that subscribed (PP-EVT-009)", async () => {
    const s = await server({ limits: { handshake_timeout_ms: 200 } });
    const url = s.url.replace("http", "ws") + "/ws/v1/events";
    const silent = await RawPeer.open(url);
    const subscribed = await RawPeer.open(url);
    closers.push(() => silent.close(), () => subscribed.close());
    subscribed.sendRaw({ message_id: "sub-in-time-0001", type: "SUBSCRIBE", version: "1.2", timestamp: Date.now(), sender_id: "watcher", nonce: toBase64Url(randomBytes(16)), payload: { channels: ["news"] } });
    expect((await subscribed.next()).type).toBe("SUBSCRIBED");
    expect((await silent.next()).payload).toMatchObject({ code: "HANDSHAKE_TIMEOUT" });
    expect(await silent.closed()).toBe(4408);
    await new Promise((resolve) => setTimeout(resolve, 300)); // past the timeout again: the subscriber stays
    expect(subscribed.closeCode).toBeUndefined();
  });
});

/** A raw TCP connection to the server: what it received, and when it closed. */
async function rawConnection(s: PeerServer): Promise<{ socket: Socket; received: () => string; closed: Promise<void> }> {
  const { hostname, port } = new URL(s.url);
  const socket = tcpConnect(Number(port), hostname);
  let received = "";
  socket.on("data", (data) => (received += data.toString()));
  socket.on("error", () => {});
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
  closers.push(() => socket.destroy());
  return { socket, received: () => received, closed };
}

const within = <T>(promise: Promise<T>, ms: number, what: string): Promise<T> =>
  Promise.race([promise, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms))]);

const GET_DISCOVERY = "GET /peers/capabilities HTTP/1.1\r\nhost: localhost\r\n\r\n";

describe("connections before the protocol (PP-LIM-010, PP-LIM-011)", () => {
  test("closes a connection that sends nothing for request_timeout_ms, and serves one that sends its request (PP-LIM-010)", async () => {
    const s = await server({ limits: { request_timeout_ms: 300 } });
    const silent = await rawConnection(s);
    const prompt = await rawConnection(s);
    prompt.socket.write(GET_DISCOVERY);
    await within(silent.closed, 3000, "the silent connection closed");
    expect(prompt.received()).toMatch(/^HTTP\/1\.1 200/);
  });

  test("closes a connection whose headers trickle in past request_timeout_ms (PP-LIM-010)", async () => {
    const s = await server({ limits: { request_timeout_ms: 300 } });
    const slow = await rawConnection(s);
    slow.socket.write("GET /peers/capabilities HTTP/1.1\r\nhost: localhost\r\n");
    const drip = setInterval(() => slow.socket.writable && slow.socket.write("x-slow: 1\r\n"), 50);
    try {
      await within(slow.closed, 3000, "the connection with slow headers closed");
    } finally {
      clearInterval(drip);
    }
    expect(slow.received()).not.toMatch(/ 200 /);
  });

  test("closes a connection whose POST body trickles in past request_timeout_ms (PP-LIM-010)", async () => {
    const s = await server({ limits: { request_timeout_ms: 300 } });
    const slow = await rawConnection(s);
    slow.socket.write("POST /peers/message HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{");
    const drip = setInterval(() => slow.socket.writable && slow.socket.write(" "), 50);
    try {
      await within(slow.closed, 3000, "the connection with a slow body closed");
    } finally {
      clearInterval(drip);
    }
    // The client's timeout, not a failure of the server: no INTERNAL_ERROR is counted (or logged).
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    expect(metrics).not.toMatch(/pp_errors_total\{code="INTERNAL_ERROR"\}/);
  });

  test("closes a connection over max_connections_per_ip before reading it, and serves one once another closed (PP-LIM-011)", async () => {
    const s = await server({ limits: { max_connections_per_ip: 3 } });
    const held = [await rawConnection(s), await rawConnection(s), await rawConnection(s)];
    for (const c of held) c.socket.write(GET_DISCOVERY);
    await within((async () => { while (!held.every((c) => /^HTTP\/1\.1 200/.test(c.received()))) await new Promise((r) => setTimeout(r, 10)); })(), 3000, "three connections served");
    const over = await rawConnection(s);
    over.socket.write(GET_DISCOVERY);
    await within(over.closed, 3000, "the fourth connection closed");
    expect(over.received()).toBe("");
    held[0]?.socket.destroy();
    await held[0]?.closed;
    await new Promise((resolve) => setTimeout(resolve, 50));
    const next = await rawConnection(s);
    next.socket.write(GET_DISCOVERY);
    await within((async () => { while (!/^HTTP\/1\.1 200/.test(next.received())) await new Promise((r) => setTimeout(r, 10)); })(), 3000, "a connection after one closed served");
  });
});

describe("v1.1 over the HTTP binding", () => {
  test("a v1.1 initiator gets a v1.1 session without capabilities or limits (PP-VER-005, PP-VER-010)", async () => {
    const s = await server();
    const initiator = new InitiatorHandshake({ identity: ed25519FromSeed(randomBytes(32)), entityId: "legacy", versions: ["1.1"], capabilities: [], now: Date.now });
    const post = async (body: object) => (await fetch(`${s.url}/peers/handshake`, { method: "POST", body: JSON.stringify(body) })).json() as Promise<Envelope>;
    const init = initiator.start();
    expect(init.version).toBe("1.1");
    const ack = await post(init);
    expect(ack.version).toBe("1.1");
    expect(ack.payload).not.toHaveProperty("capabilities");
    expect(ack.payload).not.toHaveProperty("limits");
    const established = await post(initiator.onInitAck(ack));
    const result = initiator.onEstablished(established);
    expect(result.version).toBe("1.1");
    const session = new Session(result, { now: Date.now, dedupeMemory: 64 });
    const ready = (await post(session.seal("SESSION_CONFIRM", { handshake_hash: toBase64Url(result.keys.handshakeHash) }))) as RecordEnvelope;
    expect(ready.type).toBe("READY");
    expect(ready.version).toBe("1.1");
    session.open(ready, "window");
  });
});

describe("resume outcomes", () => {
  async function sessionOn(s: PeerServer, entityId: string) {
    const peer = await RawPeer.open(s.wsUrl);
    closers.push(() => peer.close());
    const session = await peer.handshake(entityId);
    return { peer, session };
  }

  async function resumeWith(s: PeerServer, sessionId: string, rs: Buffer, entityId: string) {
    const peer = await RawPeer.open(`${s.wsUrl}?session_id=${sessionId}`);
    closers.push(() => peer.close());
    const flow = startResume(rs, { sessionId, entityId, peerId: s.serverId, lastRxSeq: -1, now: Date.now() });
    peer.sendRaw(flow.resume);
    return { peer, flow, answer: await peer.next() };
  }

  test("READY with a valid binder; the old connection is closed with 1000 (PP-SES-002, PP-SES-014)", async () => {
    const s = await server();
    const { peer, session } = await sessionOn(s, "dora");
    const { answer, flow } = await resumeWith(s, session.id, session.resumptionSecret, "dora");
    expect((answer.payload as { status: string }).status).toBe("READY");
    expect(() => flow.finish(answer as unknown as Envelope)).not.toThrow();
    expect(await peer.closed()).toBe(1000);
  });

  test("ERROR with AUTHENTICATION_FAILED for a forged binder, and the session stays resumable (PP-SES-003, PP-SES-017)", async () => {
    const s = await server();
    const { session } = await sessionOn(s, "erin");
    const forged = await resumeWith(s, session.id, randomBytes(32), "erin");
    expect(forged.answer.payload).toMatchObject({ status: "ERROR", error: { code: "AUTHENTICATION_FAILED" } });
    const genuine = await resumeWith(s, session.id, session.resumptionSecret, "erin");
    expect((genuine.answer.payload as { status: string }).status).toBe("READY");
  });

  test("NOT_FOUND for an unknown session, then a new handshake on the same connection (PP-SES-004)", async () => {
    const s = await server();
    const { peer, answer } = await resumeWith(s, "sess_AAAAAAAAAAAAAAAAAAAAAA", randomBytes(32), "fred");
    expect((answer.payload as { status: string }).status).toBe("NOT_FOUND");
    await expect(peer.handshake("fred")).resolves.toBeDefined();
  });

  test("EXPIRED after the resume window (PP-SES-005)", async () => {
    const s = await server({ limits: { resume_window_ms: 50 } });
    const { peer, session } = await sessionOn(s, "gina");
    peer.ws.terminate();
    await new Promise((resolve) => setTimeout(resolve, 150));
    const { answer } = await resumeWith(s, session.id, session.resumptionSecret, "gina");
    expect(["EXPIRED", "NOT_FOUND"]).toContain((answer.payload as { status: string }).status);
  });

  test("a forged binder's answer leaves the connection open: a new handshake runs on it (PP-SES-019)", async () => {
    const s = await server();
    const { session } = await sessionOn(s, "ivan");
    const forged = await resumeWith(s, session.id, randomBytes(32), "ivan");
    expect(forged.answer).toMatchObject({ type: "SESSION_RESUME_ACK", payload: { status: "ERROR", error: { code: "AUTHENTICATION_FAILED" } } });
    await expect(forged.peer.handshake("ivy")).resolves.toBeDefined();
    expect(forged.peer.closeCode).toBeUndefined();
  });

  test("a resume sent again unchanged after it succeeded: SESSION_RESUME_ACK ERROR REPLAY_DETECTED, the nonce checked before the stale binder (PP-RPL-009, PP-RPL-010)", async () => {
    const s = await server();
    const { session } = await sessionOn(s, "jack");
    const first = await resumeWith(s, session.id, session.resumptionSecret, "jack");
    expect((first.answer.payload as { status: string }).status).toBe("READY");
    const again = await RawPeer.open(`${s.wsUrl}?session_id=${session.id}`);
    closers.push(() => again.close());
    again.sendRaw(first.flow.resume);
    expect(await again.next()).toMatchObject({ type: "SESSION_RESUME_ACK", payload: { status: "ERROR", error: { code: "REPLAY_DETECTED" } } });
    expect(first.peer.closeCode).toBeUndefined(); // the resumed session keeps its connection
  });

  test("a first message other than SESSION_RESUME on a connection with session_id, a HANDSHAKE_INIT too, is INVALID_STATE and closes with 4409 (PP-TRN-023)", async () => {
    const s = await server();
    const { session } = await sessionOn(s, "lena");
    const peer = await RawPeer.open(`${s.wsUrl}?session_id=${session.id}`);
    closers.push(() => peer.close());
    const initiator = new InitiatorHandshake({ identity: ed25519FromSeed(randomBytes(32)), entityId: "lena", versions: ["1.2"], capabilities: ["websocket"], now: Date.now });
    peer.sendRaw(initiator.start());
    expect((await peer.next()).payload).toMatchObject({ code: "INVALID_STATE" });
    expect(await peer.closed()).toBe(4409);
  });

  test("a resumption secret works once (PP-SES-007)", async () => {
    const s = await server();
    const { session } = await sessionOn(s, "hank");
    const first = await resumeWith(s, session.id, session.resumptionSecret, "hank");
    expect((first.answer.payload as { status: string }).status).toBe("READY");
    const second = await resumeWith(s, session.id, session.resumptionSecret, "hank");
    expect(second.answer.payload).toMatchObject({ status: "ERROR", error: { code: "AUTHENTICATION_FAILED" } });
  });
});

describe("an ERROR as the first message (PP-ERR-010)", () => {
  test("closes /ws/v1/peers, a resume connection and /ws/v1/events with 4409 without answering", async () => {
    const s = await server();
    const base = s.url.replace("http", "ws");
    for (const path of ["/ws/v1/peers", "/ws/v1/peers?session_id=sess_AAAAAAAAAAAAAAAAAAAAAA", "/ws/v1/events"]) {
      const p = await RawPeer.open(base + path);
      closers.push(() => p.close());
      p.sendRaw({ message_id: "err-first-0001", type: "ERROR", version: "1.2", timestamp: Date.now(), sender_id: "talker", nonce: toBase64Url(randomBytes(32)), payload: { code: "INVALID_MESSAGE", message: "an ERROR first", retryable: false } });
      expect(await p.closed(), path).toBe(4409);
      expect(p.history, path).toEqual([]);
    }
  });

  test("a malformed ERROR is still INVALID_MESSAGE, and the connection stays open (PP-ENV-007)", async () => {
    const s = await server();
    const p = await RawPeer.open(s.wsUrl);
    closers.push(() => p.close());
    p.sendRaw({ message_id: "err-first-0002", type: "ERROR", version: "1.2", timestamp: Date.now(), sender_id: "talker", nonce: toBase64Url(randomBytes(32)), payload: { code: "NOT_A_CODE" } });
    expect((await p.next()).payload).toMatchObject({ code: "INVALID_MESSAGE" });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(p.closeCode).toBeUndefined();
  });
});

describe("CAPABILITY_EXCHANGE (PP-CAP-003, PP-CAP-009)", () => {
  test("another set of capabilities than the selected one is INVALID_MESSAGE without a reply; the selected set, in any order, is answered", async () => {
    const s = await server();
    const p = await RawPeer.open(s.wsUrl);
    closers.push(() => p.close());
    const session = await p.handshake("kim");
    const selected = session.capabilities;
    expect(selected.length).toBeGreaterThan(1);
    const limits = { ...s.limits };
    for (const capabilities of [[...selected, "aes-256-gcm"], selected.slice(1)]) {
      const sent = p.sendRecord("CAPABILITY_EXCHANGE", { capabilities, limits });
      const error = await p.nextOfType("ERROR");
      expect(error.payload, JSON.stringify(capabilities)).toMatchObject({ code: "INVALID_MESSAGE", related_message_id: sent.message_id });
    }
    p.sendRecord("CAPABILITY_EXCHANGE", { capabilities: [...selected].reverse(), limits });
    const reply = await p.nextOfType("CAPABILITY_EXCHANGE");
    expect(reply.payload).toMatchObject({ capabilities: selected, reply: true });
    expect(p.history.filter((f) => f.type === "CAPABILITY_EXCHANGE")).toHaveLength(1);
    expect(p.closeCode).toBeUndefined();
  });
});

describe("operation", () => {
  test("shuts down gracefully: BYE to every session, then close 1001 (PP-SES-016)", async () => {
    const s = await PeerServer.start({ logLevel: "silent" });
    const peer = await RawPeer.open(s.wsUrl);
    await peer.handshake("ivan");
    await s.close();
    expect((await peer.nextOfType("BYE")).payload).toEqual({ reason: "server shutting down" });
    expect(await peer.closed()).toBe(1001);
  });

  test("exposes Prometheus metrics for connections, sessions, handshakes and errors", async () => {
    const s = await server();
    const client = await PeerClient.connect({ url: s.url, entityId: "judy" });
    closers.push(() => client.close());
    const raw = await RawPeer.open(s.wsUrl);
    closers.push(() => raw.close());
    raw.sendRaw("not json");
    await raw.next();
    const text = await (await fetch(`${s.url}/metrics`)).text();
    expect(text).toMatch(/pp_connections_total\{endpoint="peers"\} 2/);
    expect(text).toMatch(/pp_handshakes_total\{transport="websocket",result="ok"\} 1/);
    expect(text).toMatch(/pp_errors_total\{code="INVALID_MESSAGE"\} 1/);
    expect(text).toMatch(/pp_sessions 1/);
  });

  test("logs never contain the token, keys or session secrets (PP-AUTH-008)", async () => {
    const lines: string[] = [];
    const s = await server({ logger: createLogger("trace", { write: (line: string) => lines.push(line) }) });
    const seed = randomBytes(32);
    const token = await issueToken(s, "kim", seed);
    const client = await PeerClient.connect({ url: s.url, entityId: "kim", identitySeed: seed, token });
    closers.push(() => client.close());
    client.dropConnection();
    await new Promise<void>((resolve) => client.once("resumed", () => resolve()));
    const log = lines.join("");
    expect(log).toContain("session established");
    expect(log).toContain("session resumed");
    for (const secret of [token, toBase64Url(seed), toBase64Url(client.identity.publicKey)]) expect(log).not.toContain(secret);
  });
});
