/**
 * `peer-conformance matrix FILE`: runs the suite against every target of a targets file in turn,
 * with one seed for all so that their results compare, starting (and always stopping) the servers
 * that are given as commands, and writes a targets × cases matrix (matrix.md, matrix.html) with
 * each target's own html report beside it. Exit codes: 0 every target's run passed, 1 one failed
 * (or did not run), 2 usage error.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { redactSecrets } from "../probe/redact.ts";
import { commandTokenProvider } from "../probe/token-command.ts";
import { TokenProviderError } from "../probe/token-source.ts";
import { renderHtml } from "../reporters/html.ts";
import { randomSeed, runConformance, type RunEvent } from "../runner.ts";
import { UsageError } from "../selection.ts";
import { normalizeTarget, TargetError } from "../target.ts";
import { renderMatrixHtml, renderMatrixMarkdown, runPassed, type TargetRun } from "./render.ts";
import { freePort, ServerStartError, startServer, withPort, type StartedServer } from "./server.ts";
import { DEFAULT_READY_TIMEOUT_MS, effectiveOptions, parseMatrixFile, slug, type MatrixFile, type MatrixTarget } from "./targets.ts";

export const MATRIX_USAGE = `Usage: peer-conformance matrix FILE [options]

Runs the suite against every target of FILE (YAML) in turn, with one seed for all, and writes a
targets × cases matrix. A target is a running server (url) or a command that starts one:

  seed: 42                       # optional; run options shared by all targets:
  only: [handshake]              #   only, skip, runs, slow, strict, timeout (ms), token-command
  targets:
    - name: reference
      command: node bin/peer-server.js --port {port}   # {port}: a free port the matrix picks
      url: http://127.0.0.1:{port}                     # default; where the runner connects
      ready: http://127.0.0.1:{port}/peers/capabilities  # default: discovery of url
      ready-timeout: 30000       # ms; cwd (relative to FILE) and env also apply to commands
    - name: staging
      url: wss://staging.example/ws/v1/peers
      skip: [limits]             # per-target run options override the shared ones

Options:
  --out-dir DIR     where matrix.md, matrix.html and targets/NAME.html go
                    (default conformance-results)
  --seed S          the seed of every run (default: FILE's seed, else random, printed)
  --json            also write each target's JSON report (targets/NAME.json)
  -h, --help        this help

Exit codes: 0 every target's run passed; 1 a target failed or could not be run; 2 usage error.`;

export interface MatrixIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  cwd: string;
}

interface MatrixArgs {
  file: string;
  outDir: string;
  seed?: number;
  json: boolean;
}

function parseMatrixArgs(argv: string[]): MatrixArgs | "help" {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, strict: true, options: { "out-dir": { type: "string" }, seed: { type: "string" }, json: { type: "boolean" }, help: { type: "boolean", short: "h" } } });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const unknown = /Unknown option '([^']+)'/.exec(message);
    throw new UsageError(unknown ? `unknown flag ${unknown[1]} (see matrix --help)` : (message.split("\n")[0] ?? message));
  }
  const { values, positionals } = parsed;
  if (values.help) return "help";
  if (positionals.length !== 1) throw new UsageError(`expected one targets FILE, got ${positionals.length === 0 ? "none" : positionals.join(" ")} (see matrix --help)`);
  let seed: number | undefined;
  if (values.seed !== undefined) {
    seed = Number(values.seed);
    if (!/^-?\d+$/.test(values.seed.trim()) || !Number.isSafeInteger(seed) || seed < -2147483648 || seed > 2147483647) throw new UsageError(`--seed expects a 32-bit integer (-2147483648 to 2147483647), got '${values.seed}'`);
  }
  if (values["out-dir"] !== undefined && values["out-dir"].trim() === "") throw new UsageError("--out-dir needs a directory");
  return { file: positionals[0]!, outDir: values["out-dir"] ?? "conformance-results", json: values.json ?? false, ...(seed !== undefined ? { seed } : {}) };
}

/** Stops the running server if the matrix is interrupted, then lets the signal do what it would have done. */
function stopOnSignal(current: () => StartedServer | null): () => void {
  const handler = (signal: NodeJS.Signals) => {
    const server = current();
    if (server) {
      try {
        process.kill(-server.pid, "SIGKILL");
      } catch {
        // gone already
      }
    }
    remove();
    process.kill(process.pid, signal);
  };
  const remove = () => {
    process.off("SIGINT", handler);
    process.off("SIGTERM", handler);
  };
  process.once("SIGINT", handler);
  process.once("SIGTERM", handler);
  return remove;
}

async function runTarget(file: MatrixFile, t: MatrixTarget, seed: number, fileDir: string, io: MatrixIo, log: (line: string) => void, track: (server: StartedServer | null) => void): Promise<{ run: TargetRun; runNotes: string[] }> {
  const options = effectiveOptions(file, t);
  let server: StartedServer | null = null;
  let url = t.url ?? "http://127.0.0.1:{port}";
  const runNotes: string[] = [];
  try {
    if (t.command) {
      const port = await freePort();
      url = withPort(url, port);
      const ready = t.ready ? withPort(t.ready, port) : `${normalizeTarget(url).baseUrl}/peers/capabilities`;
      server = await startServer({ command: t.command, port, ready, readyTimeoutMs: t.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS, cwd: t.cwd ? resolve(fileDir, t.cwd) : io.cwd, ...(t.env ? { env: t.env } : {}) });
      track(server);
      log(`started \`${withPort(t.command, server.port)}\` (pid ${server.pid}); ready`);
    }
    const onEvent = (event: RunEvent) => {
      if (event.type === "start") {
        runNotes.push(...event.notes);
        log(`running ${event.total} cases against ${url}`);
      }
    };
    const report = await runConformance({
      target: url,
      seed,
      onEvent,
      ...(options.only ? { only: options.only } : {}),
      ...(options.skip ? { skip: options.skip } : {}),
      ...(options.runs ? { runs: options.runs } : {}),
      ...(options.slow ? { slow: true } : {}),
      ...(options.strict ? { strict: true } : {}),
      ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
      ...(options.tokenCommand ? { tokenProvider: commandTokenProvider(options.tokenCommand) } : {}),
    });
    const s = report.summary;
    log(`${s.passed} passed, ${s.failed} failed, ${s.warned} warned, ${s.skipped} skipped${s.errors ? `, ${s.errors} harness errors` : ""} of ${s.total} in ${(report.duration_ms / 1000).toFixed(1)} s`);
    return { run: { name: t.name, url: redactSecrets(url), ...(t.command ? { command: t.command } : {}), report }, runNotes };
  } catch (error) {
    const known = error instanceof ServerStartError || error instanceof TargetError || error instanceof UsageError || error instanceof TokenProviderError;
    const message = known ? error.message : `internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`;
    log(`not run: ${message.split("\n")[0]}`);
    return { run: { name: t.name, url: redactSecrets(url), ...(t.command ? { command: t.command } : {}), error: redactSecrets(message) }, runNotes };
  } finally {
    if (server) {
      await server.stop();
      track(null);
    }
  }
}

/** `peer-conformance matrix ...`; returns the exit code and never calls process.exit. */
export async function matrixMain(argv: string[], io: MatrixIo = { stdout: process.stdout, stderr: process.stderr, cwd: process.cwd() }): Promise<number> {
  let args: MatrixArgs;
  let file: MatrixFile;
  try {
    const parsed = parseMatrixArgs(argv);
    if (parsed === "help") {
      io.stdout.write(`${MATRIX_USAGE}\n`);
      return 0;
    }
    args = parsed;
    let text: string;
    try {
      text = readFileSync(resolve(io.cwd, args.file), "utf8");
    } catch (error) {
      throw new UsageError(`${args.file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
    }
    file = parseMatrixFile(text, args.file);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`peer-conformance matrix: ${error.message}\n`);
      return 2;
    }
    throw error;
  }

  const seed = args.seed ?? file.seed ?? randomSeed();
  const outDir = resolve(io.cwd, args.outDir);
  const fileDir = dirname(resolve(io.cwd, args.file));
  const startedAt = new Date().toISOString();
  try {
    mkdirSync(join(outDir, "targets"), { recursive: true });
  } catch (error) {
    io.stderr.write(`peer-conformance matrix: --out-dir ${args.outDir}: cannot create it (${(error as NodeJS.ErrnoException).code ?? String(error)})\n`);
    return 2;
  }
  io.stderr.write(`peer-conformance matrix: ${file.targets.length} targets, seed ${seed}\n`);

  let current: StartedServer | null = null;
  const removeSignalHandlers = stopOnSignal(() => current);
  const runs: TargetRun[] = [];
  try {
    for (const [index, t] of file.targets.entries()) {
      const log = (line: string) => io.stderr.write(`[${index + 1}/${file.targets.length}] ${t.name}: ${line}\n`);
      const { run, runNotes } = await runTarget(file, t, seed, fileDir, io, log, (server) => (current = server));
      if (run.report) {
        const name = slug(t.name);
        writeFileSync(join(outDir, "targets", `${name}.html`), renderHtml(run.report, { runNotes, replayFiles: {}, rerun: `peer-conformance ${run.url} --seed ${seed}`, color: false }));
        run.htmlReport = `targets/${name}.html`;
        if (args.json) writeFileSync(join(outDir, "targets", `${name}.json`), `${JSON.stringify(run.report, null, 2)}\n`);
      }
      runs.push(run);
    }
  } finally {
    removeSignalHandlers();
  }

  const meta = { file: args.file, seed, startedAt };
  writeFileSync(join(outDir, "matrix.md"), renderMatrixMarkdown(runs, meta));
  writeFileSync(join(outDir, "matrix.html"), renderMatrixHtml(runs, meta));
  const shown = isAbsolute(args.outDir) ? outDir : relative(io.cwd, outDir) || ".";
  const passed = runs.filter(runPassed).length;
  io.stdout.write(`${passed} of ${runs.length} targets passed (seed ${seed}): ${runs.map((run) => `${run.name} ${runPassed(run) ? "pass" : run.report ? "fail" : "not run"}`).join(", ")}\nwrote ${join(shown, "matrix.md")}, ${join(shown, "matrix.html")} and ${join(shown, "targets")}/\n`);
  return passed === runs.length ? 0 : 1;
}
