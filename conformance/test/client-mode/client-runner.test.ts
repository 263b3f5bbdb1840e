/**
 * The client-mode runner's mechanics, against a real client command (a few lines of node) and a
 * plain `ws` listener: the scenario contract's environment reaches the driver, a case judges its
 * connection and its exit, and verdicts, timeouts and harness errors come out as in server mode.
 */
import type { AddressInfo } from "node:net";
import { describe, expect, test } from "vitest";
import { WebSocketServer } from "ws";
import { validateReport } from "../../../schemas/src/index.ts";
import { clientSuite, type ClientConnection } from "../../src/client-mode/client-case.ts";
import { runClientConformance, type ClientListener } from "../../src/client-mode/client-runner.ts";

/** A listener on a free loopback port that hands each WebSocket to the case as a bare transport. */
async function wsListener(): Promise<ClientListener> {
  const server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  const waiting: ClientConnection[] = [];
  const waiters: ((c: ClientConnection) => void)[] = [];
  server.on("connection", (socket, request) => {
    let onMessage: ((data: { kind: "text"; text: string }) => void) | null = null;
    const early: string[] = [];
    socket.on("message", (data) => (onMessage ? onMessage({ kind: "text", text: data.toString() }) : early.push(data.toString())));
    const connection: ClientConnection = {
      path: request.url ?? "/",
      transport: {
        send: (data) => socket.send(data),
        close: (code, reason) => socket.close(code, reason),
        onMessage(listener) {
          onMessage = listener as typeof onMessage;
          for (const text of early.splice(0)) listener({ kind: "text", text });
        },
        onClose: (listener) => void socket.on("close", (code, reason) => listener(code, reason.toString())),
        onPing: () => {},
        setReading: () => {},
        get isOpen() {
          return socket.readyState === socket.OPEN;
        },
      },
    };
    const waiter = waiters.shift();
    if (waiter) waiter(connection);
    else waiting.push(connection);
  });
  return {
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/ws/v1/peers`,
    nextConnection: (timeoutMs) =>
      waiting.length > 0
        ? Promise.resolve(waiting.shift()!)
        : new Promise((resolve) => {
            const timer = setTimeout(() => resolve(null), timeoutMs);
            waiters.push((c) => {
              clearTimeout(timer);
              resolve(c);
            });
          }),
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of server.clients) client.terminate();
        server.close(() => resolve());
      }),
  };
}

// A driver: connects to PEER_URL, sends its scenario and entity id, exits with what the server answers.
const DRIVER = `node --input-type=module -e '
import WebSocket from "ws";
if (!process.env.PEER_URL) { console.error("PEER_URL is not set"); process.exit(2); }
const ws = new WebSocket(process.env.PEER_URL);
ws.on("open", () => ws.send(JSON.stringify({ scenario: process.env.PEER_SCENARIO, entity: process.env.PEER_ENTITY_ID, key: process.env.PEER_SERVER_KEY })));
ws.on("message", (data) => { console.error("answer " + data); process.exit(Number(String(data))); });
'`;

const firstMessage = (connection: ClientConnection) => new Promise<string>((resolve) => connection.transport.onMessage((data) => resolve(data.kind === "text" ? data.text : "")));

const cases = clientSuite("fake", "99. Fake", [
  {
    id: "completes",
    title: "a client that completes its scenario",
    requirements: ["PP-HS-002"],
    level: "MUST",
    scenario: "echo",
    async run(ctx) {
      const connection = await ctx.accept();
      const said = JSON.parse(await firstMessage(connection)) as Record<string, string>;
      ctx.check(said.scenario === "echo" && said.entity === ctx.clientIdentity.entityId && said.key === Buffer.from(ctx.serverIdentity.publicKey).toString("base64url"), "the contract's environment", JSON.stringify(said));
      connection.transport.send("0");
      const exit = await ctx.exit();
      ctx.check(exit.code === 0, "exit 0", `exit ${exit.code}`);
    },
  },
  {
    id: "refused",
    title: "a client that should have refused the server",
    requirements: ["PP-HS-004"],
    level: "MUST",
    scenario: "echo",
    async run(ctx) {
      const connection = await ctx.accept();
      await firstMessage(connection);
      connection.transport.send("0");
      const exit = await ctx.exit();
      ctx.check(exit.code === 1, "the client refuses the server (exit 1)", `exit ${exit.code}`);
    },
  },
  {
    id: "never-connects",
    title: "a client that is asked for a second connection it never opens",
    requirements: ["PP-SES-001"],
    level: "MUST",
    scenario: "resume",
    async run(ctx) {
      const connection = await ctx.accept();
      await firstMessage(connection);
      connection.transport.send("0");
      await ctx.accept(2000);
    },
  },
  {
    id: "harness-bug",
    title: "a case that throws",
    requirements: ["PP-HS-002"],
    level: "MUST",
    scenario: "echo",
    async run() {
      throw new TypeError("boom");
    },
  },
]);

describe("runClientConformance", () => {
  test("runs each case with a fresh server and client, and reports pass, fail and harness errors as server mode does", async () => {
    const report = await runClientConformance({ command: DRIVER, cases, startListener: () => wsListener(), seed: 7, stepTimeoutMs: 5000 });
    expect(Object.fromEntries(report.cases.map((c) => [c.id, c.verdict]))).toEqual({ "client.fake.completes": "pass", "client.fake.refused": "fail", "client.fake.never-connects": "fail", "client.fake.harness-bug": "error" });
    const refused = report.cases.find((c) => c.id === "client.fake.refused")!;
    // The driver's exit and the end of its stderr go with every failure: what the client said about it.
    expect(refused).toMatchObject({ expected: ["the client refuses the server (exit 1)"], actual: expect.stringMatching(/^exit 0; the client exited with 0 after \d+ ms \(stderr: answer 0\)$/) });
    expect(report.cases.find((c) => c.id === "client.fake.never-connects")!.actual).toMatch(/^the client exited with 0 after \d+ ms \(stderr: answer 0\)$/);
    expect(report.cases.find((c) => c.id === "client.fake.harness-bug")!.message).toMatch(/^the harness raised TypeError: boom/);
    expect(report.summary).toMatchObject({ passed: 1, failed: 2, errors: 1, total: 4 });
    expect(validateReport(report)).toEqual({ ok: true });
  }, 60_000);

  test("a driver that cannot run (exit 2, never connects) fails the case with its stderr", async () => {
    const report = await runClientConformance({ command: "echo 'PEER_PRIVATE_KEY is not a key' >&2; exit 2", cases, only: ["client.fake.completes"], startListener: () => wsListener(), seed: 7 });
    expect(report.cases[0]).toMatchObject({ verdict: "fail", actual: expect.stringMatching(/^the client exited with 2 after \d+ ms \(stderr: PEER_PRIVATE_KEY is not a key\)$/) });
  }, 30_000);
});
