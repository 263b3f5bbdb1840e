/**
 * A real `redis-server` (Debian's package) for the cluster tests: a child process on a free loopback
 * port with a throw-away directory, never a mock (issue 16, "How the test Redis starts").
 *
 *   const redis = await startRedisServer({ appendOnly: true });
 *   redis.url            // "redis://127.0.0.1:PORT"
 *   await redis.kill();  // SIGKILL: Redis is down, its directory stays
 *   await redis.restart(); // same port and directory: the AOF brings the data back
 *   await redis.stop();  // final: the child ends and the directory is removed
 *
 * Test files that need Redis wrap their cases in `describeWithRedis`: where `redis-server` is not
 * installed they are skipped with the reason in their title, except under `PEER_REQUIRE_REDIS=1`
 * (set by `.ci/run`), where the file fails with the same message, so CI can never skip them.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { accessSync, constants, mkdtempSync, rmSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe } from "vitest";

export const REDIS_MISSING_MESSAGE = "redis-server is not installed: apt-get install redis-server";

/** Local error codes of the harness (not protocol errors). */
export type RedisServerErrorCode = "REDIS_SERVER_MISSING" | "REDIS_PORT_TAKEN" | "REDIS_START_TIMEOUT" | "REDIS_EXITED" | "REDIS_STOPPED";

export class RedisServerError extends Error {
  constructor(
    readonly code: RedisServerErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "RedisServerError";
  }
}

export interface RedisServerOptions {
  /** `--appendonly yes`: writes survive `kill()` + `restart()`. Default false (`--save ""` either way: no RDB snapshots). */
  appendOnly?: boolean;
  /**
   * `--appendfsync`, with `appendOnly`. Default "always": every acknowledged write is on disk, so a
   * test that kills Redis right after a write still finds it after `restart()`; "everysec" is what
   * production runs (a crash may lose up to a second of writes).
   */
  appendFsync?: "always" | "everysec";
  /** A fixed port; by default a free loopback port is picked (and picked again if another process took it first). */
  port?: number;
  /** How long to wait for the child to answer PING, on start and on restart. Default 10 000 ms. */
  startTimeoutMs?: number;
  /** `redis-server` to run. Default: `$REDIS_SERVER`, else the first `redis-server` on PATH. */
  binary?: string;
}

export interface RedisServer {
  /** `redis://127.0.0.1:PORT`, what `peer-server --redis` and ioredis take. */
  readonly url: string;
  readonly port: number;
  /** The throw-away `--dir` (the AOF lives in `dir/appendonlydir`). Removed by `stop()`. */
  readonly dir: string;
  /** Whether the child is up (false after `kill()` or `stop()`, until `restart()`). */
  readonly running: boolean;
  /** The child's process id while it runs. */
  readonly pid: number | undefined;
  /** The last lines Redis logged (stdout and stderr), for failure messages. */
  logTail(): string;
  /** Ends the child (SIGTERM, which flushes the AOF; SIGKILL after 5 s) and removes the directory. Idempotent; final. */
  stop(): Promise<void>;
  /** SIGKILL, as a crash: nothing is flushed. The directory stays, so `restart()` recovers what the AOF holds. */
  kill(): Promise<void>;
  /** Stops the child if it runs (SIGTERM), then starts it again on the same port and directory and waits for PING. */
  restart(): Promise<void>;
  /** FLUSHALL: an empty database for the next test, without a restart. */
  flush(): Promise<void>;
}

const LOG_TAIL_CHARS = 4_000;
const STOP_GRACE_MS = 5_000;
const PICK_PORT_ATTEMPTS = 3;
const PING_TIMEOUT_MS = 1_000;

/** The `redis-server` executable: `$REDIS_SERVER`, else the first on PATH; undefined when there is none. */
export function findRedisServer(): string | undefined {
  const candidates = process.env.REDIS_SERVER ? [process.env.REDIS_SERVER] : (process.env.PATH ?? "").split(delimiter).filter(Boolean).map((dir) => join(dir, "redis-server"));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** True when `PEER_REQUIRE_REDIS=1`: a missing `redis-server` is a failure, not a skip (CI). */
export function redisRequired(): boolean {
  return process.env.PEER_REQUIRE_REDIS === "1";
}

/**
 * Whether tests that need Redis must skip: true when `redis-server` is missing. Under
 * `PEER_REQUIRE_REDIS=1` a missing `redis-server` throws instead (at collection, so the file fails
 * with the message).
 */
export function redisOrSkip(): boolean {
  if (findRedisServer() !== undefined) return false;
  if (redisRequired()) throw new RedisServerError("REDIS_SERVER_MISSING", `${REDIS_MISSING_MESSAGE} (PEER_REQUIRE_REDIS=1: tests that need Redis must not skip)`);
  return true;
}

/** `describe` for cases that need a real Redis: skipped with the reason in the title where it is missing, failed under `PEER_REQUIRE_REDIS=1`. */
export function describeWithRedis(title: string, body: () => void): void {
  if (redisOrSkip()) describe.skip(`${title} [skipped: ${REDIS_MISSING_MESSAGE}]`, body);
  else describe(title, body);
}

/**
 * One Redis for the enclosing `describe` (call it inside `describeWithRedis`): started before its
 * first test, stopped after its last. The returned getter throws if called before the start.
 */
export function redisForSuite(options: RedisServerOptions = {}): () => RedisServer {
  let server: RedisServer | undefined;
  beforeAll(async () => {
    server = await startRedisServer(options);
  });
  afterAll(async () => {
    await server?.stop();
  });
  return () => {
    if (server === undefined) throw new Error("redisForSuite(): the Redis starts in beforeAll; read it inside a test or a hook");
    return server;
  };
}

/** Starts a `redis-server` child and resolves once it answers PING. */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const binary = options.binary ?? findRedisServer();
  if (binary === undefined) throw new RedisServerError("REDIS_SERVER_MISSING", REDIS_MISSING_MESSAGE);
  const dir = mkdtempSync(join(tmpdir(), "pp-redis-"));
  const server = new RedisServerProcess(binary, dir, options);
  try {
    if (options.port !== undefined) {
      await server.launch(options.port);
    } else {
      // A free port can be taken between picking it and Redis binding it; pick again in that case.
      for (let attempt = 1; ; attempt++) {
        try {
          await server.launch(await freeLoopbackPort());
          break;
        } catch (error) {
          if (!(error instanceof RedisServerError && error.code === "REDIS_PORT_TAKEN") || attempt >= PICK_PORT_ATTEMPTS) throw error;
        }
      }
    }
  } catch (error) {
    await server.stop();
    throw error;
  }
  return server;
}

/** A port the OS reports free on 127.0.0.1 (bound to 0, read, released). */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      probe.close(() => (port > 0 ? resolve(port) : reject(new Error("the OS gave no loopback port"))));
    });
  });
}

/** Every child still running, killed synchronously when the test process exits, with its directory removed. */
const live = new Set<RedisServerProcess>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", () => {
    for (const server of live) server.killSyncOnExit();
  });
}

class RedisServerProcess implements RedisServer {
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #log = "";
  #port = 0;
  #stopped = false;

  constructor(
    private readonly binary: string,
    readonly dir: string,
    private readonly options: RedisServerOptions,
  ) {
    live.add(this);
    installExitHook();
  }

  get port(): number {
    return this.#port;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.#port}`;
  }

  get running(): boolean {
    return this.#child !== undefined;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  logTail(): string {
    return this.#log;
  }

  async launch(port: number): Promise<void> {
    if (this.#stopped) throw new RedisServerError("REDIS_STOPPED", "this redis-server was stopped; start a new one");
    this.#port = port;
    this.#log = "";
    const args = [
      "--bind", "127.0.0.1",
      "--port", String(port),
      "--dir", this.dir,
      "--save", "", // no RDB snapshots: the tests choose durability with the AOF alone
      "--appendonly", this.options.appendOnly ? "yes" : "no",
      "--appendfsync", this.options.appendFsync ?? "always",
      "--daemonize", "no",
      "--logfile", "", // log to stdout, which the harness keeps for error messages
      "--protected-mode", "yes",
    ];
    const child = spawn(this.binary, args, { stdio: ["ignore", "pipe", "pipe"] });
    this.#child = child;
    const watchdog = startWatchdog(child.pid, this.dir);
    const keep = (chunk: Buffer) => {
      this.#log = (this.#log + chunk.toString("utf8")).slice(-LOG_TAIL_CHARS);
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    let exitCode: string | undefined;
    let spawnError: Error | undefined;
    this.#exited = new Promise<void>((resolve) => {
      child.once("error", (error) => {
        spawnError = error;
        watchdog?.kill("SIGKILL");
        if (this.#child === child) this.#child = undefined;
        resolve();
      });
      child.once("exit", (code, signal) => {
        exitCode = signal ?? String(code);
        watchdog?.kill("SIGKILL"); // nothing left to guard; restart() starts another
        if (this.#child === child) this.#child = undefined;
        // The last log lines (the reason it exited) can arrive after "exit"; wait for the pipes to
        // close, but not for long: a forked AOF rewrite child may hold them open.
        const drained = setTimeout(resolve, 250);
        child.once("close", () => {
          clearTimeout(drained);
          resolve();
        });
      });
    });
    const deadline = Date.now() + (this.options.startTimeoutMs ?? 10_000);
    while (true) {
      if (spawnError !== undefined) {
        const missing = (spawnError as NodeJS.ErrnoException).code === "ENOENT";
        throw new RedisServerError(missing ? "REDIS_SERVER_MISSING" : "REDIS_EXITED", missing ? `${REDIS_MISSING_MESSAGE} (${this.binary} not found)` : `${this.binary} could not start: ${spawnError.message}`);
      }
      if (exitCode !== undefined) {
        if (/address already in use/i.test(this.#log)) throw new RedisServerError("REDIS_PORT_TAKEN", `redis-server could not bind 127.0.0.1:${port}: the port is taken. Log tail:\n${this.#log}`);
        throw new RedisServerError("REDIS_EXITED", `redis-server exited (${exitCode}) before answering PING on 127.0.0.1:${port}. Log tail:\n${this.#log}`);
      }
      // A child that exits (port taken, bad config) ends the wait at once, not after the PING's timeout.
      if (await Promise.race([answersPing(port), this.#exited.then(() => false)])) return;
      if (Date.now() >= deadline) {
        const waited = this.options.startTimeoutMs ?? 10_000;
        await this.#end("SIGKILL");
        throw new RedisServerError("REDIS_START_TIMEOUT", `redis-server did not answer PING on 127.0.0.1:${port} within ${waited / 1000} s. Log tail:\n${this.#log}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async #end(signal: "SIGTERM" | "SIGKILL"): Promise<void> {
    const child = this.#child;
    if (child === undefined) return;
    child.kill(signal);
    if (signal === "SIGTERM") {
      const grace = setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS);
      await this.#exited;
      clearTimeout(grace);
    } else {
      await this.#exited;
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#end("SIGTERM");
    rmSync(this.dir, { recursive: true, force: true });
    live.delete(this);
  }

  async kill(): Promise<void> {
    await this.#end("SIGKILL");
  }

  async restart(): Promise<void> {
    await this.#end("SIGTERM");
    await this.launch(this.#port);
  }

  async flush(): Promise<void> {
    const client = new Redis({ host: "127.0.0.1", port: this.#port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on("error", () => {}); // a failure rejects connect() or flushall() below
    try {
      await client.connect();
      const reply = await client.flushall();
      if (reply !== "OK") throw new Error(`FLUSHALL answered ${reply}`);
    } finally {
      client.disconnect();
    }
  }

  /** From the process's `exit` event: only synchronous work is possible there. */
  killSyncOnExit(): void {
    this.#child?.kill("SIGKILL");
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * A shell that SIGKILLs the Redis child and removes its directory when this process dies without
 * running its `exit` handlers: vitest ends its worker processes with a signal, and a crashed or
 * killed test run would otherwise leave a redis-server behind for good. The shell blocks reading a
 * pipe whose only writer is this process; the pipe's end (EOF) is the parent's death. It checks the
 * pid is still a redis-server before it kills, so a reused pid is never hit. Unreferenced: it never
 * keeps this process alive.
 */
function startWatchdog(pid: number | undefined, dir: string): ChildProcess | undefined {
  if (pid === undefined) return undefined;
  const script = 'read _; [ "$(cat /proc/$1/comm 2>/dev/null)" = redis-server ] && kill -9 "$1"; rm -rf "$2"';
  const watchdog = spawn("/bin/sh", ["-c", script, "redis-watchdog", String(pid), dir], { stdio: ["pipe", "ignore", "ignore"] });
  watchdog.on("error", () => {}); // without /bin/sh the exit handler is the only cleanup
  watchdog.unref();
  (watchdog.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  return watchdog;
}

/**
 * One PING on a fresh TCP connection, in RESP: true on +PONG, false on anything else (refused,
 * -LOADING while the AOF is read) or on a second of silence. A raw socket rather than ioredis,
 * because the probe must end when it says: an ioredis client connected to a listener that is not
 * Redis (another process on the port) stays in its connect phase for seconds after disconnect().
 */
function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    let reply = "";
    const finish = (answered: boolean) => {
      clearTimeout(silence);
      socket.destroy();
      resolve(answered);
    };
    const silence = setTimeout(() => finish(false), PING_TIMEOUT_MS);
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.on("data", (chunk: Buffer) => {
      reply += chunk.toString("latin1");
      if (reply.includes("\r\n")) finish(reply.startsWith("+PONG\r\n"));
    });
    socket.once("error", () => finish(false));
    socket.once("close", () => finish(false));
  });
}
