/**
 * `peer-conformance client --command CMD` (issue 14, after MCP conformance's `client --command`):
 * for each client case the runner starts CMD through the shell with the scenario contract's
 * environment (spec §18: PEER_URL, PEER_SCENARIO, PEER_ENTITY_ID, …) and watches two things: what
 * the client does on the wire (the case's responder sees it) and how CMD exits (0 the scenario
 * completed, 1 the client refused the server, 2 the driver could not run).
 *
 * CMD runs in a process group of its own, so that stopping it also stops what the shell started;
 * its stderr is kept (cut) for the report, with secrets redacted, since a driver may print them.
 *
 * A case sees its client through CaseClient, which a listening client (`--listen`,
 * listening-client.ts) implements too: there the status is the one the client reports.
 */
import { spawn } from "node:child_process";
import { redactSecrets } from "../probe/redact.ts";
import type { ClientAttachment } from "./client-runner.ts";

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
  /** Set when a listening client reported this status (POST /result, listening-client.ts) instead of exiting with it; `stderr` is then the log it sent. */
  reported?: boolean;
}

/**
 * The client of one case as the runner watches it: a driver the runner started (startClient, below)
 * or a listening client that reports how the case ended (listening-client.ts). A case reads it
 * through `ctx.exit()` and `ctx.client`, and cannot tell the two apart.
 */
export interface CaseClient {
  /** Settles with the exit status (or the reported one); never rejects. */
  readonly exited: Promise<ClientExit>;
  /** Whether it has not ended (or reported) yet. */
  readonly running: boolean;
  /** What `ctx.exit()` waits for, as the report words it: "the client's driver exits". */
  readonly ending: string;
  /** Ends the client's part in the case once the case is over; undefined when its end never came (a listening client that did not report). */
  stop(graceMs?: number): Promise<ClientExit | undefined>;
}

export interface ClientProcess extends CaseClient {
  /** Settles when CMD has exited (never rejects: a command that cannot start exits with 127 through the shell). */
  readonly exited: Promise<ClientExit>;
  /** Stops the whole process group (SIGTERM, then SIGKILL after `graceMs`). */
  stop(graceMs?: number): Promise<ClientExit>;
}

/** `--command CMD`: each case starts CMD with the case's environment. */
export function commandClient(command: string, options: { cwd?: string; label?: string } = {}): ClientAttachment {
  return {
    label: options.label ?? command,
    start: (_c, env) => Promise.resolve(startClient(command, env, options.cwd ? { cwd: options.cwd } : {})),
  };
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
    ending: "the client's driver exits",
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

/** An exit (or a listening client's report) as the report says it. */
export function describeExit(exit: ClientExit): string {
  const how = exit.reported ? `reported status ${exit.code}` : exit.signal ? `was stopped by ${exit.signal}` : `exited with ${exit.code}`;
  const last = exit.stderr.split("\n").filter((line) => line.trim() !== "").slice(-3).join(" | ");
  return `the client ${how} after ${exit.ms} ms${last ? ` (${exit.reported ? "log" : "stderr"}: ${last})` : ""}`;
}
