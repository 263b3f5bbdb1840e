/**
 * `peer-conformance [TARGET]` (DESIGN.md §4): parses and checks every input before the first case,
 * runs the suite through the runner library with progress on stderr, renders the reporters,
 * writes replay files for failures and sets the exit code: 0 every required case passed, 1 a case
 * failed (or the baseline is stale), 2 the harness could not judge the target (usage error,
 * unreachable or not Peer Protocol, gone mid-run, a harness error, a failed --token-command).
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import type { Case } from "./case.ts";
import { ALL_CASES } from "./cases/index.ts";
import { coverage } from "./coverage.ts";
import { EXCLUSIONS } from "./exclusions.ts";
import { ALL_CLIENT_CASES } from "./client-mode/cases/index.ts";
import { runClientConformance } from "./client-mode/client-runner.ts";
import { renderClientList } from "./client-mode/coverage.ts";
import { defaultClientCommand } from "./client-mode/default-client.ts";
import { LISTEN_DEFAULTS, listenForClient, type ListeningClient } from "./client-mode/listening-client.ts";
import { startCaseListener } from "./client-mode/listener.ts";
import { matrixMain } from "./matrix/index.ts";
import { progressPrinter } from "./progress.ts";
import { REPORTER_NAMES, REPORTERS } from "./reporters/index.ts";
import { renderPretty } from "./reporters/pretty.ts";
import { TOOL_VERSION, type Report } from "./report.ts";
import { redactSecrets } from "./probe/redact.ts";
import { commandTokenProvider, TOKEN_COMMAND_TIMEOUT_MS } from "./probe/token-command.ts";
import { TokenProviderError } from "./probe/token-source.ts";
import { DEFAULTS, runConformance, sameNode, type RunEvent } from "./runner.ts";
import { select, selectors, UsageError } from "./selection.ts";
import { TargetError } from "./target.ts";
import { baselineSection, checkBaselineIds, evaluate, parseBaseline, type BaselineEntry } from "./verdict.ts";

export const USAGE = `Usage: peer-conformance [TARGET] [options]
       peer-conformance client [--command CMD | --listen PORT] [options]   the runner is the server: tests a client
       peer-conformance matrix FILE [options]   several targets, one matrix (matrix --help)

Drives a Peer Protocol v1.2 server through the spec and reports per requirement.
TARGET is a ws(s):// URL of /ws/v1/peers or an http(s):// base URL; without it an embedded
reference server is started on a free loopback port.

Options:
  --peer-target URL2       a second node of the same deployment as TARGET (one logical server: the
                           same server_id and identity key), in the same forms as TARGET; the
                           cluster cases run across the two (resume, routing, replay caches,
                           broadcasts and identity bindings shared between nodes). Without it they
                           are skipped. Needs TARGET, and a node other than TARGET
  --list                   list the cases (id, level, requirements) and exit
  --only X                 run only cases matching X: case id (globs with *), requirement id
                           (PP-HS-004) or area (PP-HS), suite (handshake) or section (6, 7.4);
                           repeatable, comma-separated
  --skip X                 skip cases matching X (same forms as --only)
  --strict                 SHOULD failures fail the run instead of warning
  --slow                   also run cases that wait for long protocol timers (heartbeat, ...)
  --runs N                 fast-check runs per property (default ${DEFAULTS.runs})
  --time-budget S          each property keeps generating runs for S seconds (at least --runs),
                           for nightly jobs; the per-case timeout grows to match
  --seed S                 the run seed, a 32-bit integer (default: random, printed)
  --path P                 fast-check path of a counterexample (with --only naming one case),
                           with ~REPLAYPATH for a generated scenario, as the report prints it
  --replay FILE            re-run a failure from its conformance-replay-*.json file
  --timeout MS             per-case timeout in milliseconds (default ${DEFAULTS.timeoutMs}, with --slow ${DEFAULTS.slowTimeoutMs})
  --reporter R[=FILE]      ${REPORTER_NAMES.join(" | ")}, to FILE (inside --out-dir unless absolute) or
                           to stdout; repeatable, at most one to stdout. The summary stays on stdout
                           (on stderr when a report goes to stdout)
  --out-dir DIR            where replay files and relative report files go (default ./conformance-results)
  --quiet                  no summary on the console (progress and errors still go to stderr)
  --ca FILE                trust these PEM certificates for a wss:// or https:// target
  --insecure               do not verify the target's TLS certificate (like curl -k)
  --forbidden-origin ORIGIN an Origin the target's allowlist refuses; enables the Origin case (PP-AUTH-009)
  --token-command CMD      for a target whose tokens come from elsewhere: run CMD (through the
                           shell) once per probe identity and present what it prints on stdout as
                           that identity's bearer token. CMD gets PEER_ENTITY_ID, PEER_PUBLIC_KEY
                           and PEER_PRIVATE_KEY (base64url Ed25519 key and seed of a throwaway probe
                           identity) and PEER_TARGET (the http(s) base URL); it must answer within
                           ${TOKEN_COMMAND_TIMEOUT_MS / 1000} s, and a failure stops the run (exit 2). Without it, a target whose
                           discovery says auth.required gets each probe's token by spec §4.5.
                           Tokens are never written to reports, traces or replay files
  --command CMD            client mode: your client's test driver, started through the shell once per
                           case with the scenario contract's environment (spec §18.1: PEER_URL,
                           PEER_SCENARIO, PEER_ENTITY_ID, PEER_PRIVATE_KEY, PEER_SERVER_ID,
                           PEER_SERVER_KEY, ...); exit 0 scenario completed, 1 refused the server.
                           Default: the reference client's driver (peer-client-driver)
  --listen PORT            client mode, for a client the runner cannot start: serve a control endpoint
                           on 127.0.0.1:PORT (0: a free port; the URL goes to stderr). The client
                           loops: GET /next (the case's variables as JSON; 204 when none is left),
                           runs the case, POST /result {"id", "status"} with the exit status it
                           would have; GET /cases lists the cases. A client that does not ask for a
                           case within ${LISTEN_DEFAULTS.waitMs / 1000} s ends the run (exit 2)
  --expected-failures FILE case ids expected to fail (JSON array or one id per line); they do
                           not fail the run, but an entry for a passing case does
  -h, --help               this help
  --version                the tool version

Progress goes to stderr, one line per case (an updating line on a terminal). Before the first case a
pre-flight reads discovery and makes a first handshake: a target that does not speak Peer Protocol
v1.2 stops the run there.

Verdicts: pass, fail, warn (a failed SHOULD), skip, and error: the harness failed (a probe exception,
or the target stopped answering mid-run), which says nothing about the target.

Exit codes: 0 every required case passed; 1 a case failed or a baseline entry is stale; 2 usage
error, unreachable target, not a Peer Protocol v1.2 target, target stopped answering mid-run, a
harness error, or a failed --token-command.`;

export interface CliIo {
  stdout: { write(text: string): unknown; isTTY?: boolean };
  stderr: { write(text: string): unknown; isTTY?: boolean };
  cwd: string;
}

interface ReporterSpec {
  name: string;
  file?: string;
}

export interface CliOptions {
  target?: string;
  /** A second node of the same deployment (--peer-target), for the cluster cases. */
  peerTarget?: string;
  list: boolean;
  only: string[];
  skip: string[];
  strict: boolean;
  slow: boolean;
  runs?: number;
  seed?: number;
  path?: string;
  replay?: string;
  timeoutMs?: number;
  timeBudgetS?: number;
  reporters: ReporterSpec[];
  outDir: string;
  quiet: boolean;
  ca?: string;
  insecure: boolean;
  expectedFailures?: string;
  forbiddenOrigin?: string;
  tokenCommand?: string;
  /** `peer-conformance client`: the runner plays the server and tests a client. */
  client: boolean;
  /** The client's test driver (client mode; default: the reference client's). */
  command?: string;
  /** Client mode: the control endpoint's port for a listening client (0: a free one). */
  listen?: number;
  help: boolean;
  version: boolean;
}

function integer(flag: string, value: string | undefined, min: number, max: number, form: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value.trim())) throw new UsageError(`${flag} expects ${form}, got '${value}'`);
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new UsageError(`${flag} expects ${form}, got '${value}'`);
  return n;
}

/** Parses argv (without node and the script). Throws UsageError naming the flag and the expected form. */
export function parseCli(argv: string[]): CliOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        "peer-target": { type: "string" },
        list: { type: "boolean" },
        only: { type: "string", multiple: true },
        skip: { type: "string", multiple: true },
        strict: { type: "boolean" },
        slow: { type: "boolean" },
        runs: { type: "string" },
        seed: { type: "string" },
        path: { type: "string" },
        replay: { type: "string" },
        timeout: { type: "string" },
        "time-budget": { type: "string" },
        reporter: { type: "string", multiple: true },
        "out-dir": { type: "string" },
        quiet: { type: "boolean" },
        ca: { type: "string" },
        insecure: { type: "boolean" },
        "expected-failures": { type: "string" },
        "forbidden-origin": { type: "string" },
        "token-command": { type: "string" },
        command: { type: "string" },
        listen: { type: "string" },
        help: { type: "boolean", short: "h" },
        version: { type: "boolean" },
      },
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const unknown = /Unknown option '([^']+)'/.exec(message);
    if (unknown) throw new UsageError(`unknown flag ${unknown[1]} (see --help)`);
    const missing = /Option '(?:-\w, )?(--[\w-]+)(?: <value>)?' argument missing/.exec(message);
    if (missing) throw new UsageError(`${missing[1]} needs a value (see --help)`);
    const ambiguous = /Option '(?:-\w, )?(--[\w-]+)' argument is ambiguous/.exec(message);
    if (ambiguous) throw new UsageError(`${ambiguous[1]}: write a value that starts with '-' as ${ambiguous[1]}=VALUE`);
    throw new UsageError(message.split("\n")[0] ?? message);
  }
  const { values } = parsed;
  const client = parsed.positionals[0] === "client";
  const positionals = client ? parsed.positionals.slice(1) : parsed.positionals;
  if (client && positionals.length > 0) throw new UsageError(`peer-conformance client takes no TARGET (the runner is the server); got ${positionals.join(" ")}`);
  if (!client && values.command !== undefined) throw new UsageError("--command belongs to peer-conformance client (a client's test driver)");
  if (values.command !== undefined && values.command.trim() === "") throw new UsageError("--command needs the command that starts your client's test driver");
  if (!client && values.listen !== undefined) throw new UsageError("--listen belongs to peer-conformance client (a client that connects by itself)");
  if (values.command !== undefined && values.listen !== undefined) throw new UsageError("--command and --listen are two ways to attach a client: give one (--command starts a driver per case, --listen waits for a client that asks for its cases)");
  if (client) {
    const serverOnly = ["peer-target", "slow", "runs", "path", "replay", "time-budget", "forbidden-origin", "token-command", "ca", "insecure"].filter((flag) => values[flag as keyof typeof values] !== undefined);
    if (serverOnly.length > 0) throw new UsageError(`${serverOnly.map((f) => `--${f}`).join(", ")} ${serverOnly.length === 1 ? "applies" : "apply"} to server mode only, not to peer-conformance client`);
  }
  if (positionals.length > 1) throw new UsageError(`expected at most one TARGET, got ${positionals.length}: ${positionals.join(" ")}`);
  const reporters = (values.reporter ?? []).map((spec): ReporterSpec => {
    const [name, ...rest] = spec.split("=");
    const file = rest.join("=");
    if (!name || !REPORTER_NAMES.includes(name)) throw new UsageError(`--reporter expects ${REPORTER_NAMES.join("|")}[=FILE], got '${spec}'`);
    if (rest.length > 0 && file === "") throw new UsageError(`--reporter ${name}= needs a file name after '='`);
    return file ? { name, file } : { name };
  });
  const toStdout = reporters.filter((r) => !r.file).map((r) => r.name);
  if (toStdout.length > 1) throw new UsageError(`at most one --reporter can write to stdout, got ${toStdout.join(", ")}: give the others a file (--reporter ${toStdout[1]}=FILE)`);
  if (values["out-dir"] !== undefined && values["out-dir"].trim() === "") throw new UsageError("--out-dir needs a directory");
  if (values.ca !== undefined && values.ca.trim() === "") throw new UsageError("--ca needs a PEM file");
  const target = positionals[0];
  if (target !== undefined && !/^(wss?|https?):\/\/./i.test(target)) throw new UsageError(`TARGET must be a ws(s):// or http(s):// URL, got '${target}'`);
  const peerTarget = values["peer-target"];
  if (peerTarget !== undefined) {
    if (!/^(wss?|https?):\/\/./i.test(peerTarget)) throw new UsageError(`--peer-target must be a ws(s):// or http(s):// URL of a second node of the same deployment, got '${peerTarget}'`);
    if (target === undefined && !values.list && !values.replay) throw new UsageError("--peer-target needs TARGET: the first node of the same deployment (the embedded reference server is a single node)");
    if (target !== undefined && sameNode(target, peerTarget)) throw new UsageError(`--peer-target ${peerTarget} is TARGET itself: give another node of the same deployment (another host or port)`);
  }
  return {
    target,
    ...(peerTarget !== undefined ? { peerTarget } : {}),
    list: values.list ?? false,
    only: selectors(values.only),
    skip: selectors(values.skip),
    strict: values.strict ?? false,
    slow: values.slow ?? false,
    runs: integer("--runs", values.runs, 1, 1_000_000, "a positive integer"),
    seed: integer("--seed", values.seed, -2147483648, 2147483647, "a 32-bit integer (-2147483648 to 2147483647)"),
    path: values.path === undefined ? undefined : checkPath(values.path),
    replay: values.replay,
    timeoutMs: integer("--timeout", values.timeout, 1, 3_600_000, "a positive number of milliseconds"),
    timeBudgetS: integer("--time-budget", values["time-budget"], 1, 86_400, "a positive number of seconds (at most 86400)"),
    reporters,
    outDir: values["out-dir"] ?? "conformance-results",
    quiet: values.quiet ?? false,
    ...(values.ca !== undefined ? { ca: values.ca } : {}),
    insecure: values.insecure ?? false,
    expectedFailures: values["expected-failures"],
    forbiddenOrigin: forbiddenOrigin(values["forbidden-origin"]),
    tokenCommand: tokenCommand(values["token-command"]),
    client,
    ...(values.command !== undefined ? { command: values.command } : {}),
    ...(values.listen !== undefined ? { listen: integer("--listen", values.listen, 0, 65535, "a port from 0 (any free one) to 65535") } : {}),
    help: values.help ?? false,
    version: values.version ?? false,
  };
}

function forbiddenOrigin(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!/^https?:\/\/[^/\s]+$/i.test(value)) throw new UsageError(`--forbidden-origin expects an Origin such as https://evil.example (scheme and host, no path), got '${value}'`);
  return value;
}

function tokenCommand(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (value.trim() === "") throw new UsageError("--token-command needs a command that prints a token");
  return value;
}

function checkPath(path: string): string {
  // A commands property adds its replay hint after "~" (fast-check's replayPath), as the report prints it.
  if (!/^\d+(:\d+)*(~[A-Za-z0-9+/:]*)?$/.test(path)) throw new UsageError(`--path expects a fast-check path such as 3:0:1 (or 3:0:1~AB:C for a generated scenario, as the report prints it), got '${path}'`);
  return path;
}

/** The replay file written for a failed case and read by --replay. */
export interface ReplayFile {
  tool: "peer-conformance";
  case: string;
  seed: number;
  path?: string;
  target: string;
  /** The second node the failed case ran across (a cluster case), as given to --peer-target. */
  peerTarget?: string;
  runs?: number;
}

export function replayFileName(caseId: string): string {
  return `conformance-replay-${caseId.replace(/[^A-Za-z0-9._-]/g, "-")}.json`;
}

export function readReplay(file: string): ReplayFile {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new UsageError(`--replay ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const r = value as Partial<ReplayFile>;
  if (!r || typeof r.case !== "string" || typeof r.seed !== "number" || typeof r.target !== "string" || (r.peerTarget !== undefined && typeof r.peerTarget !== "string")) throw new UsageError(`--replay ${file}: expected {"case", "seed", "target", "path"?} as written by peer-conformance`);
  return r as ReplayFile;
}

export function renderList(cases: readonly Case[] = ALL_CASES): string {
  const cov = coverage(ALL_CASES, EXCLUSIONS);
  const lines: string[] = [];
  let section = "";
  for (const c of cases) {
    if (c.section !== section) {
      section = c.section;
      lines.push("", section);
    }
    const flags = [c.level, ...(c.requires ?? []).map((r) => `requires ${r}`), ...(c.slow ? ["slow"] : []), ...(c.needsPeerTarget ? ["needs --peer-target"] : [])].join(", ");
    lines.push(`  ${c.id}  [${flags}] ${c.requirements.join(" ")}`, `      ${c.title}`);
  }
  lines.push("", `${cases.length} of ${ALL_CASES.length} cases; MUST requirements covered ${cov.covered.length}/${cov.totalMust}, excluded ${cov.excluded.length}, without a case ${cov.uncovered.length}: ${cov.uncovered.join(" ")}`);
  return `${lines.join("\n").trimStart()}\n`;
}

/** Runs the CLI; returns the exit code. Never calls process.exit, so tests can drive it. */
export async function main(argv: string[], io: CliIo = { stdout: process.stdout, stderr: process.stderr, cwd: process.cwd() }): Promise<number> {
  if (argv[0] === "matrix") return matrixMain(argv.slice(1), io);
  let options: CliOptions;
  try {
    options = parseCli(argv);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`peer-conformance: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  if (options.help) {
    io.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (options.version) {
    io.stdout.write(`${TOOL_VERSION}\n`);
    return 0;
  }
  if (options.list && options.client) {
    const { selected, unmatched } = select(ALL_CLIENT_CASES, options.only, options.skip);
    if (unmatched.length > 0) {
      io.stderr.write(`peer-conformance: ${unmatched.map((s) => `'${s}'`).join(", ")} match no client case id, requirement id, suite or section\n`);
      return 2;
    }
    io.stdout.write(renderClientList(selected));
    return 0;
  }
  if (options.list) {
    const { selected, unmatched } = select(ALL_CASES, options.only, options.skip);
    if (unmatched.length > 0) {
      io.stderr.write(`peer-conformance: ${unmatched.map((s) => `'${s}'`).join(", ")} match no case id, requirement id, suite or section\n`);
      return 2;
    }
    io.stdout.write(renderList(selected));
    return 0;
  }

  let listening: ListeningClient | undefined;
  try {
    let { target, seed, path, only, peerTarget } = options;
    let runs = options.runs;
    if (options.replay) {
      const replay = readReplay(options.replay);
      target ??= replay.target === "embedded" ? undefined : replay.target;
      seed ??= replay.seed;
      path ??= replay.path || undefined;
      runs ??= replay.runs;
      peerTarget ??= replay.peerTarget;
      only = [replay.case];
    }
    // Everything the user gave is checked before the first case: a typo costs seconds, not a run.
    const outDir = resolve(io.cwd, options.outDir);
    const reporters = options.reporters.map((spec) => ({ reporter: REPORTERS[spec.name]!(), spec, path: spec.file ? resolve(outDir, spec.file) : undefined }));
    for (const r of reporters) if (r.path) checkWritable(r.path, `--reporter ${r.spec.name}=${r.spec.file}`);
    let baseline: BaselineEntry[] = [];
    if (options.expectedFailures) {
      let text: string;
      try {
        text = readFileSync(resolve(io.cwd, options.expectedFailures), "utf8");
      } catch (error) {
        throw new UsageError(`--expected-failures ${options.expectedFailures}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
      }
      baseline = parseBaseline(text, options.expectedFailures);
      checkBaselineIds(baseline, (options.client ? ALL_CLIENT_CASES : ALL_CASES).map((c) => c.id), options.expectedFailures);
    }
    const tls = options.ca !== undefined || options.insecure ? { ...(options.ca !== undefined ? { ca: readCa(resolve(io.cwd, options.ca), options.ca) } : {}), insecure: options.insecure } : undefined;

    const runNotes: string[] = [];
    const progress = progressPrinter(io.stderr);
    const onEvent = (event: RunEvent) => {
      if (event.type === "start") runNotes.push(...event.notes);
      progress(event);
    };
    const embeddedClient = defaultClientCommand();
    if (options.listen !== undefined) {
      listening = await listenForClient({ port: options.listen }).catch((error: NodeJS.ErrnoException) => {
        throw new UsageError(`--listen ${options.listen}: cannot listen on 127.0.0.1:${options.listen} (${error.code ?? error.message})`);
      });
      io.stderr.write(`peer-conformance: listening for a client on ${listening.url}: GET ${listening.url}/next for a case, POST ${listening.url}/result when it ends (spec §18.1)\n`);
    }
    const clientOptions = listening ? { client: listening } : { command: options.command ?? embeddedClient.command, ...(options.command ? {} : { cwd: embeddedClient.cwd, label: embeddedClient.label }) };
    const report: Report = options.client
      ? await runClientConformance({ ...clientOptions, cases: ALL_CLIENT_CASES, startListener: startCaseListener, only, skip: options.skip, strict: options.strict, seed, ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}), onEvent })
      : await runConformance({ target, ...(peerTarget !== undefined ? { peerTarget } : {}), only, skip: options.skip, strict: options.strict, slow: options.slow, runs, seed, path, timeoutMs: options.timeoutMs, ...(options.timeBudgetS ? { timeBudgetMs: options.timeBudgetS * 1000 } : {}), onEvent, ...(options.forbiddenOrigin ? { forbiddenOrigin: options.forbiddenOrigin } : {}), ...(options.tokenCommand ? { tokenProvider: commandTokenProvider(options.tokenCommand) } : {}), ...(tls ? { tls } : {}) });
    const outcome = evaluate(report, baseline, (options.client ? ALL_CLIENT_CASES : ALL_CASES).map((c) => c.id));
    if (options.expectedFailures) report.baseline = baselineSection(options.expectedFailures, baseline, outcome);

    const replayFiles: Record<string, string> = {};
    // Client cases have no property counterexample to replay yet: their failures are re-run by --only.
    for (const c of options.client ? [] : report.cases.filter((r) => r.verdict === "fail")) {
      const file = join(outDir, replayFileName(c.id));
      const content: ReplayFile = { tool: "peer-conformance", case: c.id, seed: report.seed, target: report.target, ...(report.peer_target !== undefined ? { peerTarget: report.peer_target } : {}), ...(c.replay?.path ? { path: c.replay.path } : {}), ...(runs ? { runs } : {}) };
      try {
        mkdirSync(outDir, { recursive: true });
        writeFileSync(file, `${JSON.stringify(content, null, 2)}\n`);
        replayFiles[c.id] = shown(io.cwd, file);
      } catch (error) {
        // A read-only directory must not hide the results: say so, and go on.
        io.stderr.write(`peer-conformance: cannot write the replay file ${shown(io.cwd, file)} (${(error as NodeJS.ErrnoException).code ?? String(error)})\n`);
      }
    }
    const rerun = `peer-conformance ${options.client ? `client ${options.command ? `--command ${JSON.stringify(options.command)} ` : ""}${options.listen !== undefined ? `--listen ${options.listen} ` : ""}` : report.target === "embedded" ? "" : `${report.target} `}${report.peer_target !== undefined ? `--peer-target ${report.peer_target} ` : ""}--seed ${report.seed}${options.only.length > 0 ? ` --only ${options.only.join(",")}` : ""}${options.skip.length > 0 ? ` --skip ${options.skip.join(",")}` : ""}${options.slow ? " --slow" : ""}${runs ? ` --runs ${runs}` : ""}`;
    const context = (color: boolean) => ({ runNotes, replayFiles, rerun, color });
    const toStdout = reporters.filter((r) => !r.path);
    for (const { reporter, spec, path: file } of reporters) {
      if (!file) continue;
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, reporter.render(report, context(false)));
      io.stderr.write(`peer-conformance: wrote the ${spec.name} report to ${shown(io.cwd, file)}\n`);
    }
    for (const { reporter } of toStdout) io.stdout.write(reporter.render(report, context(io.stdout.isTTY === true && !process.env.NO_COLOR)));
    // The console keeps its summary when the reports go to files; a machine report on stdout moves it to stderr.
    if (!options.quiet && !toStdout.some((r) => r.spec.name === "pretty")) {
      const stream = toStdout.length > 0 ? io.stderr : io.stdout;
      stream.write(renderPretty(report, context(stream.isTTY === true && !process.env.NO_COLOR)));
    }
    if (outcome.stale.length > 0) io.stderr.write(`peer-conformance: stale expected-failures entries (remove them): ${outcome.staleEntries.map((e) => `${e.id} (${e.why})`).join(", ")}\n`);
    if (outcome.errors.length > 0) io.stderr.write(`peer-conformance: ${outcome.errors.length} case${outcome.errors.length === 1 ? "" : "s"} ended in a harness error, no verdict on the target: ${outcome.errors.join(", ")}\n`);
    if (report.aborted) io.stderr.write(`peer-conformance: run aborted: ${report.aborted}\n`);
    return outcome.exitCode;
  } catch (error) {
    // A token provider that fails is the harness's problem, like a usage error: no verdict on the target.
    if (error instanceof UsageError || error instanceof TargetError || error instanceof TokenProviderError) {
      io.stderr.write(`peer-conformance: ${redactSecrets(error.message)}\n`);
      return 2;
    }
    throw error;
  } finally {
    await listening?.close();
  }
}

/** A path as the user can type it from where they are. */
function shown(cwd: string, file: string): string {
  const rel = relative(cwd, file);
  return rel.startsWith("..") || isAbsolute(rel) ? file : rel;
}

/**
 * A report file must be writable before the run starts, not found unwritable after it. Tried for
 * real (as root, access(2) says yes to almost anything): its directory is made and the file opened
 * for appending, then whatever this made is removed again, so a run that stops early leaves nothing.
 */
function checkWritable(file: string, flag: string): void {
  try {
    if (existsSync(file) && statSync(file).isDirectory()) throw new UsageError(`${flag}: ${file} is a directory`);
    const madeDir = mkdirSync(dirname(file), { recursive: true });
    const existed = existsSync(file);
    closeSync(openSync(file, "a"));
    if (!existed) rmSync(file);
    if (madeDir) rmSync(madeDir, { recursive: true });
  } catch (error) {
    if (error instanceof UsageError) throw error;
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    const words: Record<string, string> = { EACCES: "permission denied", EPERM: "permission denied", EROFS: "read-only file system", EEXIST: "part of its path is a file, not a directory", ENOTDIR: "part of its path is a file, not a directory" };
    throw new UsageError(`${flag}: cannot write ${file} (${words[code] ?? code})`);
  }
}

function readCa(file: string, given: string): Buffer {
  let pem: Buffer;
  try {
    pem = readFileSync(file);
  } catch (error) {
    throw new UsageError(`--ca ${given}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  if (!pem.toString("latin1").includes("-----BEGIN CERTIFICATE-----")) throw new UsageError(`--ca ${given}: expected PEM certificates (-----BEGIN CERTIFICATE-----)`);
  return pem;
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href;
if (invokedDirectly) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`peer-conformance: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 2;
    },
  );
}
