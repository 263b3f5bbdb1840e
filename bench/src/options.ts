/** The options of a bench run, their defaults (full and `--quick`) and their safety bounds. */
import { machineCores } from "./proc.ts";
import { SCENARIO_NAMES, type ScenarioName } from "./report-schema.ts";

export type ReporterKind = "pretty" | "json" | "markdown" | "html";
export const REPORTER_KINDS: readonly ReporterKind[] = ["pretty", "json", "markdown", "html"];

export interface ReporterSpec {
  kind: ReporterKind;
  /** Where to write; stdout when absent (html always needs a file). */
  file?: string;
}

export interface BenchOptions {
  /** The TARGET argument: an http(s) base URL or a ws(s) URL; none means the embedded reference server. */
  target: string | undefined;
  scenarios: ScenarioName[];
  quick: boolean;
  durationS: number;
  warmupS: number;
  connections: number;
  sessions: number;
  payloadSizes: number[];
  /** Load-generator worker threads (`--load-workers`). */
  workers: number;
  pipeline: number;
  reporters: ReporterSpec[];
  /** pid of a local explicit target, so its RSS and CPU can be read. */
  serverPid: number | null;
  /** Start the embedded server with `--cpu-prof` writing into this directory. */
  serverCpuProfDir: string | undefined;
  /** The whole run stops by itself after this many seconds. */
  timeoutS: number;
  /** Progress lines on stderr. */
  log: (line: string) => void;
}

/** Safety bounds: the bench is bounded in count and time whatever the flags say. */
export const BOUNDS = {
  durationS: { min: 0.1, max: 60 },
  connections: { min: 1, max: 1_000 },
  sessions: { min: 1, max: 50_000 },
  payloadBytes: { min: 1, max: 8 * 1024 * 1024 },
  workers: { min: 1, max: 8 },
  pipeline: { min: 1, max: 1_024 },
  timeoutS: { min: 5, max: 3_600 },
} as const;

export function defaultWorkers(): number {
  return Math.min(4, Math.max(1, machineCores() - 1));
}

/**
 * Run only when named: `tail` repeats the echo scenario's open-loop point on its own; `cluster` and
 * `workers` start a redis-server, which a machine running the bench need not have.
 */
export const OPT_IN_SCENARIOS: readonly ScenarioName[] = ["tail", "cluster", "workers"];
export const DEFAULT_SCENARIOS: ScenarioName[] = SCENARIO_NAMES.filter((name) => !OPT_IN_SCENARIOS.includes(name));

export function defaultOptions(quick: boolean): BenchOptions {
  return {
    target: undefined,
    scenarios: DEFAULT_SCENARIOS,
    quick,
    durationS: quick ? 0.4 : 3,
    warmupS: quick ? 0.15 : 0.5,
    connections: quick ? 8 : 16,
    sessions: quick ? 1_000 : 10_000,
    payloadSizes: quick ? [1024, 393_216] : [64, 1024, 16_384, 393_216],
    workers: defaultWorkers(),
    pipeline: 64,
    reporters: [{ kind: "pretty" }],
    serverPid: null,
    serverCpuProfDir: undefined,
    timeoutS: quick ? 180 : 900,
    log: (line) => process.stderr.write(`peer-bench: ${line}\n`),
  };
}

/** The payload size echo figures and targets refer to: 1 KiB when measured, else the first size. */
export function referenceSize(options: BenchOptions): number {
  return options.payloadSizes.includes(1024) ? 1024 : (options.payloadSizes[0] ?? 1024);
}

export function formatBytes(n: number): string {
  if (n >= 1024 * 1024 && n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} B`;
}
