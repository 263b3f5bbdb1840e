/**
 * Every row of the error registry (spec §17.2) provoked against the reference server, checked for
 * the ERROR code, `retryable`, whether the connection stays open, and the close code or HTTP status.
 */
import { afterEach, describe, expect, test } from "vitest";
import WebSocket from "ws";
import registries from "../../spec/registries.json" with { type: "json" };
import { toBase64Url } from "../src/encoding.ts";
import { ERROR_ROWS, type ErrorCode } from "../src/errors.ts";
import { PeerServer, type PeerServerOptions } from "../src/server/server.ts";
import { MemoryStore } from "../src/server/store.ts";
import { RawPeer, type Frame } from "./support/raw-peer.ts";

const servers: PeerServer[] = [];
const peers: RawPeer[] = [];
afterEach(async () => {
  peers.splice(0).forEach((p) => p.close());
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function server(options: PeerServerOptions = {}): Promise<PeerServer> {
  const s = await PeerServer.start({ logLevel: "silent", ...options });
  servers.push(s);
  return s;
}

async function peer(s: PeerServer, path = "/ws/v1/peers", options: WebSocket.ClientOptions = {}): Promise<RawPeer> {
  const p = await RawPeer.open(s.url.replace("http", "ws") + path, options);
  peers.push(p);
  return p;
}

type HttpErrorBody = { payload: { code: string; retryable: boolean } };
type Outcome = { frame: Frame; peer: RawPeer } | { httpStatus: number; body: HttpErrorBody };

async function errorFrame(p: RawPeer): Promise<Outcome> {
  return { frame: await p.nextOfType("ERROR"), peer: p };
}

/** One way to provoke each code. */
const provoke: Record<ErrorCode, () => Promise<Outcome>> = {
  async INVALID_MESSAGE() {
    const p = await peer(await server());
    p.sendRaw("not json");
    return errorFrame(p);
  },
  async VERSION_NOT_SUPPORTED() {
    // PP-VER-009: a v1.1 INIT on a WebSocket endpoint.
    const p = await peer(await server());
    p.sendRaw({ message_id: "m-v11-init-1", type: "HANDSHAKE_INIT", version: "1.1", timestamp: Date.now(), sender_id: "old-agent", nonce: toBase64Url(Buffer.alloc(32, 1)), payload: { ephemeral_key: toBase64Url(Buffer.alloc(32, 9)), identity_key: "O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik" } });
    return errorFrame(p);
  },
  async AUTHENTICATION_FAILED() {
    const p = await peer(await server());
    await p.handshake("mallory", { challengeResponse: (m) => ({ ...m, payload: { ...(m.payload as object), finished: toBase64Url(Buffer.alloc(32)) } }) }).catch(() => {});
    return { frame: p.history.find((f) => f.type === "ERROR") ?? (await p.nextOfType("ERROR")), peer: p };
  },
  async PERMISSION_DENIED() {
    const s = await server({ limits: { max_subscriptions: 1 } });
    const p = await peer(s, "/ws/v1/events");
    p.sendRaw({ message_id: "m-subscribe-1", type: "SUBSCRIBE", version: "1.2", timestamp: Date.now(), sender_id: "sub", nonce: toBase64Url(Buffer.alloc(16, 2)), payload: { channels: ["a", "b"] } });
    return errorFrame(p);
  },
  async SESSION_NOT_FOUND() {
    const s = await server();
    const response = await fetch(`${s.url}/peers/poll?session_id=sess_AAAAAAAAAAAAAAAAAAAAAA&after=-1`);
    return { httpStatus: response.status, body: (await response.json()) as HttpErrorBody };
  },
  async UNKNOWN_RECIPIENT() {
    const p = await peer(await server());
    await p.handshake("alice");
    p.sendRecord("PEER_MESSAGE", { content: "hi" }, { recipient_id: "nobody-at-all" });
    return errorFrame(p);
  },
  async HANDSHAKE_TIMEOUT() {
    const p = await peer(await server({ limits: { handshake_timeout_ms: 100 } }));
    return errorFrame(p);
  },
  async HEARTBEAT_TIMEOUT() {
    const s = await server({ limits: { ping_interval_ms: 100, pong_grace_ms: 100 } });
    const p = await peer(s, "/ws/v1/peers", { autoPong: false });
    await p.handshake("sleepy");
    return errorFrame(p);
  },
  async INVALID_STATE() {
    const p = await peer(await server());
    p.sendRaw({ message_id: "m-early-msg-1", type: "PEER_MESSAGE", version: "1.2", timestamp: Date.now(), seq: 0, session_id: "sess_AAAAAAAAAAAAAAAAAAAAAA", sender_id: "eager", recipient_id: "x", payload: toBase64Url(Buffer.alloc(40, 1)) });
    return errorFrame(p);
  },
  async REPLAY_DETECTED() {
    const p = await peer(await server());
    await p.handshake("alice");
    const record = p.sendRecord("PING", { ping_id: "p1" });
    p.sendRaw(record);
    return errorFrame(p);
  },
  async SESSION_EXPIRED() {
    const p = await peer(await server({ limits: { session_lifetime_ms: 150 } }));
    await p.handshake("alice");
    await new Promise((resolve) => setTimeout(resolve, 200));
    p.sendRecord("PING", { ping_id: "late" });
    return errorFrame(p);
  },
  async MESSAGE_TOO_LARGE() {
    const s = await server({ limits: { max_frame_bytes: 1000 } });
    const response = await fetch(`${s.url}/peers/message`, { method: "POST", body: "x".repeat(1001) });
    return { httpStatus: response.status, body: (await response.json()) as HttpErrorBody };
  },
  async CHUNK_ERROR() {
    const p = await peer(await server({ limits: { max_message_bytes: 1000 } }));
    await p.handshake("alice");
    p.sendRecord("CHUNKED_MESSAGE", { chunk_id: "chunked-0001", sequence_number: 0, is_last: false, total_size: 5000, digest: toBase64Url(Buffer.alloc(32)), inner_type: "PEER_MESSAGE", data: "AAAA" }, { recipient_id: "peer-server" });
    return errorFrame(p);
  },
  async RATE_LIMIT_EXCEEDED() {
    const s = await server({ limits: { rate_limit_per_minute: 2 } });
    const p = await peer(s);
    await p.handshake("chatty");
    for (let i = 0; i < 3; i++) p.sendRecord("PEER_MESSAGE", { content: i }, { recipient_id: s.serverId });
    return errorFrame(p);
  },
  async BUFFER_OVERFLOW() {
    const s = await server({ limits: { retransmit_buffer: 2 } });
    const bob = await peer(s);
    await bob.handshake("bob");
    bob.ws.terminate(); // bob's session stays resumable; his queue fills
    const alice = await peer(s);
    await alice.handshake("alice");
    for (let i = 0; i < 3; i++) alice.sendRecord("PEER_MESSAGE", { content: i }, { recipient_id: "bob" });
    return errorFrame(alice);
  },
  async INTERNAL_ERROR() {
    // A failing state store: the server reports INTERNAL_ERROR and stays up for others.
    const store = new MemoryStore();
    const s = await server({ store });
    const p = await peer(s);
    await p.handshake("alice");
    store.sessionOf = () => {
      throw new Error("store unavailable");
    };
    p.sendRecord("PEER_MESSAGE", { content: "x" }, { recipient_id: "bob" });
    return errorFrame(p);
  },
};

describe("error registry", () => {
  test("every code in the spec registry has a provocation here", () => {
    expect(Object.keys(provoke).sort()).toEqual(registries.errors.map((r) => r.code).sort());
  });

  test.each(registries.errors.map((r) => r.code as ErrorCode))("%s is sent as its registry row says (PP-ERR-001..005)", async (code) => {
    const row = ERROR_ROWS.get(code)!;
    const outcome = await provoke[code]();
    if ("httpStatus" in outcome) {
      expect(outcome.httpStatus).toBe(row.httpStatus);
      expect(outcome.body.payload).toMatchObject({ code, retryable: row.retryable });
      return;
    }
    expect(outcome.frame.payload).toMatchObject({ code, retryable: row.retryable });
    if (row.closes) {
      expect(await outcome.peer.closed()).toBe(row.closeCode);
    } else {
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(outcome.peer.closeCode).toBeUndefined();
      expect(outcome.peer.ws.readyState).toBe(WebSocket.OPEN);
    }
  });

  test("a frame of max_frame_bytes + 1 closes the WebSocket with MESSAGE_TOO_LARGE's close code 1009", async () => {
    const p = await peer(await server({ limits: { max_frame_bytes: 1000 } }));
    p.sendRaw("x".repeat(1001));
    expect(await p.closed()).toBe(ERROR_ROWS.get("MESSAGE_TOO_LARGE")!.closeCode);
  });
});
