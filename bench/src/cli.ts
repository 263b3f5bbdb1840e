/**
 * `peer-bench [TARGET]`: benchmarks a Peer Protocol server against a raw `ws` baseline measured in
 * the same run. Without TARGET it starts the reference `peer-server` in a separate process on a free
 * loopback port. Bad flags get a message naming the flag and the expected form, and exit code 2.
 *
 * Exit codes: 0 the run finished (targets are reported, not asserted); 1 a scenario stopped early
 * or the run hit its time limit; 2 usage error or unreachable target.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { parseArgs } from "node:util";
import { BOUNDS, defaultOptions, REPORTER_KINDS, type BenchOptions, type ReporterKind, type ReporterSpec } from "./options.ts";
import { SCENARIO_NAMES, type BenchReport, type ScenarioName } from "./report-schema.ts";
import { renderHtml } from "./reporters/html.ts";
import { renderJson } from "./reporters/json.ts";
import { renderMarkdown } from "./reporters/markdown.ts";
import { renderPretty } from "./reporters/pretty.ts";
import { runBench } from "./run.ts";
import { TargetError } from "./target.ts";

const USAGE = `usage: peer-bench [TARGET] [options]

  TARGET                     http(s) base URL or ws(s) URL of a Peer Protocol server; none starts the
                             reference peer-server in a separate process on a free loopback port.
                             Non-loopback targets are accepted only here, explicitly.
  --scenario NAME            run only NAME (repeatable, or a comma list): ${SCENARIO_NAMES.join(", ")}
                             (every one but tail, cluster and workers by default; tail repeats echo's p99 at
                             half of max rate alone; cluster (two nodes on Redis against one) and workers
                             (peer-server --workers 1 and 2) start a redis-server, which must be installed)
  --quick                    every scenario briefly (~30 s in all, 1,000 sessions)
  --duration S               seconds measured per figure (default 3; quick 0.4; ${BOUNDS.durationS.min}..${BOUNDS.durationS.max})
  --connections N            N of the N-connection echo, handshake concurrency and HTTP (default 16; quick 8)
  --sessions N               concurrent sessions to hold (default 10000; quick 1000; capped by ulimit -n)
  --payload-sizes LIST       echo payload sizes in bytes, comma-separated, k = KiB (default 64,1024,16384,393216)
  --load-workers N           load-generator worker threads (default: cores - 1, at least 1; ${BOUNDS.workers.min}..${BOUNDS.workers.max}).
                             A figure is marked client-bound ('!') when a worker is near saturation;
                             raise N until the handshake figures are not. --workers is an older name.
  --pipeline N               requests in flight per connection when pipelining (default 64)
  --reporter KIND[=FILE]     pretty|json|markdown|html, repeatable; stdout without FILE (html needs FILE)
  --server-pid PID           pid of a local TARGET, to report its CPU and RSS per session
  --server-cpu-prof DIR      run the embedded server under --cpu-prof, one directory per scenario
  --timeout S                stop the whole run after S seconds (default 900; quick 180)
  --quiet                    no progress lines on stderr
  --help`;

export class UsageError extends Error {}

function number(flag: string, value: string, bounds: { min: number; max: number }, integer = true): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || (integer && !Number.isInteger(n))) throw new UsageError(`--${flag} expects ${integer ? "an integer" : "a number"} from ${bounds.min} to ${bounds.max}, got "${value}"`);
  if (n < bounds.min || n > bounds.max) throw new UsageError(`--${flag} expects ${integer ? "an integer" : "a number"} from ${bounds.min} to ${bounds.max}, got ${value}`);
  return n;
}

function sizes(value: string): number[] {
  const list = value.split(",").map((item) => item.trim());
  const out = list.map((item) => {
    const match = /^(\d+)(k|m)?$/i.exec(item);
    if (!match) throw new UsageError(`--payload-sizes expects comma-separated byte counts such as 64,1024,16k, got "${item}"`);
    const n = Number(match[1]) * (match[2]?.toLowerCase() === "k" ? 1024 : match[2]?.toLowerCase() === "m" ? 1024 * 1024 : 1);
    if (n < BOUNDS.payloadBytes.min || n > BOUNDS.payloadBytes.max) throw new UsageError(`--payload-sizes expects sizes from ${BOUNDS.payloadBytes.min} to ${BOUNDS.payloadBytes.max} bytes, got ${item}`);
    return n;
  });
  return [...new Set(out)];
}

function reporter(value: string): ReporterSpec {
  const [kind, ...rest] = value.split("=");
  const file = rest.join("=");
  if (!REPORTER_KINDS.includes(kind as ReporterKind)) throw new UsageError(`--reporter expects pretty|json|markdown|html[=FILE], got "${value}"`);
  if (kind === "html" && !file) throw new UsageError("--reporter html needs a file: --reporter html=FILE");
  if (rest.length > 0 && !file) throw new UsageError(`--reporter ${kind}= needs a file name after "="`);
  return file ? { kind: kind as ReporterKind, file } : { kind: kind as ReporterKind };
}

export function parseBenchArgs(argv: string[]): BenchOptions | "help" {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: true,
      options: {
        scenario: { type: "string", multiple: true },
        quick: { type: "boolean" },
        duration: { type: "string" },
        connections: { type: "string" },
        sessions: { type: "string" },
        "payload-sizes": { type: "string" },
        "load-workers": { type: "string" },
        workers: { type: "string" },
        pipeline: { type: "string" },
        reporter: { type: "string", multiple: true },
        "server-pid": { type: "string" },
        "server-cpu-prof": { type: "string" },
        timeout: { type: "string" },
        quiet: { type: "boolean" },
        help: { type: "boolean" },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message.replace(/\. To specify.*$/s, ""));
  }
  const v = parsed.values;
  if (v.help) return "help";
  if (parsed.positionals.length > 1) throw new UsageError(`expected at most one TARGET, got ${parsed.positionals.length}: ${parsed.positionals.join(" ")}`);
  const options = defaultOptions(v.quick ?? false);
  options.target = parsed.positionals[0];
  if (v.scenario) {
    const names = v.scenario.flatMap((s) => s.split(",")).map((s) => s.trim()).filter(Boolean);
    const unknown = names.filter((n) => !(SCENARIO_NAMES as readonly string[]).includes(n));
    if (unknown.length > 0) throw new UsageError(`--scenario expects one of ${SCENARIO_NAMES.join(", ")}; got ${unknown.join(", ")}`);
    options.scenarios = SCENARIO_NAMES.filter((n) => names.includes(n)) as ScenarioName[];
  }
  if (v.duration !== undefined) options.durationS = number("duration", v.duration, BOUNDS.durationS, false);
  if (v.connections !== undefined) options.connections = number("connections", v.connections, BOUNDS.connections);
  if (v.sessions !== undefined) options.sessions = number("sessions", v.sessions, BOUNDS.sessions);
  if (v["payload-sizes"] !== undefined) options.payloadSizes = sizes(v["payload-sizes"]);
  if (v["load-workers"] !== undefined && v.workers !== undefined) throw new UsageError("--workers is the older name of --load-workers: give one of them");
  if (v["load-workers"] !== undefined) options.workers = number("load-workers", v["load-workers"], BOUNDS.workers);
  if (v.workers !== undefined) options.workers = number("workers", v.workers, BOUNDS.workers);
  if (v.pipeline !== undefined) options.pipeline = number("pipeline", v.pipeline, BOUNDS.pipeline);
  if (v.timeout !== undefined) options.timeoutS = number("timeout", v.timeout, BOUNDS.timeoutS);
  if (v["server-pid"] !== undefined) {
    if (options.target === undefined) throw new UsageError("--server-pid is for an explicit local TARGET; the embedded server's pid is known");
    options.serverPid = number("server-pid", v["server-pid"], { min: 1, max: 2 ** 31 - 1 });
  }
  if (v["server-cpu-prof"] !== undefined) {
    if (options.target !== undefined) throw new UsageError("--server-cpu-prof profiles the embedded server; it cannot be used with TARGET");
    options.serverCpuProfDir = v["server-cpu-prof"];
  }
  if (v.reporter) {
    options.reporters = v.reporter.map(reporter);
    if (options.reporters.filter((r) => !r.file).length > 1) throw new UsageError("--reporter: at most one reporter may write to stdout; give the others =FILE");
  }
  if (v.quiet) options.log = () => {};
  return options;
}

export function render(kind: ReporterKind, report: BenchReport): string {
  switch (kind) {
    case "json":
      return renderJson(report);
    case "markdown":
      return renderMarkdown(report);
    case "html":
      return renderHtml(report);
    default:
      return renderPretty(report);
  }
}

export async function main(argv: string[]): Promise<number> {
  let options: BenchOptions | "help";
  try {
    options = parseBenchArgs(argv);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`peer-bench: ${error.message}\n(run peer-bench --help for the options)`);
      return 2;
    }
    throw error;
  }
  if (options === "help") {
    console.log(USAGE);
    return 0;
  }
  const opts = options;
  // Bounded in time whatever happens: the run stops by itself, and child servers die with it.
  const watchdog = setTimeout(() => {
    console.error(`peer-bench: the run exceeded --timeout ${opts.timeoutS} s; stopping`);
    process.exit(1);
  }, opts.timeoutS * 1000);
  watchdog.unref();
  const onSignal = () => process.exit(130);
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  let report: BenchReport;
  try {
    report = await runBench(opts);
  } catch (error) {
    if (error instanceof TargetError) {
      console.error(`peer-bench: ${error.message}`);
      return 2;
    }
    throw error;
  } finally {
    clearTimeout(watchdog);
  }
  for (const spec of opts.reporters) {
    const text = render(spec.kind, report);
    if (spec.file) {
      mkdirSync(dirname(spec.file), { recursive: true });
      writeFileSync(spec.file, text);
      opts.log(`wrote ${spec.kind} report to ${spec.file}`);
    } else process.stdout.write(text);
  }
  return report.scenarios.some((s) => s.error !== undefined) ? 1 : 0;
}
