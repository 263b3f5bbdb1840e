/**
 * One node of a cluster as a child process (`node bin/peer-server.js --redis URL ...`), so that a
 * test can kill it with SIGKILL, as a crash or the OOM killer would: no BYE, no close frames, no
 * last Redis write (issue 16, "a node killed with SIGKILL while its clients stream").
 *
 *   const node = await startClusterNodeProcess({ redisUrl: redis.url, identitySeed, serverId, nodeId: "n1" });
 *   node.port        // its WebSocket/HTTP port on 127.0.0.1
 *   await node.kill(); // SIGKILL, resolves once it is gone
 *   await node.stop(); // SIGTERM (a graceful shutdown), SIGKILL after 5 s
 *
 * It runs dist/ (vitest's globalSetup builds it). A shell watchdog per child SIGKILLs it when the
 * test process dies without running its exit handlers (vitest ends its workers with a signal), as
 * ./redis-server.ts does for Redis.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const PEER_SERVER_BIN = fileURLToPath(new URL("../../../bin/peer-server.js", import.meta.url));
const START_TIMEOUT_MS = 20_000;
const STOP_GRACE_MS = 5_000;
const LOG_TAIL_CHARS = 4_000;

export interface ClusterNodeOptions {
  redisUrl: string;
  /** The same 32 bytes for every node of a cluster: together they are one server. */
  identitySeed: Buffer;
  serverId: string;
  nodeId: string;
  /** Limits as flags, e.g. `{ rate_limit_per_minute: 0 }` becomes `--rate-limit-per-minute 0`. */
  limits?: Record<string, number>;
  /** Default "warn": what goes wrong is in logTail(). */
  logLevel?: string;
}

export interface ClusterNodeProcess {
  readonly nodeId: string;
  readonly port: number;
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  readonly pid: number;
  /** The exit code or signal once it exited, undefined while it runs. */
  exited(): string | undefined;
  /** What it printed last (stdout and stderr), for failure messages. */
  logTail(): string;
  /** SIGKILL: a crash. Resolves once the process is gone. */
  kill(): Promise<void>;
  /** SIGTERM (graceful: BYE to its sessions), SIGKILL after 5 s. Idempotent. */
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", () => {
    for (const child of live) child.kill("SIGKILL");
  });
}

export async function startClusterNodeProcess(options: ClusterNodeOptions): Promise<ClusterNodeProcess> {
  installExitHook();
  const limitFlags = Object.entries(options.limits ?? {}).flatMap(([name, value]) => [`--${name.replaceAll("_", "-")}`, String(value)]);
  const args = [
    PEER_SERVER_BIN,
    "--host", "127.0.0.1",
    "--port", "0",
    "--redis", options.redisUrl,
    "--identity-seed", options.identitySeed.toString("hex"),
    "--server-id", options.serverId,
    "--node-id", options.nodeId,
    "--log-level", options.logLevel ?? "warn",
    ...limitFlags,
  ];
  // NODE_OPTIONS cleared: a loader given to the test process is not loaded into the child.
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NODE_OPTIONS: "" } });
  live.add(child);
  const watchdog = startWatchdog(child.pid);
  let log = "";
  let exit: string | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once("exit", (code, signal) => {
      exit = signal ?? String(code);
      live.delete(child);
      watchdog?.kill("SIGKILL");
      resolve();
    });
  });
  const keep = (text: string) => {
    log = (log + text).slice(-LOG_TAIL_CHARS);
  };
  child.stderr?.setEncoding("utf8").on("data", keep);
  const url = await new Promise<string>((resolve, reject) => {
    let base: string | undefined;
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`node ${options.nodeId} did not start within ${START_TIMEOUT_MS} ms:\n${log}`));
    }, START_TIMEOUT_MS);
    child.stdout?.setEncoding("utf8").on("data", (text: string) => {
      keep(text);
      base ??= /^http base (\S+)$/m.exec(log)?.[1];
      // "cluster node ID on URL" is the banner's last cluster line: Redis answered, the node is in.
      if (base !== undefined && /^cluster node /m.test(log)) {
        clearTimeout(timer);
        resolve(base);
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`node ${options.nodeId} exited (${exit}) before it was ready:\n${log}`));
    });
  });
  const end = async (signal: "SIGTERM" | "SIGKILL") => {
    if (exit !== undefined) return;
    child.kill(signal);
    const grace = signal === "SIGTERM" ? setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS) : undefined;
    await exited;
    clearTimeout(grace);
  };
  return {
    nodeId: options.nodeId,
    port: Number(new URL(url).port),
    url,
    pid: child.pid as number,
    exited: () => exit,
    logTail: () => log,
    kill: () => end("SIGKILL"),
    stop: () => end("SIGTERM"),
  };
}

/**
 * A shell that SIGKILLs the node when this process dies without its exit handlers: it blocks
 * reading a pipe whose only writer is this process, and checks the pid still runs peer-server, so
 * that a reused pid is never hit. Unreferenced: it never keeps this process alive.
 */
function startWatchdog(pid: number | undefined): ChildProcess | undefined {
  if (pid === undefined) return undefined;
  const script = 'read _; grep -q peer-server "/proc/$1/cmdline" 2>/dev/null && kill -9 "$1"';
  const watchdog = spawn("/bin/sh", ["-c", script, "node-watchdog", String(pid)], { stdio: ["pipe", "ignore", "ignore"] });
  watchdog.on("error", () => {}); // without /bin/sh the exit handler is the only cleanup
  watchdog.unref();
  (watchdog.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  return watchdog;
}
