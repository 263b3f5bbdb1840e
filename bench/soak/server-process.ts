/**
 * The server under soak: a real `peer-server` child process (`node bin/peer-server.js`), so that its
 * RSS is its own and the load generator never shares its event loop. The child is killed when the
 * soak exits, however it exits: normally, on an uncaught error, or on Ctrl-C / SIGTERM.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { INSPECTOR_URL_LINE } from "./memory-probe.ts";

const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
const PEER_SERVER_BIN = fileURLToPath(new URL("../../bin/peer-server.js", import.meta.url));
const START_TIMEOUT_MS = 20_000;
const KEPT_LOG_LINES = 20;

export interface ServerProcess {
  readonly pid: number;
  /** The http base URL, e.g. http://127.0.0.1:40123. */
  readonly baseUrl: string;
  readonly wsUrl: string;
  readonly serverId: string;
  /** The V8 inspector's WebSocket URL, when the server was started with --inspect. */
  inspectorUrl(): string | undefined;
  /** Log lines the server printed after its banner (warn and above, with --log-level warn). */
  readonly logLines: string[];
  logLineCount(): number;
  /** The exit code or signal, once it exited. */
  exited(): string | undefined;
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();

function killAll(): void {
  for (const child of live) child.kill("SIGKILL");
}

let hooksInstalled = false;

/** Kills every child on exit, and turns Ctrl-C and SIGTERM into an exit (130 / 143) that runs the exit hook. */
function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.once("exit", killAll);
  for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
    process.once(signal, () => {
      console.error(`\nsoak: ${signal}, stopping the server (pid ${[...live].map((c) => c.pid).join(", ")})`);
      killAll();
      process.exit(code);
    });
  }
}

function bannerValue(banner: string[], prefix: string): string | undefined {
  return banner.find((line) => line.startsWith(prefix))?.slice(prefix.length).trim();
}

/** Starts `node NODE_ARGS bin/peer-server.js --host 127.0.0.1 --port 0 FLAGS`; resolves once it printed its banner. */
export async function startServerProcess(flags: string[], nodeArgs: string[] = [], env: Record<string, string> = {}): Promise<ServerProcess> {
  installExitHooks();
  // NODE_OPTIONS is cleared so that the loader tsx gave this process is not loaded twice into the child.
  const child = spawn(process.execPath, [...nodeArgs, PEER_SERVER_BIN, "--host", "127.0.0.1", "--port", "0", ...flags], { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NODE_OPTIONS: "", ...env } });
  live.add(child);
  let exit: string | undefined;
  child.once("exit", (code, signal) => {
    exit = signal ?? String(code);
    live.delete(child);
  });
  const banner: string[] = [];
  const logLines: string[] = [];
  let logLineTotal = 0;
  let inspectorUrl: string | undefined;
  const keepLogLine = (line: string) => {
    if (line.trim() === "") return;
    const inspector = INSPECTOR_URL_LINE.exec(line);
    if (inspector) inspectorUrl = inspector[1];
    if (inspector || line.startsWith("For help, see: https://nodejs.org") || line === "Debugger attached.") return;
    logLineTotal++;
    if (logLines.length < KEPT_LOG_LINES) logLines.push(line);
  };
  child.stderr?.setEncoding("utf8").on("data", (text: string) => text.split("\n").forEach(keepLogLine));
  await new Promise<void>((resolve, reject) => {
    let partial = "";
    let ready = false;
    const timer = setTimeout(() => reject(new Error(`peer-server did not start within ${START_TIMEOUT_MS} ms: ${logLines.join("\n")}`)), START_TIMEOUT_MS);
    child.stdout?.setEncoding("utf8").on("data", (text: string) => {
      const lines = (partial + text).split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) {
        if (ready) keepLogLine(line);
        else banner.push(line);
        // peer-server prints `identity key ...` last.
        if (!ready && line.startsWith("identity key ")) {
          ready = true;
          clearTimeout(timer);
          resolve();
        }
      }
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      if (!ready) reject(new Error(`peer-server exited (${signal ?? code}) before it was ready: ${logLines.join("\n")}`));
    });
  });
  const baseUrl = bannerValue(banner, "http base ") as string;
  return {
    pid: child.pid as number,
    baseUrl,
    wsUrl: bannerValue(banner, "peer-server listening on ") as string,
    serverId: bannerValue(banner, "server id ") as string,
    inspectorUrl: () => inspectorUrl,
    logLines,
    logLineCount: () => logLineTotal,
    exited: () => exit,
    stop: () =>
      new Promise<void>((resolve) => {
        if (exit !== undefined) return resolve();
        const kill = setTimeout(() => child.kill("SIGKILL"), 5000);
        child.once("exit", () => {
          clearTimeout(kill);
          resolve();
        });
        child.kill("SIGTERM");
      }),
  };
}
