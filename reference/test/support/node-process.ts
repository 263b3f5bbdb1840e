/**
 * A cluster node as operators run it: `node bin/peer-server.js --redis URL ...` in a child process
 * (the build in dist/, which vitest's globalSetup makes). A child, rather than a server in the test
 * process, because "the node does not crash" is then a fact a test can read: the process is still
 * running, and Node's default for an unhandled rejection (end the process) applies as in production.
 * A shell watchdog per child SIGKILLs it when the test process dies without running its exit
 * handlers (vitest ends its workers with a signal), as ./redis-server.ts does for Redis.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll } from "vitest";

const PEER_SERVER = fileURLToPath(new URL("../../../bin/peer-server.js", import.meta.url));
const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const OUTPUT_TAIL_CHARS = 20_000;
const START_TIMEOUT_MS = 20_000;
const STOP_GRACE_MS = 5_000;

export interface NodeProcess {
  /** ws://HOST:PORT/ws/v1/peers of the (first) node that printed it. */
  readonly wsUrl: string;
  /** The http base of the (first) node. */
  readonly url: string;
  readonly serverId: string;
  /** The node ids printed ("cluster node ID on URL"): one, or one per worker with --workers. */
  readonly nodeIds: string[];
  readonly child: ChildProcess;
  /** True until the process exits. */
  readonly running: boolean;
  /** The exit code or signal once it exited, undefined while it runs. */
  exited(): string | undefined;
  /** What the process wrote (stdout and stderr, interleaved), the last 20 000 characters. */
  output(): string;
  /** SIGTERM (SIGKILL after 5 s); resolves once it exited. Idempotent. */
  stop(): Promise<void>;
  /** SIGKILL, as a crash or the OOM killer would: no BYE, no close frames. Resolves once it is gone. */
  kill(): Promise<void>;
}

/** Children still running, SIGKILLed if the test process exits without stopping them (a failed hook, a timeout). */
const live = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of live) child.kill("SIGKILL");
});

/** Every node started by this file, stopped after its last test. Call once at the top of a file. */
export function nodeProcessesPerFile(): (args: string[], options?: { nodes?: number; env?: NodeJS.ProcessEnv }) => Promise<NodeProcess> {
  const started: NodeProcess[] = [];
  afterAll(async () => {
    await Promise.all(started.splice(0).map((node) => node.stop()));
  });
  return async (args, options = {}) => {
    const node = await startNodeProcess(args, options);
    started.push(node);
    return node;
  };
}

/**
 * Starts `peer-server ARGS` and waits until `nodes` cluster nodes printed their lines (one per
 * worker with --workers); rejects with the output if it exits first or takes over 20 s.
 */
export async function startNodeProcess(args: string[], options: { nodes?: number; env?: NodeJS.ProcessEnv } = {}): Promise<NodeProcess> {
  const wanted = options.nodes ?? 1;
  const child = spawn(process.execPath, [PEER_SERVER, "--log-level", "warn", ...args], { cwd: REPO_ROOT, env: options.env ?? cleanEnv(), stdio: ["ignore", "pipe", "pipe"] });
  live.add(child);
  const watchdog = startWatchdog(child.pid);
  child.once("exit", () => {
    live.delete(child);
    watchdog?.kill("SIGKILL");
  });
  let output = "";
  let exited: string | undefined;
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString("utf8")).slice(-OUTPUT_TAIL_CHARS);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exit = new Promise<void>((resolve) => child.once("exit", (code, signal) => ((exited = signal ?? String(code)), resolve())));
  const deadline = Date.now() + START_TIMEOUT_MS;
  while ([...output.matchAll(/^cluster node (\S+) on /gm)].length < wanted) {
    if (exited !== undefined) throw new Error(`peer-server ${args.join(" ")} exited (${exited}) before it listened:\n${output}`);
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`peer-server ${args.join(" ")} printed fewer than ${wanted} "cluster node" lines within ${START_TIMEOUT_MS} ms:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const wsUrl = /^peer-server listening on (ws:\/\/\S+)$/m.exec(output)?.[1];
  const url = /^http base (http:\/\/\S+)$/m.exec(output)?.[1];
  const serverId = /^server id (\S+)$/m.exec(output)?.[1];
  if (!wsUrl || !url || !serverId) throw new Error(`peer-server printed no listening line, http base or server id:\n${output}`);
  const nodeIds = [...output.matchAll(/^cluster node (\S+) on /gm)].map((m) => m[1] as string);
  return {
    wsUrl,
    url,
    serverId,
    nodeIds,
    child,
    get running() {
      return exited === undefined;
    },
    exited: () => exited,
    output: () => output,
    async stop() {
      if (exited !== undefined) return;
      child.kill("SIGTERM");
      const grace = setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS);
      await exit;
      clearTimeout(grace);
    },
    async kill() {
      if (exited !== undefined) return;
      child.kill("SIGKILL");
      await exit;
    },
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

/** Runs `peer-server ARGS` to its end: for usage errors, which exit before listening. */
export function runPeerServer(args: string[], env: NodeJS.ProcessEnv = cleanEnv()): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [PEER_SERVER, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
    child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`peer-server ${args.join(" ")} still running after 20 s:\n${stdout}${stderr}`));
    }, 20_000);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * The environment without PEER_SERVER_IDENTITY_SEED, which would stand in for --identity-seed, and
 * without NODE_OPTIONS, so that a loader given to the test process is not loaded into the child.
 */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: "" };
  delete env.PEER_SERVER_IDENTITY_SEED;
  return env;
}

/** GET the node's discovery document: whether the process still serves HTTP. */
export async function discovery(url: string): Promise<{ status: number; body: { server_id?: string } }> {
  const response = await fetch(new URL("/peers/capabilities", url));
  return { status: response.status, body: (await response.json()) as { server_id?: string } };
}
