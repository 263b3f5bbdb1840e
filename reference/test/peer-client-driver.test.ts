/**
 * `peer-client-driver` against the reference server in-process: each scenario of the contract
 * (spec §18) exits 0 and the server saw its traffic; a server other than the one named is refused
 * (exit 1); a bad environment exits 2 naming the variable.
 */
import { spawn } from "node:child_process";
import { createServer as createHttpServer, request as httpRequest, type Server as HttpServer } from "node:http";
import { createConnection, createServer as createTcpServer, type Server as TcpServer, type Socket } from "node:net";
import { afterEach, describe, expect, test } from "vitest";
import { main } from "../src/cli/peer-client-driver.ts";
import { ed25519FromSeed, randomBytes } from "../src/crypto.ts";
import { toBase64Url } from "../src/encoding.ts";
import type { PeerServer } from "../src/server/server.ts";
import { serversPerTest } from "./support/servers.ts";

const { server: startServer } = serversPerTest();
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

function envFor(server: PeerServer, scenario: string, extra: Record<string, string> = {}, url = server.wsUrl): Record<string, string> {
  return {
    PEER_URL: url,
    PEER_SCENARIO: scenario,
    PEER_ENTITY_ID: `driver-${scenario}`,
    PEER_PRIVATE_KEY: toBase64Url(randomBytes(32)),
    PEER_SERVER_ID: server.serverId,
    PEER_SERVER_KEY: server.identityKey,
    PEER_TIMEOUT_MS: "20000",
    ...extra,
  };
}

async function run(env: Record<string, string>, onLine: (line: string) => void = () => {}): Promise<{ code: number; lines: string[] }> {
  const lines: string[] = [];
  const code = await main(env, {
    stderr: (line) => {
      lines.push(line);
      onLine(line);
    },
  });
  return { code, lines };
}

/** pp_messages_total for one direction and type, from the server's /metrics. */
async function counted(server: PeerServer, direction: "in" | "out", type: string): Promise<number> {
  const metrics = await (await fetch(`${server.url}/metrics`)).text();
  return Number(new RegExp(`pp_messages_total\\{direction="${direction}",type="${type}"\\} (\\d+)`).exec(metrics)?.[1] ?? 0);
}

async function metric(server: PeerServer, pattern: RegExp): Promise<number> {
  const metrics = await (await fetch(`${server.url}/metrics`)).text();
  return Number(pattern.exec(metrics)?.[1] ?? 0);
}

/** Waits until the server counted a BYE: the driver's last record may still be on its way over HTTP. */
async function byeSeen(server: PeerServer): Promise<number> {
  for (let i = 0; i < 50 && (await counted(server, "in", "BYE")) === 0; i++) await new Promise((done) => setTimeout(done, 20));
  return counted(server, "in", "BYE");
}

/** A TCP proxy in front of the server whose connections the test can cut, as a network failure would. */
async function cuttableProxy(server: PeerServer): Promise<{ url: string; cut(): void }> {
  const target = new URL(server.url);
  const sockets = new Set<Socket>();
  const proxy: TcpServer = createTcpServer((inbound) => {
    const outbound = createConnection({ host: target.hostname, port: Number(target.port) });
    for (const socket of [inbound, outbound]) {
      sockets.add(socket);
      socket.on("error", () => {});
      socket.on("close", () => {
        sockets.delete(socket);
        inbound.destroy();
        outbound.destroy();
      });
    }
    inbound.pipe(outbound).pipe(inbound);
  });
  await new Promise<void>((done) => proxy.listen(0, "127.0.0.1", done));
  closers.push(() => new Promise((done) => {
    for (const socket of sockets) socket.destroy();
    proxy.close(() => done());
  }));
  const port = (proxy.address() as { port: number }).port;
  return { url: `ws://127.0.0.1:${port}/ws/v1/peers`, cut: () => sockets.forEach((socket) => socket.destroy()) };
}

/** An HTTP front that forwards requests to the server and refuses every WebSocket upgrade with 503. */
async function upgradeRefusingFront(server: PeerServer): Promise<{ url: string; refused: () => number }> {
  const target = new URL(server.url);
  let refused = 0;
  const front: HttpServer = createHttpServer((request, response) => {
    const forward = httpRequest({ host: target.hostname, port: target.port, path: request.url, method: request.method, headers: request.headers }, (answer) => {
      response.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(response);
    });
    forward.on("error", () => response.destroy());
    request.pipe(forward);
  });
  front.on("upgrade", (_request, socket: Socket) => {
    refused++;
    socket.end("HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\ncontent-length: 0\r\n\r\n");
  });
  await new Promise<void>((done) => front.listen(0, "127.0.0.1", done));
  closers.push(() => new Promise((done) => {
    front.closeAllConnections();
    front.close(() => done());
  }));
  const port = (front.address() as { port: number }).port;
  return { url: `ws://127.0.0.1:${port}/ws/v1/peers`, refused: () => refused };
}

describe("scenarios against the reference server", () => {
  test("echo: handshake, one TASK_REQUEST echo, its TASK_RESPONSE, BYE", async () => {
    const server = await startServer();
    const { code, lines } = await run(envFor(server, "echo"));
    expect(code, lines.join("\n")).toBe(0);
    expect(lines).toContainEqual(expect.stringMatching(/^connected transport=websocket /));
    expect(await counted(server, "in", "TASK_REQUEST")).toBe(1);
    expect(await counted(server, "out", "TASK_RESPONSE")).toBe(1);
    expect(await byeSeen(server)).toBe(1);
  });

  test("the client's identity is PEER_PRIVATE_KEY: the server binds its entity id to that key", async () => {
    const server = await startServer();
    const seed = randomBytes(32);
    const { code, lines } = await run(envFor(server, "echo", { PEER_PRIVATE_KEY: toBase64Url(seed) }));
    expect(code, lines.join("\n")).toBe(0);
    expect(server.service.store.boundKey("driver-echo")?.equals(ed25519FromSeed(seed).publicKey)).toBe(true);
    // The driver never prints the seed, in any encoding.
    for (const line of lines) {
      expect(line).not.toContain(toBase64Url(seed));
      expect(line).not.toContain(seed.toString("hex"));
    }
  });

  test("large: an echo larger than max_chunk_bytes goes out in chunks and comes back whole", async () => {
    const server = await startServer({ limits: { max_chunk_bytes: 4096 } });
    const { code, lines } = await run(envFor(server, "large", { PEER_PAYLOAD_BYTES: "20000" }));
    expect(code, lines.join("\n")).toBe(0);
    expect(await counted(server, "in", "CHUNKED_MESSAGE")).toBeGreaterThanOrEqual(5);
    expect(await counted(server, "out", "CHUNKED_MESSAGE")).toBeGreaterThanOrEqual(5);
  });

  test("heartbeat: stays connected for PEER_DURATION_MS, idle, with PING records (PP-LIM-004), then BYE", async () => {
    const server = await startServer({ limits: { ping_interval_ms: 100, pong_grace_ms: 200 } });
    const { code, lines } = await run(envFor(server, "heartbeat", { PEER_DURATION_MS: "700" }));
    expect(code, lines.join("\n")).toBe(0);
    // The reference server sends no PING records of its own; the runner's responder does, and watches the PONGs.
    expect(await counted(server, "in", "PING")).toBeGreaterThanOrEqual(2);
    expect(await counted(server, "out", "PONG")).toBeGreaterThanOrEqual(2);
    expect(await byeSeen(server)).toBe(1);
  });

  test("resume: every echo answered across a cut connection, the session resumed", async () => {
    const server = await startServer();
    const proxy = await cuttableProxy(server);
    let cut = false;
    const { code, lines } = await run(envFor(server, "resume", { PEER_MESSAGES: "6" }, proxy.url), (line) => {
      if (!cut && line.startsWith("response 3/6")) {
        cut = true;
        proxy.cut();
      }
    });
    expect(code, lines.join("\n")).toBe(0);
    expect(lines).toContainEqual(expect.stringMatching(/^resumed session=/));
    expect(lines.filter((line) => /^response \d\/6 status=ok$/.test(line))).toHaveLength(6);
    expect(await metric(server, /pp_resumes_total\{status="READY"\} (\d+)/)).toBe(1);
    expect(await counted(server, "out", "TASK_RESPONSE")).toBe(6);
  }, 20_000);

  test("http-only: the echo over the HTTP binding, no WebSocket", async () => {
    const server = await startServer();
    const { code, lines } = await run(envFor(server, "http-only"));
    expect(code, lines.join("\n")).toBe(0);
    expect(lines).toContainEqual(expect.stringMatching(/^connected transport=http /));
    expect(await metric(server, /pp_handshakes_total\{transport="http",result="ok"\} (\d+)/)).toBe(1);
    expect(await metric(server, /pp_connections_total\{endpoint="peers"\} (\d+)/)).toBe(0);
    expect(await byeSeen(server)).toBe(1);
  });

  test("websocket-first: the upgrade refused, the echo falls back to HTTP", async () => {
    const server = await startServer();
    const front = await upgradeRefusingFront(server);
    const { code, lines } = await run(envFor(server, "websocket-first", {}, front.url));
    expect(code, lines.join("\n")).toBe(0);
    expect(front.refused()).toBe(1);
    expect(lines).toContainEqual(expect.stringMatching(/^connected transport=http /));
    expect(await counted(server, "out", "TASK_RESPONSE")).toBe(1);
  });

  test("websocket-first with the upgrade accepted stays on the WebSocket", async () => {
    const server = await startServer();
    const { code, lines } = await run(envFor(server, "websocket-first"));
    expect(code, lines.join("\n")).toBe(0);
    expect(lines).toContainEqual(expect.stringMatching(/^connected transport=websocket /));
  });
});

describe("as a process, as --command starts it", () => {
  /** Runs the driver's module with node and tsx, as `peer-conformance client --command` would run a driver. */
  function spawnDriver(env: Record<string, string>): Promise<{ code: number | null; stderr: string; ms: number }> {
    const started = Date.now();
    const child = spawn(process.execPath, ["--import", "tsx", "reference/src/cli/peer-client-driver.ts"], { env: { PATH: process.env.PATH ?? "", ...env }, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    return new Promise((done) => child.on("close", (code) => done({ code, stderr, ms: Date.now() - started })));
  }

  test.each(["echo", "http-only"])("%s exits 0 and the process ends by itself", async (scenario) => {
    const server = await startServer();
    const { code, stderr } = await spawnDriver(envFor(server, scenario));
    expect(code, stderr).toBe(0);
    expect(stderr.trim().split("\n").at(-1)).toBe("done exit=0");
    expect(await byeSeen(server)).toBe(1);
  }, 20_000);

  test("a bad environment exits 2 with one line naming the variable", async () => {
    const { code, stderr } = await spawnDriver({ PEER_SCENARIO: "echo" });
    expect(code).toBe(2);
    expect(stderr).toBe("peer-client-driver: PEER_URL is not set (run peer-client-driver --help for the contract)\n");
  }, 20_000);
});

describe("refusing the server: exit 1", () => {
  test("a server identity key other than PEER_SERVER_KEY", async () => {
    const server = await startServer();
    const { code, lines } = await run(envFor(server, "echo", { PEER_SERVER_KEY: toBase64Url(ed25519FromSeed(randomBytes(32)).publicKey) }));
    expect(code).toBe(1);
    expect(lines).toContainEqual(expect.stringMatching(/^failed code=AUTHENTICATION_FAILED: responder identity key differs/));
    expect(await counted(server, "in", "TASK_REQUEST")).toBe(0);
  });

  test("a server id other than PEER_SERVER_ID", async () => {
    const server = await startServer();
    const { code, lines } = await run(envFor(server, "echo", { PEER_SERVER_ID: "someone-else" }));
    expect(code).toBe(1);
    expect(lines).toContainEqual(expect.stringMatching(/^failed code=AUTHENTICATION_FAILED: responder id .* differs/));
  });

  test("nothing listening", async () => {
    const server = await startServer();
    const url = server.wsUrl;
    await server.close();
    const { code, lines } = await run({ ...envFor(server, "echo", {}, url), PEER_SERVER_ID: "peer-server", PEER_SERVER_KEY: toBase64Url(Buffer.alloc(32, 1)) });
    expect(code).toBe(1);
    expect(lines.at(-1)).toBe("done exit=1");
  });
});

describe("bad environment: exit 2 naming the variable", () => {
  const base: Record<string, string> = {
    PEER_URL: "ws://127.0.0.1:9/ws/v1/peers",
    PEER_SCENARIO: "echo",
    PEER_ENTITY_ID: "driver",
    PEER_PRIVATE_KEY: toBase64Url(Buffer.alloc(32, 7)),
    PEER_SERVER_ID: "peer-server",
    PEER_SERVER_KEY: toBase64Url(Buffer.alloc(32, 9)),
  };
  const cases: [string, Record<string, string | undefined>, RegExp][] = [
    ["PEER_URL missing", { PEER_URL: undefined }, /PEER_URL is not set/],
    ["PEER_URL http", { PEER_URL: "http://127.0.0.1:9/ws/v1/peers" }, /PEER_URL expects a ws:\/\/ or wss:\/\/ URL/],
    ["PEER_URL other path", { PEER_URL: "ws://127.0.0.1:9/" }, /PEER_URL expects the URL of \/ws\/v1\/peers/],
    ["PEER_SCENARIO unknown", { PEER_SCENARIO: "dance" }, /PEER_SCENARIO expects one of echo, large/],
    ["PEER_ENTITY_ID missing", { PEER_ENTITY_ID: "" }, /PEER_ENTITY_ID is not set/],
    ["PEER_PRIVATE_KEY short", { PEER_PRIVATE_KEY: "abc" }, /PEER_PRIVATE_KEY expects 32 bytes in base64url/],
    ["PEER_SERVER_KEY missing", { PEER_SERVER_KEY: undefined }, /PEER_SERVER_KEY is not set/],
    ["PEER_SERVER_ID missing", { PEER_SERVER_ID: undefined }, /PEER_SERVER_ID is not set/],
    ["PEER_TRANSPORT unknown", { PEER_TRANSPORT: "carrier-pigeon" }, /PEER_TRANSPORT expects websocket-first or http-only/],
    ["PEER_TRANSPORT against the scenario", { PEER_SCENARIO: "http-only", PEER_TRANSPORT: "websocket-first" }, /PEER_TRANSPORT is "websocket-first" but PEER_SCENARIO http-only/],
    ["PEER_PAYLOAD_BYTES missing for large", { PEER_SCENARIO: "large" }, /PEER_PAYLOAD_BYTES is not set/],
    ["PEER_MESSAGES zero", { PEER_SCENARIO: "resume", PEER_MESSAGES: "0" }, /PEER_MESSAGES expects an integer from 1/],
    ["PEER_DURATION_MS missing for heartbeat", { PEER_SCENARIO: "heartbeat" }, /PEER_DURATION_MS is not set/],
  ];
  test.each(cases)("%s", async (_name, change, message) => {
    const { code, lines } = await run({ ...base, ...change } as Record<string, string>);
    expect(code).toBe(2);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(message);
    // A bad key is named, never printed.
    expect(lines[0]).not.toContain(base.PEER_PRIVATE_KEY);
  });
});
