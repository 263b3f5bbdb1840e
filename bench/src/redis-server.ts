/**
 * The Redis of the cluster scenarios: Debian's `redis-server` as a child process on a free loopback
 * port with a throw-away directory, started by the bench and stopped by it (issue 16). It keeps
 * nothing on disk (`--save ""`, no AOF), so the figures measure the protocol and the network hop
 * to Redis, not the disk; the deployment guide says what production runs with.
 *
 * The tests have a richer harness (kill, restart, AOF) under reference/test/support/; the bench
 * needs only start and stop and must not depend on test code, so this is its own small launcher.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { accessSync, constants, mkdtempSync, rmSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";

export const REDIS_MISSING_MESSAGE = "the cluster scenarios need redis-server, which is not installed: apt-get install redis-server (or set REDIS_SERVER to its path)";

/** Local error codes of the launcher (not protocol errors). */
export type RedisLaunchErrorCode = "REDIS_SERVER_MISSING" | "REDIS_EXITED" | "REDIS_START_TIMEOUT";

export class RedisLaunchError extends Error {
  constructor(
    readonly code: RedisLaunchErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "RedisLaunchError";
  }
}

export interface BenchRedis {
  /** `redis://127.0.0.1:PORT`, what `peer-server --redis` takes. */
  readonly url: string;
  readonly pid: number;
  /** SIGTERM (SIGKILL after 5 s), then the directory is removed. Idempotent. */
  stop(): Promise<void>;
}

/** `$REDIS_SERVER`, else the first `redis-server` on PATH, else undefined. */
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

function freeLoopbackPort(): Promise<number> {
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

/** One PING in RESP on a fresh socket: true on +PONG within a second. */
function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    let reply = "";
    const finish = (answered: boolean) => {
      clearTimeout(silence);
      socket.destroy();
      resolve(answered);
    };
    const silence = setTimeout(() => finish(false), 1_000);
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.on("data", (chunk: Buffer) => {
      reply += chunk.toString("latin1");
      if (reply.includes("\r\n")) finish(reply.startsWith("+PONG\r\n"));
    });
    socket.once("error", () => finish(false));
  });
}

const live = new Set<{ child: ChildProcess; dir: string }>();
let exitHookInstalled = false;

/** Starts `redis-server` and resolves once it answers PING; `binary` overrides the lookup. */
export async function startBenchRedis(options: { binary?: string; startTimeoutMs?: number } = {}): Promise<BenchRedis> {
  const binary = options.binary ?? findRedisServer();
  if (binary === undefined) throw new RedisLaunchError("REDIS_SERVER_MISSING", REDIS_MISSING_MESSAGE);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // The bench's watchdog ends the run with process.exit: no child Redis or directory may outlive it.
    process.once("exit", () => {
      for (const entry of live) {
        entry.child.kill("SIGKILL");
        rmSync(entry.dir, { recursive: true, force: true });
      }
    });
  }
  const dir = mkdtempSync(join(tmpdir(), "peer-bench-redis-"));
  const port = await freeLoopbackPort();
  const args = ["--bind", "127.0.0.1", "--port", String(port), "--dir", dir, "--save", "", "--appendonly", "no", "--daemonize", "no", "--logfile", "", "--protected-mode", "yes"];
  const child = spawn(binary, args, { stdio: ["ignore", "pipe", "pipe"] });
  const entry = { child, dir };
  live.add(entry);
  let log = "";
  const keep = (chunk: Buffer) => void (log = (log + chunk.toString("utf8")).slice(-2_000));
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  let failure: RedisLaunchError | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once("error", (error: NodeJS.ErrnoException) => {
      failure = error.code === "ENOENT" ? new RedisLaunchError("REDIS_SERVER_MISSING", `${REDIS_MISSING_MESSAGE} (${binary} not found)`) : new RedisLaunchError("REDIS_EXITED", `${binary} could not start: ${error.message}`);
      resolve();
    });
    child.once("exit", (code, signal) => {
      failure ??= new RedisLaunchError("REDIS_EXITED", `redis-server exited (${signal ?? code}) before answering PING on 127.0.0.1:${port}: ${log.slice(-500)}`);
      resolve();
    });
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      const kill = setTimeout(() => child.kill("SIGKILL"), 5_000);
      child.kill("SIGTERM");
      await exited;
      clearTimeout(kill);
    }
    rmSync(dir, { recursive: true, force: true });
    live.delete(entry);
  };
  const deadline = Date.now() + (options.startTimeoutMs ?? 10_000);
  for (;;) {
    const up = await Promise.race([answersPing(port), exited.then(() => false)]);
    if (failure) {
      await stop();
      throw failure;
    }
    if (up) break;
    if (Date.now() >= deadline) {
      await stop();
      throw new RedisLaunchError("REDIS_START_TIMEOUT", `redis-server did not answer PING on 127.0.0.1:${port} within ${(options.startTimeoutMs ?? 10_000) / 1000} s: ${log.slice(-500)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { url: `redis://127.0.0.1:${port}`, pid: child.pid as number, stop };
}
