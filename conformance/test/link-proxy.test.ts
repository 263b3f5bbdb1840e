/**
 * The runner's proxy: bytes pass unchanged, and a cut falls after exactly the bytes the schedule
 * says, in the direction it says, on both sides of the connection.
 */
import { createServer, connect, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { LinkProxy } from "../src/proxy/link-proxy.ts";

let sink: Server;
let port = 0;
/** What the target side received, per connection. */
const received: Buffer[][] = [];

beforeAll(async () => {
  sink = createServer((socket) => {
    const chunks: Buffer[] = [];
    received.push(chunks);
    socket.on("data", (d: Buffer) => {
      chunks.push(d);
      socket.write(d); // echo: the down direction carries what the up direction did
    });
    socket.on("error", () => undefined);
  });
  await new Promise<void>((resolve) => sink.listen(0, "127.0.0.1", resolve));
  port = (sink.address() as AddressInfo).port;
});

afterAll(() => new Promise<void>((resolve) => sink.close(() => resolve())));

function open(link: LinkProxy): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(link.port, "127.0.0.1", () => resolve(socket));
    socket.on("error", reject);
  });
}

/** Writes `total` bytes and collects what comes back until the connection ends. */
async function exchange(link: LinkProxy, total: number): Promise<{ echoed: number; closed: boolean }> {
  const socket = await open(link);
  let echoed = 0;
  socket.on("data", (d: Buffer) => (echoed += d.length));
  const closed = new Promise<boolean>((resolve) => {
    socket.on("close", () => resolve(true));
    socket.on("error", () => undefined);
  });
  socket.write(Buffer.alloc(total, 7));
  const result = await Promise.race([closed, new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 300))]);
  socket.destroy();
  return { echoed, closed: result };
}

describe("LinkProxy", () => {
  test("forwards every byte unchanged in both directions while calm", async () => {
    const link = await LinkProxy.open({ host: "127.0.0.1", port }, "A");
    const before = received.length;
    const { echoed, closed } = await exchange(link, 100_000);
    expect(closed).toBe(false);
    expect(echoed).toBe(100_000);
    expect(Buffer.concat(received[before] ?? []).length).toBe(100_000);
    await link.close();
  });

  test("a cut after N bytes up lets exactly N bytes reach the target, then resets both sides", async () => {
    const link = await LinkProxy.open({ host: "127.0.0.1", port }, "A");
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 60_000 }), fc.integer({ min: 1, max: 20_000 }), async (n, extra) => {
        const before = received.length;
        const cut = link.armCut("up", n);
        const { closed } = await exchange(link, n + extra);
        await cut;
        expect(closed).toBe(true);
        expect(Buffer.concat(received[before] ?? []).length).toBe(n);
      }),
      { numRuns: 15 },
    );
    expect(link.stats.cuts).toBe(15);
    await link.close();
  });

  test("a cut after N bytes down delivers exactly N bytes to the probe", async () => {
    const link = await LinkProxy.open({ host: "127.0.0.1", port }, "B");
    for (const n of [1, 1000, 65_536]) {
      const cut = link.armCut("down", n);
      const { echoed, closed } = await exchange(link, n + 5000);
      await cut;
      expect(closed).toBe(true);
      expect(echoed).toBe(n);
    }
    await link.close();
  });

  test("split and hold change the timing, never the bytes", async () => {
    const link = await LinkProxy.open({ host: "127.0.0.1", port }, "C");
    link.split("up", 700);
    link.hold("down", 100);
    const started = Date.now();
    const { echoed } = await exchange(link, 20_000);
    expect(echoed).toBe(20_000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    await link.close();
  });
});
