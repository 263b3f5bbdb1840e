/**
 * `peer-conformance client --command CMD` (issue 14, after MCP conformance's `client --command`):
 * for each client case the runner starts CMD through the shell with the scenario contract's
 * environment (spec §18: PEER_URL, PEER_SCENARIO, PEER_ENTITY_ID, …) and watches two things: what
 * the client does on the wire (the case's responder sees it) and how CMD exits (0 the scenario
 * completed, 1 the client refused the server, 2 the driver could not run).
 *
 * CMD runs in a process group of its own, so that stopping it also stops what the shell started;
 * its stderr is kept (cut) for the report, with secrets redacted, since a driver may print them.
 */
import { spawn } from "node:child_process";
import { redactSecrets } from "../probe/redact.ts";

/** Enough of a driver's stderr to explain an outcome; a driver that floods it is cut. */
const MAX_STDERR_CHARS = 4000;

export interface ClientExit {
  /** The exit code, or null when a signal ended it. */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The end of its stderr, redacted. */
  stderr: string;
  /** How long it ran. */
  ms: number;
}

export interface ClientProcess {
  /** Settles when CMD has exited (never rejects: a command that cannot start exits with 127 through the shell). */
  readonly exited: Promise<ClientExit>;
  /** Whether it is still running. */
  readonly running: boolean;
  /** Stops the whole process group (SIGTERM, then SIGKILL after `graceMs`). */
  stop(graceMs?: number): Promise<ClientExit>;
}

export function startClient(command: string, env: Record<string, string>, options: { cwd?: string } = {}): ClientProcess {
  const started = Date.now();
  const child = spawn(command, { shell: true, detached: true, stdio: ["ignore", "ignore", "pipe"], cwd: options.cwd, env: { ...process.env, ...env } });
  let stderr = "";
  let running = true;
  child.stderr.setEncoding("utf8").on("data", (data: string) => {
    stderr = (stderr + data).slice(-MAX_STDERR_CHARS);
  });
  const exited = new Promise<ClientExit>((resolve) => {
    child.on("error", (error) => {
      running = false;
      resolve({ code: 127, signal: null, stderr: `could not be started: ${error.message}`, ms: Date.now() - started });
    });
    child.on("close", (code, signal) => {
      running = false;
      resolve({ code, signal, stderr: redactSecrets(stderr.trim()), ms: Date.now() - started });
    });
  });
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, signal);
    } catch {
      // Already gone.
    }
  };
  return {
    exited,
    get running() {
      return running;
    },
    async stop(graceMs = 1000) {
      if (!running) return exited;
      signalGroup("SIGTERM");
      const timer = setTimeout(() => signalGroup("SIGKILL"), graceMs);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
}

/** An exit as the report says it. */
export function describeExit(exit: ClientExit): string {
  const how = exit.signal ? `was stopped by ${exit.signal}` : `exited with ${exit.code}`;
  const last = exit.stderr.split("\n").filter((line) => line.trim() !== "").slice(-3).join(" | ");
  return `the client ${how} after ${exit.ms} ms${last ? ` (stderr: ${last})` : ""}`;
}
