/**
 * A server the matrix starts for a `command` target: the command runs through the shell in a
 * process group of its own, with `{port}` replaced by a free port; it is ready when its readiness
 * URL answers 2xx. Stopping kills the whole group (the shell and what it started), SIGTERM first.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";

export class ServerStartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ServerStartError";
  }
}

/** The last `max` characters of what the server printed, both streams interleaved. */
class OutputTail {
  private text = "";
  constructor(private readonly max = 4000) {}
  add(chunk: Buffer): void {
    this.text = (this.text + chunk.toString("utf8")).slice(-this.max);
  }
  lines(count = 20): string {
    const lines = this.text.trimEnd().split("\n").slice(-count);
    return lines.length === 1 && lines[0] === "" ? "(no output)" : lines.map((line) => `  | ${line}`).join("\n");
  }
}

/** A free TCP port on the loopback interface (the OS picks it; another process may take it before the server binds). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface StartedServer {
  port: number;
  pid: number;
  /** What it printed last, for error messages. */
  tail(): string;
  /** Stops the process group; resolves when the shell exited (SIGKILL after `graceMs`). */
  stop(graceMs?: number): Promise<void>;
}

export interface StartOptions {
  command: string;
  /** The URL to poll until it answers 2xx; `{port}` is replaced. */
  ready: string;
  readyTimeoutMs: number;
  cwd: string;
  env?: Record<string, string>;
  /** The port `{port}` stands for; default a free one. */
  port?: number;
}

export const withPort = (text: string, port: number): string => text.replace(/\{port\}/g, String(port));

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    // The group is gone already.
  }
}

async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
    await response.arrayBuffer().catch(() => undefined);
    return response.ok;
  } catch {
    return false;
  }
}

/** Starts the command and waits until `ready` answers; a ServerStartError (with the output tail) when it exits or times out first. */
export async function startServer(options: StartOptions): Promise<StartedServer> {
  const port = options.port ?? (await freePort());
  const command = withPort(options.command, port);
  const ready = withPort(options.ready, port);
  const output = new OutputTail();
  const child = spawn("/bin/sh", ["-c", command], { cwd: options.cwd, env: { ...process.env, ...options.env, PORT: String(port) }, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout!.on("data", (chunk: Buffer) => output.add(chunk));
  child.stderr!.on("data", (chunk: Buffer) => output.add(chunk));
  let exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  let spawnError: Error | null = null;
  const exited = new Promise<void>((resolve) => {
    child.on("error", (error) => {
      spawnError = error;
      resolve();
    });
    child.on("exit", (code, signal) => {
      exit = { code, signal };
      resolve();
    });
  });
  const server: StartedServer = {
    port,
    pid: child.pid ?? -1,
    tail: () => output.lines(),
    async stop(graceMs = 3000) {
      if (exit || spawnError || child.pid === undefined) return;
      killGroup(child, "SIGTERM");
      const timer = setTimeout(() => killGroup(child, "SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
      // The shell may be gone while what it started lingers: the group goes too.
      killGroup(child, "SIGKILL");
    },
  };

  const deadline = Date.now() + options.readyTimeoutMs;
  for (;;) {
    if (spawnError) throw new ServerStartError(`\`${command}\` could not start: ${(spawnError as Error).message}`);
    if (exit) {
      const { code, signal } = exit as { code: number | null; signal: NodeJS.Signals | null };
      throw new ServerStartError(`\`${command}\` exited (${signal ? `signal ${signal}` : `code ${code}`}) before ${ready} answered; its output ended:\n${output.lines()}`);
    }
    if (await answers(ready)) return server;
    if (Date.now() >= deadline) {
      await server.stop();
      throw new ServerStartError(`\`${command}\` did not answer at ${ready} within ${options.readyTimeoutMs} ms (ready-timeout); it was stopped. Its output ended:\n${output.lines()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}
