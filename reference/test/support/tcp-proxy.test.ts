/**
 * The partition proxy between one node and a real Redis: it forwards, `cut()` makes the node's
 * commands fail (reset at once, or silence until the client's own timeout), `heal()` lets the same
 * client work again, and Redis kept its data throughout.
 */
import { connect } from "node:net";
import { Redis, type RedisOptions } from "ioredis";
import { afterEach, beforeEach, expect, it } from "vitest";
import { describeWithRedis, redisForSuite, startRedisServer, type RedisServer } from "./redis-server.ts";
import { startTcpProxy, type TcpProxy } from "./tcp-proxy.ts";

/** What a raw connection through the proxy sees after sending PING: the reply, or how it ended. */
function rawPing(port: number, waitMs: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port }, () => socket.write("PING\r\n"));
    let outcome: string | undefined;
    const finish = (result: string) => {
      if (outcome !== undefined) return;
      outcome = result;
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => finish("silence"), waitMs);
    socket.on("data", (chunk: Buffer) => finish(chunk.toString("latin1")));
    socket.on("error", (error: NodeJS.ErrnoException) => finish(error.code ?? error.message));
    socket.on("close", () => finish("closed"));
  });
}

function until(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve) => {
    const check = () => {
      if (condition()) resolve(true);
      else if (Date.now() >= deadline) resolve(false);
      else setTimeout(check, 20);
    };
    check();
  });
}

describeWithRedis("a TCP proxy that partitions one node from Redis", () => {
  const sharedRedis = redisForSuite();
  let redis: RedisServer;
  const proxies: TcpProxy[] = [];
  const clients: Redis[] = [];
  beforeEach(() => {
    redis = sharedRedis();
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.disconnect();
    await Promise.all(proxies.splice(0).map((p) => p.close()));
    await redis.flush();
  });

  async function proxy(): Promise<TcpProxy> {
    const p = await startTcpProxy({ port: redis.port });
    proxies.push(p);
    return p;
  }

  /** A node's client: it reconnects by itself every 50 ms and fails commands at once while it is not connected. */
  async function nodeClient(url: string, options: RedisOptions = {}): Promise<Redis> {
    const c = new Redis(url, { retryStrategy: () => 50, maxRetriesPerRequest: 0, enableOfflineQueue: false, lazyConnect: true, ...options });
    c.on("error", () => {});
    clients.push(c);
    await c.connect();
    return c;
  }

  it("forwards commands to Redis", async () => {
    const p = await proxy();
    expect(p.url).toBe(`redis://127.0.0.1:${p.port}`);
    expect(p.port).not.toBe(redis.port);
    const c = await nodeClient(p.url);
    expect(await c.set("pp:ent:e1", "s1")).toBe("OK");
    const direct = await nodeClient(redis.url);
    expect(await direct.get("pp:ent:e1")).toBe("s1");
    expect(p.connections).toBe(1);
    expect(p.cutMode).toBeUndefined();
  });

  it("cut() fails the node's commands at once, other clients keep Redis, and heal() lets the same client work again", async () => {
    const p = await proxy();
    const node = await nodeClient(p.url);
    const other = await nodeClient(redis.url);
    expect(await node.set("pp:sess:1", "before")).toBe("OK");

    p.cut();
    expect(p.cutMode).toBe("reset");
    expect(p.connections).toBe(0);
    await expect(node.get("pp:sess:1")).rejects.toThrow();
    // Reconnect attempts are reset too: the client stays down while the cut lasts.
    await new Promise((r) => setTimeout(r, 300));
    expect(node.status).not.toBe("ready");
    await expect(node.get("pp:sess:1")).rejects.toThrow();
    expect(await rawPing(p.port, 1_000)).toMatch(/^(ECONNRESET|closed)$/);
    // Redis itself is fine: only this node is cut off.
    expect(await other.set("pp:sess:2", "during")).toBe("OK");

    p.heal();
    expect(p.cutMode).toBeUndefined();
    expect(await until(() => node.status === "ready", 5_000)).toBe(true);
    expect(await node.get("pp:sess:1")).toBe("before");
    expect(await node.get("pp:sess:2")).toBe("during");
  });

  it("cut('blackhole') leaves connections open but silent, so only the client's own timeout fails a command", async () => {
    const p = await proxy();
    const node = await nodeClient(p.url, { commandTimeout: 300 });
    expect(await node.set("pp:sess:1", "before")).toBe("OK");

    p.cut("blackhole");
    expect(p.cutMode).toBe("blackhole");
    await expect(node.get("pp:sess:1")).rejects.toThrow(/timed out/i);
    // Nothing was reset: the client still believes it is connected.
    expect(node.status).toBe("ready");
    expect(p.connections).toBe(1);
    expect(await rawPing(p.port, 300)).toBe("silence");

    p.heal();
    // The silenced connection is dropped; the client reconnects through the healed proxy.
    expect(await until(() => p.connections === 1 && node.status === "ready", 5_000)).toBe(true);
    expect(await node.get("pp:sess:1")).toBe("before");
  });

  it("passes Redis going away on to the node, and works again once Redis is back on its port", async () => {
    const durable = await startRedisServer({ appendOnly: true });
    try {
      const p = await startTcpProxy({ port: durable.port });
      proxies.push(p);
      const node = await nodeClient(p.url);
      expect(await node.set("pp:q:e1", "m1")).toBe("OK");
      await durable.kill();
      await expect(node.get("pp:q:e1")).rejects.toThrow();
      expect(await rawPing(p.port, 1_000)).toBe("closed");
      await durable.restart();
      expect(await until(() => node.status === "ready", 5_000)).toBe(true);
      expect(await node.get("pp:q:e1")).toBe("m1");
    } finally {
      await durable.stop();
    }
  });

  it("close() stops listening", async () => {
    const p = await startTcpProxy({ port: redis.port });
    const port = p.port;
    await p.close();
    expect(await rawPing(port, 1_000)).toBe("ECONNREFUSED");
  });
});
