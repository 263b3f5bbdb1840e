/** The HTTP binding (spec §4.3): tokens on every session route, no change on a request that fails, a bounded outbox, swept like a WebSocket session. */
import { describe, expect, test } from "vitest";
import { ed25519FromSeed, ed25519Sign, randomBytes } from "../src/crypto.ts";
import { toBase64Url } from "../src/encoding.ts";
import type { Envelope } from "../src/envelope.ts";
import { InitiatorHandshake } from "../src/handshake/initiator.ts";
import { signatureInput } from "../src/key-schedule.ts";
import type { RecordEnvelope } from "../src/record.ts";
import { startResume } from "../src/session/resume-initiator.ts";
import { Session } from "../src/session/session.ts";
import type { PeerServer } from "../src/server/server.ts";
import { RawPeer } from "./support/raw-peer.ts";
import { serversPerTest } from "./support/servers.ts";

const { server, peers } = serversPerTest();

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function issueToken(s: PeerServer, entityId: string, seed: Buffer): Promise<string> {
  const identity = ed25519FromSeed(seed);
  const publicKey = toBase64Url(identity.publicKey);
  const { challenge } = (await (await fetch(`${s.url}/auth/token?entity_id=${entityId}&public_key=${publicKey}`)).json()) as { challenge: string };
  const signature = toBase64Url(ed25519Sign(identity, signatureInput("token challenge", Buffer.from(challenge, "base64url"))));
  const response = await fetch(`${s.url}/auth/verify`, { method: "POST", body: JSON.stringify({ entity_id: entityId, public_key: publicKey, challenge, signature }) });
  return ((await response.json()) as { token: string }).token;
}

interface Answer {
  status: number;
  body: { ack?: number; records?: RecordEnvelope[]; type?: string; payload?: { code?: string } };
}

/** A v1.2 session over POST /peers/handshake, as `entityId`, with `token` on every request. */
async function httpSession(s: PeerServer, entityId: string, options: { seed?: Buffer; token?: string } = {}) {
  const headers: Record<string, string> = options.token ? { authorization: `Bearer ${options.token}` } : {};
  const request = async (method: string, path: string, body?: unknown, token: string | null | undefined = options.token): Promise<Answer> => {
    const response = await fetch(`${s.url}${path}`, { method, headers: token ? { authorization: `Bearer ${token}` } : {}, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    return { status: response.status, body: (await response.json()) as Answer["body"] };
  };
  const post = async (body: object) => (await fetch(`${s.url}/peers/handshake`, { method: "POST", headers, body: JSON.stringify(body) })).json() as Promise<Envelope>;
  const initiator = new InitiatorHandshake({ identity: ed25519FromSeed(options.seed ?? randomBytes(32)), entityId, versions: ["1.2"], capabilities: ["http", "resume"], now: Date.now });
  const established = await post(initiator.onInitAck(await post(initiator.start())));
  const result = initiator.onEstablished(established);
  const session = new Session(result, { now: Date.now, dedupeMemory: 64 });
  const ready = (await post(session.seal("SESSION_CONFIRM", { handshake_hash: toBase64Url(result.keys.handshakeHash) }, { recipient_id: result.peerId }))) as RecordEnvelope;
  expect(ready.type).toBe("READY");
  session.open(ready, "window");
  return {
    session,
    message: (record: RecordEnvelope, token?: string | null) => request("POST", "/peers/message", record, token),
    poll: (after = -1, token?: string | null) => request("GET", `/peers/poll?session_id=${session.id}&after=${after}`, undefined, token),
  };
}

/** A record of `sessionId` that has the envelope's shape but does not decrypt. */
function forgedRecord(sessionId: string, senderId: string, seq: number): object {
  return { message_id: `m-forged-${seq}`, type: "PING", version: "1.2", timestamp: Date.now(), seq, session_id: sessionId, sender_id: senderId, payload: toBase64Url(randomBytes(48)) };
}

describe("tokens on the session routes", () => {
  test("with --require-token, POST /peers/message and GET /peers/poll need a token whose subject is the session's peer (PP-AUTH-006)", async () => {
    const s = await server({ requireToken: true });
    const seed = randomBytes(32);
    const token = await issueToken(s, "alice", seed);
    const mallory = await issueToken(s, "mallory", randomBytes(32));
    const alice = await httpSession(s, "alice", { seed, token });
    for (const presented of [null, "not.a.token", mallory]) {
      const posted = await alice.message(alice.session.seal("PING", { ping_id: "p" }), presented);
      expect(posted.status, `POST with ${String(presented)}`).toBe(401);
      expect(posted.body.payload?.code).toBe("AUTHENTICATION_FAILED");
      const polled = await alice.poll(-1, presented);
      expect(polled.status, `poll with ${String(presented)}`).toBe(401);
      expect(polled.body.payload?.code).toBe("AUTHENTICATION_FAILED");
    }
    // The token is checked before the body is read: a body that is not JSON is still a 401.
    const garbage = await fetch(`${s.url}/peers/message`, { method: "POST", body: "not json" });
    expect(garbage.status).toBe(401);
    // The neighbour: the session's own token.
    const ping = alice.session.seal("PING", { ping_id: "q" });
    expect((await alice.message(ping)).body).toEqual({ ack: ping.seq });
    const polled = await alice.poll();
    expect(polled.status).toBe(200);
    expect(polled.body.records?.map((r) => r.type)).toContain("PONG");
  });
});

describe("a request that fails changes nothing", () => {
  test("a record that does not open, POSTed for a WebSocket session, leaves the WebSocket connected and the session on it (PP-TRN-019, PP-SES-014, PP-SES-017)", async () => {
    const s = await server();
    const peer = await RawPeer.open(s.wsUrl);
    peers.push(peer);
    const session = await peer.handshake("victim");
    const response = await fetch(`${s.url}/peers/message`, { method: "POST", body: JSON.stringify(forgedRecord(session.id, "victim", 5)) });
    expect(response.status).not.toBe(200);
    await expect(peer.closed(300)).rejects.toThrow();
    peer.sendRecord("PING", { ping_id: "still-here" });
    expect((await peer.nextOfType("PONG")).type).toBe("PONG");
    // Nothing was attached for HTTP: the session has no outbox to poll.
    expect((await fetch(`${s.url}/peers/poll?session_id=${session.id}&after=-1`)).status).toBe(404);
  });
});

describe("the outbox and the life of an HTTP session", () => {
  test("an outbox over max_send_queue_bytes is closed with BUFFER_OVERFLOW, and the session stays resumable (PP-LIM-007, PP-SES-011)", async () => {
    const s = await server({ limits: { max_send_queue_bytes: 4096 } });
    const alice = await httpSession(s, "alice");
    const first = alice.session.seal("PING", { ping_id: "p" });
    expect((await alice.message(first)).body).toEqual({ ack: first.seq });
    expect((await alice.poll()).status).toBe(200);
    // Never acknowledged, 40 PONGs of about 300 bytes go over 4096.
    for (let i = 0; i < 40; i++) await alice.message(alice.session.seal("PING", { ping_id: `p${i}` }));
    const polled = await alice.poll();
    expect(polled.status).toBe(503);
    expect(polled.body.payload?.code).toBe("BUFFER_OVERFLOW");
    // Closed like a WebSocket over its queue: the session is disconnected and can be resumed (option A).
    const peer = await RawPeer.open(`${s.wsUrl}?session_id=${alice.session.id}`);
    peers.push(peer);
    peer.sendRaw(startResume(alice.session.resumptionSecret, { sessionId: alice.session.id, entityId: "alice", peerId: s.serverId, lastRxSeq: -1, now: Date.now() }).resume);
    expect(((await peer.next()).payload as { status: string }).status).toBe("READY");
  });

  test("an HTTP session not polled for resume_window_ms is forgotten (PP-SES-011, PP-SES-005)", async () => {
    const s = await server({ limits: { resume_window_ms: 150 } });
    const alice = await httpSession(s, "alice");
    // Polled within the window, it stays.
    for (let i = 0; i < 4; i++) {
      await sleep(60);
      expect((await alice.poll()).status).toBe(200);
    }
    await sleep(400);
    const polled = await alice.poll();
    expect(polled.status).not.toBe(200);
    expect(["SESSION_EXPIRED", "SESSION_NOT_FOUND"]).toContain(polled.body.payload?.code);
    // Forgotten, not only refused: a resume of it is not READY.
    const peer = await RawPeer.open(`${s.wsUrl}?session_id=${alice.session.id}`);
    peers.push(peer);
    peer.sendRaw(startResume(alice.session.resumptionSecret, { sessionId: alice.session.id, entityId: "alice", peerId: s.serverId, lastRxSeq: -1, now: Date.now() }).resume);
    expect(["EXPIRED", "NOT_FOUND"]).toContain(((await peer.next()).payload as { status: string }).status);
  });

  test("an HTTP session polled throughout still ends with its lifetime (PP-SES-012)", async () => {
    const s = await server({ limits: { session_lifetime_ms: 200 } });
    const alice = await httpSession(s, "alice");
    expect((await alice.poll()).status).toBe(200);
    for (let i = 0; i < 6; i++) {
      await sleep(60);
      await alice.poll();
    }
    const polled = await alice.poll();
    expect(polled.status).not.toBe(200);
    expect(["SESSION_EXPIRED", "SESSION_NOT_FOUND"]).toContain(polled.body.payload?.code);
  });
});

describe("abandoned HTTP handshakes (PP-HS-011)", () => {
  const pending = async (s: PeerServer): Promise<number> => Number(/^pp_http_handshakes_pending (\d+)$/m.exec(await (await fetch(`${s.url}/metrics`)).text())?.[1]);

  test("are forgotten handshake_timeout_ms after they began, though no request follows", async () => {
    const s = await server({ limits: { handshake_timeout_ms: 300 } });
    const post = async (body: object) => (await fetch(`${s.url}/peers/handshake`, { method: "POST", body: JSON.stringify(body) })).json() as Promise<Envelope>;
    for (let i = 0; i < 3; i++) {
      const initiator = new InitiatorHandshake({ identity: ed25519FromSeed(randomBytes(32)), entityId: `quitter-${i}`, versions: ["1.2"], capabilities: ["http"], now: Date.now });
      const ack = await post(initiator.start());
      if (i === 2) await post(initiator.onInitAck(ack)); // one abandoned after step 4, the others after step 2
    }
    expect(await pending(s)).toBe(3);
    await sleep(300 + 400); // the timeout, then two sweep periods
    expect(await pending(s)).toBe(0);
  });
});
