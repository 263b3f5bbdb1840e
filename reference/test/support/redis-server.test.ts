/**
 * The test Redis harness against a real `redis-server`: it starts on a free loopback port in a
 * throw-away directory, keeps acknowledged writes across a SIGKILL only with the AOF, cleans up on
 * stop and when the test process exits, and fails with the cause (binary missing, port taken).
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect, createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { describeWithRedis, findRedisServer, REDIS_MISSING_MESSAGE, redisOrSkip, RedisServerError, startRedisServer, type RedisServer } from "./redis-server.ts";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "../../..");

const started: RedisServer[] = [];
const clients: Redis[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) client.disconnect();
  await Promise.all(started.splice(0).map((server) => server.stop()));
});

async function redis(options: Parameters<typeof startRedisServer>[0] = {}): Promise<RedisServer> {
  const server = await startRedisServer(options);
  started.push(server);
  return server;
}

/** A client that fails at once instead of retrying, so that "Redis is down" is an error the test can see. */
function client(url: string): Redis {
  const c = new Redis(url, { maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true });
  c.on("error", () => {});
  clients.push(c);
  return c;
}

async function get(url: string, key: string): Promise<string | null> {
  const c = client(url);
  await c.connect();
  return c.get(key);
}

/** The error code of a plain TCP connect to the port, or "connected". */
function connectError(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve("connected");
    });
    socket.once("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 25));
  }
  return true;
}

describeWithRedis("a real redis-server for the tests", () => {
  it("starts on a loopback port in a fresh temp directory and answers SET and GET", async () => {
    const server = await redis();
    expect(server.url).toBe(`redis://127.0.0.1:${server.port}`);
    expect(server.port).toBeGreaterThan(0);
    expect(server.dir.startsWith(tmpdir())).toBe(true);
    expect(existsSync(server.dir)).toBe(true);
    expect(server.running).toBe(true);
    expect(processAlive(server.pid!)).toBe(true);
    const c = client(server.url);
    await c.connect();
    expect(await c.set("pp:test", "value-1")).toBe("OK");
    expect(await c.get("pp:test")).toBe("value-1");
    const config = await c.config("GET", "dir");
    expect(config).toEqual(["dir", server.dir]);
    expect(await c.config("GET", "save")).toEqual(["save", ""]);
  });

  it("two servers get two ports and two directories", async () => {
    const [a, b] = await Promise.all([redis(), redis()]);
    expect(a.port).not.toBe(b.port);
    expect(a.dir).not.toBe(b.dir);
  });

  it("keeps an acknowledged write across SIGKILL and restart when the AOF is on", async () => {
    const server = await redis({ appendOnly: true });
    const c = client(server.url);
    await c.connect();
    expect(await c.set("pp:sess:1", "survives")).toBe("OK");
    const port = server.port;
    const dir = server.dir;
    const pid = server.pid!;

    await server.kill();
    expect(server.running).toBe(false);
    expect(server.pid).toBeUndefined();
    expect(processAlive(pid)).toBe(false);
    expect(await connectError(server.port)).toBe("ECONNREFUSED");
    expect(existsSync(dir)).toBe(true);

    await server.restart();
    expect(server.running).toBe(true);
    expect(server.port).toBe(port);
    expect(server.dir).toBe(dir);
    expect(await get(server.url, "pp:sess:1")).toBe("survives");
  });

  it("loses the data on SIGKILL and restart without the AOF (no RDB snapshots either)", async () => {
    const server = await redis();
    const c = client(server.url);
    await c.connect();
    expect(await c.set("pp:sess:1", "gone")).toBe("OK");
    await server.kill();
    await server.restart();
    expect(await get(server.url, "pp:sess:1")).toBeNull();
  });

  it("restart() of a running server stops it gracefully and comes back with the AOF's data", async () => {
    const server = await redis({ appendOnly: true, appendFsync: "everysec" });
    const c = client(server.url);
    await c.connect();
    expect(await c.rpush("pp:q:e1", "m1", "m2")).toBe(2);
    const before = server.pid!;
    await server.restart();
    expect(server.pid).not.toBe(before);
    expect(processAlive(before)).toBe(false);
    const again = client(server.url);
    await again.connect();
    expect(await again.lrange("pp:q:e1", 0, -1)).toEqual(["m1", "m2"]);
  });

  it("flush() empties the database", async () => {
    const server = await redis();
    const c = client(server.url);
    await c.connect();
    await c.set("a", "1");
    await c.set("b", "2");
    expect(await c.dbsize()).toBe(2);
    await server.flush();
    expect(await c.dbsize()).toBe(0);
  });

  it("stop() ends the child and removes the directory, and is idempotent", async () => {
    const server = await startRedisServer({ appendOnly: true });
    const pid = server.pid!;
    const dir = server.dir;
    await server.stop();
    expect(server.running).toBe(false);
    expect(processAlive(pid)).toBe(false);
    expect(await connectError(server.port)).toBe("ECONNREFUSED");
    expect(existsSync(dir)).toBe(false);
    await server.stop();
    await expect(server.restart()).rejects.toMatchObject({ code: "REDIS_STOPPED" });
  });

  it("fails with REDIS_PORT_TAKEN, naming the port, when the fixed port is in use", async () => {
    // Another process on the port: it accepts and never answers (read, so that close() sees the probe go).
    const holder: Server = createServer((socket) => socket.resume());
    await new Promise<void>((r) => holder.listen(0, "127.0.0.1", r));
    const port = (holder.address() as { port: number }).port;
    try {
      const error = await startRedisServer({ port }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(RedisServerError);
      expect((error as RedisServerError).code).toBe("REDIS_PORT_TAKEN");
      expect((error as Error).message).toContain(`127.0.0.1:${port}`);
      expect((error as Error).message).toMatch(/address already in use/i);
    } finally {
      await new Promise((r) => holder.close(r));
    }
  });

  it("fails with REDIS_START_TIMEOUT and kills the child when it never answers PING", async () => {
    const scratch = mkdtempSync(join(tmpdir(), "pp-silent-"));
    try {
      // Not a Redis: a process that starts and never listens, to reach the harness's timeout path.
      const silent = join(scratch, "silent-server");
      const pidFile = join(scratch, "pid");
      writeFileSync(silent, `#!/bin/sh\necho $$ > ${pidFile}\necho 'listening soon'\nexec sleep 60\n`, { mode: 0o755 });
      const error = await startRedisServer({ binary: silent, startTimeoutMs: 500 }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(RedisServerError);
      expect((error as RedisServerError).code).toBe("REDIS_START_TIMEOUT");
      expect((error as Error).message).toContain("within 0.5 s");
      expect((error as Error).message).toContain("listening soon");
      const pid = Number(readFileSync(pidFile, "utf8").trim());
      expect(pid).toBeGreaterThan(0);
      expect(await until(() => !processAlive(pid), 2_000)).toBe(true);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });

  // "exit": the process's exit handler cleans up. "SIGKILL": no handler runs (vitest ends its
  // workers with a signal); the watchdog sees the pipe from its parent close and cleans up.
  it.each(["exit", "SIGKILL"] as const)("kills its child and removes its directory when the test process ends by %s without stop()", async (ending) => {
    const script = `
      import { startRedisServer } from ${JSON.stringify(join(here, "redis-server.ts"))};
      const server = await startRedisServer({ appendOnly: true });
      console.log(JSON.stringify({ pid: server.pid, dir: server.dir }));
      if (process.argv.includes("exit")) process.exit(0);
      setInterval(() => {}, 1000);
    `;
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script, ending], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    const closed = new Promise<string>((r) => child.on("close", (code, signal) => r(signal ?? String(code))));
    await new Promise<void>((r) => {
      child.stdout.on("data", (chunk: Buffer) => {
        stdout += chunk.toString("utf8");
        if (stdout.includes("\n")) r();
      });
      child.on("close", () => r());
    });
    const { pid, dir } = JSON.parse(stdout.trim()) as { pid: number; dir: string };
    expect(pid, stderr).toBeGreaterThan(0);
    expect(existsSync(dir)).toBe(true);
    if (ending === "SIGKILL") child.kill("SIGKILL");
    expect(await closed, stderr).toBe(ending === "exit" ? "0" : "SIGKILL");
    // The orphaned redis-server is reaped by init shortly after its SIGKILL.
    expect(await until(() => !processAlive(pid), 5_000)).toBe(true);
    expect(await until(() => !existsSync(dir), 5_000)).toBe(true);
  });
});

describe("when redis-server is missing", () => {
  it("fails with REDIS_SERVER_MISSING and the install hint for a binary that does not exist", async () => {
    const error = await startRedisServer({ binary: "/nonexistent/redis-server" }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(RedisServerError);
    expect((error as RedisServerError).code).toBe("REDIS_SERVER_MISSING");
    expect((error as Error).message).toContain(REDIS_MISSING_MESSAGE);
  });

  describe("redisOrSkip", () => {
    const saved = { PATH: process.env.PATH, REDIS_SERVER: process.env.REDIS_SERVER, PEER_REQUIRE_REDIS: process.env.PEER_REQUIRE_REDIS };
    afterEach(() => {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    });
    const hideRedis = () => {
      process.env.PATH = "/nonexistent";
      delete process.env.REDIS_SERVER;
    };

    it("skips (returns true) when no redis-server is on PATH and PEER_REQUIRE_REDIS is unset", () => {
      hideRedis();
      delete process.env.PEER_REQUIRE_REDIS;
      expect(findRedisServer()).toBeUndefined();
      expect(redisOrSkip()).toBe(true);
    });

    it("throws the install hint instead of skipping under PEER_REQUIRE_REDIS=1", () => {
      hideRedis();
      process.env.PEER_REQUIRE_REDIS = "1";
      expect(() => redisOrSkip()).toThrow(REDIS_MISSING_MESSAGE);
      expect(() => redisOrSkip()).toThrow(/PEER_REQUIRE_REDIS=1/);
    });

    it("does not skip when REDIS_SERVER names an executable", () => {
      hideRedis();
      process.env.PEER_REQUIRE_REDIS = "1";
      process.env.REDIS_SERVER = process.execPath; // any executable file: only presence is checked
      expect(findRedisServer()).toBe(process.execPath);
      expect(redisOrSkip()).toBe(false);
    });
  });
});
