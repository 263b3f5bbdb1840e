/**
 * Child processes the bench starts: the embedded reference server (the `peer-server` command's
 * module), the raw baseline server (raw `ws` echo and the protocol floor) and the Socket.IO echo. Each runs in its own process, so its CPU and RSS are its own
 * and the load generator never shares an event loop with it. Every child is killed when the bench
 * exits. Both are the modules beside this one: the TypeScript sources through tsx when the bench runs
 * from them (tests, `tsx`), the build in dist/ with no TypeScript loader when it runs from there
 * (`bin/peer-bench.js`, an installed package, where tsx need not be installed).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

const FROM_SOURCE = import.meta.url.endsWith(".ts");
const EXTENSION = FROM_SOURCE ? ".ts" : ".js";
/** The package root (dist/bench/src/ is one level deeper than bench/src/): `--import tsx` resolves from there. */
const PACKAGE_ROOT = fileURLToPath(new URL(FROM_SOURCE ? "../../" : "../../../", import.meta.url));
const PEER_SERVER_MODULE = fileURLToPath(new URL(`../../reference/src/cli/peer-server${EXTENSION}`, import.meta.url));
const RAW_SERVER_MODULE = fileURLToPath(new URL(`./baseline/raw-echo-server${EXTENSION}`, import.meta.url));
const SOCKETIO_SERVER_MODULE = fileURLToPath(new URL(`./baseline/socketio-echo-server${EXTENSION}`, import.meta.url));
/** Node flags that let a child run a module of this kind. */
const LOADER_ARGS = FROM_SOURCE ? ["--import", "tsx"] : [];

export interface ChildServer {
  readonly pid: number;
  readonly url: string;
  /** Lines printed on stdout before the server became ready (peer-server prints its id and key). */
  readonly banner: string[];
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

/**
 * The embedded server runs with its defaults except two limits (spec §13: 0 = none, for
 * benchmarks): the rate limit, and the connections per IP address (PP-LIM-011, 256 by default),
 * since every connection of the load generator comes from 127.0.0.1 and the sessions scenario holds
 * 10,000 of them. The default retransmit_buffer (1024) already covers the pipeline depth; raising it
 * also raises the server's de-duplication memory (4x per session) and so its GC work.
 */
export const EMBEDDED_SERVER_FLAGS = ["--rate-limit-per-minute", "0", "--max-connections-per-ip", "0"];

/** Starts `node ARGS`; ready once `ready(banner)` returns the base URL. */
async function startChild(args: string[], ready: (banner: string[]) => string | undefined, what: string, timeoutMs = 20_000): Promise<ChildServer> {
  installExitHook();
  const child = spawn(process.execPath, args, { cwd: PACKAGE_ROOT, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NODE_OPTIONS: "" } });
  live.add(child);
  const stderr: string[] = [];
  child.stderr?.on("data", (data: Buffer) => {
    stderr.push(data.toString());
    if (stderr.length > 50) stderr.shift();
  });
  const banner: string[] = [];
  const url = await new Promise<string>((resolve, reject) => {
    let buffered = "";
    const timer = setTimeout(() => reject(new Error(`${what} did not start within ${timeoutMs} ms: ${stderr.join("").slice(-500)}`)), timeoutMs);
    child.stdout?.on("data", (data: Buffer) => {
      buffered += data.toString();
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) {
        banner.push(line);
        const url = ready(banner);
        if (url !== undefined) {
          clearTimeout(timer);
          resolve(url);
        }
      }
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${code ?? signal}) before it was ready: ${stderr.join("").slice(-500)}`));
    });
  });
  child.stdout?.resume();
  return {
    pid: child.pid as number,
    url,
    banner,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) {
          live.delete(child);
          return resolve();
        }
        const kill = setTimeout(() => child.kill("SIGKILL"), 5_000);
        child.once("exit", () => {
          clearTimeout(kill);
          live.delete(child);
          resolve();
        });
        child.kill("SIGTERM");
      }),
  };
}

function bannerValue(banner: string[], prefix: string): string | undefined {
  return banner.find((line) => line.startsWith(prefix))?.slice(prefix.length).trim();
}

/** peer-server prints its URL, `http base`, `server id` and `identity key` last. */
function readyPeer(banner: string[]): string | undefined {
  return banner.some((line) => line.startsWith("identity key ")) ? bannerValue(banner, "http base ") : undefined;
}

/** Starts `peer-server --port 0` on loopback in a `node` process of its own; `nodeArgs` e.g. ["--cpu-prof"]. */
export async function startPeerServer(options: { nodeArgs?: string[]; extraFlags?: string[] } = {}): Promise<ChildServer & { serverId: string }> {
  const server = await startChild([...(options.nodeArgs ?? []), ...LOADER_ARGS, PEER_SERVER_MODULE, "--host", "127.0.0.1", "--port", "0", "--log-level", "silent", ...EMBEDDED_SERVER_FLAGS, ...(options.extraFlags ?? [])], readyPeer, "peer-server");
  const idLine = server.banner.find((line) => line.startsWith("server id "));
  return { ...server, serverId: idLine ? idLine.slice("server id ".length).trim() : "peer-server" };
}

/** Starts the raw `ws` baseline server in its own process. */
export function startRawServerProcess(): Promise<ChildServer> {
  return startChild([...LOADER_ARGS, RAW_SERVER_MODULE, "--port", "0"], (banner) => bannerValue(banner, "raw base "), "raw baseline server");
}

/** Starts the Socket.IO echo baseline in its own process (needs the `socket.io` devDependency). */
export function startSocketIoServerProcess(): Promise<ChildServer> {
  return startChild([...LOADER_ARGS, SOCKETIO_SERVER_MODULE, "--port", "0"], (banner) => bannerValue(banner, "socket.io base "), "Socket.IO baseline server");
}
