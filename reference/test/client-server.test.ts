/** Client <-> server over real loopback sockets and over the in-memory transport pair. */
import { afterEach, describe, expect, test } from "vitest";
import WebSocket from "ws";
import { PeerClient, type PeerClientOptions, type ReceivedMessage } from "../src/client/peer-client.ts";
import { PeerServer, type PeerServerOptions } from "../src/server/server.ts";
import { createMemoryPair } from "../src/transport/memory-transport.ts";

const servers: PeerServer[] = [];
const clients: PeerClient[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function startServer(options: PeerServerOptions = {}): Promise<PeerServer> {
  const server = await PeerServer.start({ logLevel: "silent", ...options });
  servers.push(server);
  return server;
}

async function connect(server: PeerServer, entityId: string, options: Partial<PeerClientOptions> = {}): Promise<PeerClient> {
  const client = await PeerClient.connect({ url: server.url, entityId, reconnect: { initialDelayMs: 20, maxDelayMs: 200 }, ...options });
  clients.push(client);
  return client;
}

async function take(client: PeerClient, count: number): Promise<ReceivedMessage[]> {
  const received: ReceivedMessage[] = [];
  for await (const message of client.messages()) {
    received.push(message);
    if (received.length === count) break;
  }
  return received;
}

describe("over WebSocket", () => {
  test("routes a PEER_MESSAGE from one client to another (PP-DLV-006)", async () => {
    const server = await startServer();
    const alice = await connect(server, "alice");
    const bob = await connect(server, "bob");
    alice.send("bob", { hello: "bob" });
    const [message] = await take(bob, 1);
    expect(message).toMatchObject({ type: "PEER_MESSAGE", sender_id: "alice", payload: { content: { hello: "bob" } } });
  });

  test("answers the echo task with the request's params (PP-DLV-009)", async () => {
    const server = await startServer();
    const alice = await connect(server, "alice");
    await expect(alice.request(server.serverId, "echo", { n: [1, 2, 3] })).resolves.toEqual({ n: [1, 2, 3] });
  });

  test("chunks a message larger than max_chunk_bytes and delivers it whole (PP-CHK-001, PP-CHK-013)", async () => {
    const server = await startServer({ limits: { max_chunk_bytes: 1024 } });
    const alice = await connect(server, "alice");
    const bob = await connect(server, "bob");
    const big = "x".repeat(50_000);
    alice.send("bob", big);
    const [message] = await take(bob, 1);
    expect(message?.payload).toEqual({ content: big });
  });

  test("resumes after a dropped connection without loss or duplicates (PP-SES-010)", async () => {
    const server = await startServer();
    const alice = await connect(server, "alice");
    const bob = await connect(server, "bob");
    for (let i = 0; i < 20; i++) alice.send("bob", i);
    bob.dropConnection();
    for (let i = 20; i < 40; i++) alice.send("bob", i);
    const received = await take(bob, 40);
    expect(received.map((m) => (m.payload as { content: number }).content)).toEqual([...Array(40).keys()]);
  });

  test("a client whose session's lifetime ends opens a new session and goes on, without reconnection enabled (PP-SES-012)", async () => {
    const server = await startServer({ limits: { session_lifetime_ms: 400 } });
    const alice = await connect(server, "alice", { reconnect: { enabled: false } });
    const first = alice.sessionId;
    await expect(alice.request(server.serverId, "echo", { n: 1 })).resolves.toEqual({ n: 1 });
    await new Promise((resolve) => setTimeout(resolve, 600));
    await expect(alice.request(server.serverId, "echo", { n: 2 })).resolves.toEqual({ n: 2 });
    expect(alice.sessionId).toBeDefined();
    expect(alice.sessionId).not.toBe(first);
  });

  test("an idle client sends PING records and the server answers PONG (PP-LIM-004, PP-DLV-010)", async () => {
    const server = await startServer({ limits: { ping_interval_ms: 60, pong_grace_ms: 200 } });
    await connect(server, "idle");
    await new Promise((resolve) => setTimeout(resolve, 300));
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(Number(/pp_messages_total\{direction="in",type="PING"\} (\d+)/.exec(metrics)?.[1] ?? 0)).toBeGreaterThanOrEqual(2);
    expect(Number(/pp_messages_total\{direction="out",type="PONG"\} (\d+)/.exec(metrics)?.[1] ?? 0)).toBeGreaterThanOrEqual(2);
  });

  test("a raw WebSocket client sending `not json` gets INVALID_MESSAGE and the connection stays open (PP-TRN-002)", async () => {
    const server = await startServer();
    const ws = new WebSocket(server.wsUrl);
    await new Promise((resolve) => ws.once("open", resolve));
    const frames: { type: string; payload: { code: string } }[] = [];
    ws.on("message", (data) => frames.push(JSON.parse(data.toString())));
    ws.send("not json");
    ws.send("still not json");
    await expect.poll(() => frames.length).toBe(2);
    expect(frames.map((f) => f.payload.code)).toEqual(["INVALID_MESSAGE", "INVALID_MESSAGE"]);
    expect(ws.readyState).toBe(WebSocket.OPEN);
    ws.close();
  });

  test("closes a frame of max_frame_bytes + 1 with 1009 (PP-LIM-001)", async () => {
    const server = await startServer();
    const ws = new WebSocket(server.wsUrl);
    await new Promise((resolve) => ws.once("open", resolve));
    const closed = new Promise<number>((resolve) => ws.once("close", (code) => resolve(code)));
    ws.send("x".repeat(1024 * 1024 + 1));
    expect(await closed).toBe(1009);
  });

  test("closes a silent connection at the handshake timeout with 4408 (PP-HS-011)", async () => {
    const server = await startServer({ limits: { handshake_timeout_ms: 200 } });
    const ws = new WebSocket(server.wsUrl);
    const frames: string[] = [];
    ws.on("message", (data) => frames.push(data.toString()));
    const code = await new Promise<number>((resolve) => ws.once("close", (c) => resolve(c)));
    expect(code).toBe(4408);
    expect(JSON.parse(frames[0] as string).payload.code).toBe("HANDSHAKE_TIMEOUT");
  });
});

describe("over the HTTP binding", () => {
  test("handshakes, sends and polls with HTTP_ONLY (PP-TRN-007)", async () => {
    const server = await startServer();
    const alice = await connect(server, "alice", { transport: "HTTP_ONLY" });
    const bob = await connect(server, "bob");
    expect(alice.transportInUse).toBe("http");
    alice.send("bob", "over http");
    bob.send("alice", "back over ws");
    const [toBob] = await take(bob, 1);
    const [toAlice] = await take(alice, 1);
    expect(toBob?.payload).toEqual({ content: "over http" });
    expect(toAlice?.payload).toEqual({ content: "back over ws" });
  });

  test("falls back to HTTP when the WebSocket upgrade is refused (PP-TRN-012)", async () => {
    const server = await startServer({ originAllowlist: ["https://allowed.example"] });
    const alice = await connect(server, "alice", {
      openTransport: async (kind) => {
        if (kind === "websocket") throw new Error("upgrade refused");
        const { HttpTransport } = await import("../src/client/http-transport.ts");
        return new HttpTransport(server.url, { pollIntervalMs: 20 });
      },
    });
    expect(alice.transportInUse).toBe("http");
    await expect(alice.request(server.serverId, "echo", "ok")).resolves.toBe("ok");
  });
});

describe("over the in-memory transport pair", () => {
  test("runs the handshake and the echo task with no sockets", async () => {
    const server = await startServer();
    const alice = await connect(server, "alice", {
      openTransport: async (_kind, resumeSessionId) => {
        const [clientEnd, serverEnd] = createMemoryPair();
        server.accept(serverEnd, resumeSessionId ? { resumeSessionId } : {});
        return clientEnd;
      },
    });
    await expect(alice.request(server.serverId, "echo", { in: "memory" })).resolves.toEqual({ in: "memory" });
  });

  test("disconnects a slow consumer whose send queue exceeds max_send_queue_bytes with 1013 (PP-LIM-007)", async () => {
    const server = await startServer({ limits: { max_send_queue_bytes: 4096 } });
    let serverEnd: { bufferedAmount: number } | undefined;
    const closes: number[] = [];
    const alice = await connect(server, "slow", {
      reconnect: { enabled: false },
      openTransport: async () => {
        const [clientEnd, end] = createMemoryPair();
        serverEnd = end as unknown as { bufferedAmount: number };
        clientEnd.onClose((code) => closes.push(code));
        server.accept(end);
        return clientEnd;
      },
    });
    // The consumer stops reading: its queue is over the bound when the server next sends.
    Object.defineProperty(serverEnd, "bufferedAmount", { get: () => 1_000_000 });
    void alice.request(server.serverId, "echo", "x").catch(() => {});
    await expect.poll(() => closes).toEqual([1013]);
  });
});
