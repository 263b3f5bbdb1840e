/**
 * `npm run conformance:mutate` (issue #10): requirement-anchored mutation testing. Each mutant of
 * ./mutants.ts (one line of the reference that cites a requirement, changed once) is applied to a
 * scratch copy of `reference/` (./scratch-reference.ts) and started; the cases whose `requirements`
 * include a requirement cited on that line run against it, each with the server configuration,
 * --slow and --forbidden-origin the self-test gives it (./faulty-endpoints.ts). Outcomes:
 * - killed: one of them fails where it passes against the clean reference (run once per case set);
 *   "does not start" (the mutated server fails to start) counts as killed;
 * - survived: none does — a case to write;
 * - no case: no case cites the line's requirements, or none passes against the clean reference;
 * - equivalent: ./equivalent-mutants.json gives a reviewed reason no test can tell it apart;
 * - out of scope: the server does not run the mutated file (the client, the initiator, the CLI), or
 *   the line runs only in a cluster on Redis, and the harness starts single nodes.
 * The score is killed over killed, survived and no case.
 *
 * The report is markdown on stdout (score, per spec section, per requirement, every mutant that is
 * not killed); progress on stderr; `--json FILE` writes it as JSON too. Flags: --sample N and
 * --seed S (a seeded random sample of N of the mutants in scope that are not equivalent), --only PP-XXX[-NNN] (repeatable: mutants of
 * lines citing that requirement or area), --mutant ID (repeatable), --runs N (default 5),
 * --jobs N (child processes side by side), --min-score P (exit 1 below P percent), --list.
 * `npm run check` runs a seeded sample of 100 (package.json `mutate:sample`).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { ALL_CASES } from "../src/cases/index.ts";
import type { CaseResult } from "../src/report.ts";
import { runConformance, startEmbedded } from "../src/runner.ts";
import { TargetError } from "../src/target.ts";
import { clusterOnly, referenceMutants, serverModules, type Mutant } from "./mutants.ts";
import { STEP_TIMEOUT_MS } from "./run.ts";
import { FAULTY_ENDPOINTS, type EmbeddedConfig, type FaultyEndpoint } from "./faulty-endpoints.ts";
import { runIfScript } from "./script.ts";
import { removeScratchCopy, startFaultyReference } from "./scratch-reference.ts";

export type MutantStatus = "killed" | "does not start" | "survived" | "no case" | "equivalent" | "out of scope";

export interface MutantOutcome {
  mutant: Mutant;
  status: MutantStatus;
  /** The cases run against the mutant. */
  cases: string[];
  /** The case that failed against the mutant and passed against the clean reference (the first; the rest are not run). */
  killedBy: string[];
  reason?: string;
}

export interface MutationReport {
  seed: number;
  runs: number;
  /** Mutants in the whole set, before --only and --sample. */
  total: number;
  outcomes: MutantOutcome[];
  durationMs: number;
}

const STATUSES: readonly MutantStatus[] = ["killed", "does not start", "survived", "no case", "equivalent", "out of scope"];

const EQUIVALENTS_FILE = new URL("./equivalent-mutants.json", import.meta.url);

/**
 * One reviewed equivalent mutant: `mutant` is its id when it was reviewed (file:line:kind:ordinal),
 * `code` the cited line's trimmed code, `reason` why no test can tell it from the reference. An
 * entry matches the mutant of the same file, kind and ordinal on a line with that code, wherever
 * the line has moved since.
 */
export interface EquivalentMutant {
  mutant: string;
  code: string;
  reason: string;
}

/** The reviewed equivalent mutants of ./equivalent-mutants.json. */
export function loadEquivalents(url: URL = EQUIVALENTS_FILE): EquivalentMutant[] {
  const data = JSON.parse(readFileSync(url, "utf8")) as { mutants?: EquivalentMutant[] };
  return data.mutants ?? [];
}

/** The key an equivalent entry and a mutant share: file, kind, ordinal and the line's code (not its number). */
const equivalenceKey = (id: string, code: string): string => {
  const [file, , kind, ordinal] = id.split(":");
  return `${file}:${kind}:${ordinal}:${code}`;
};

/** Matches the reviewed entries to `mutants`: mutant id → reason, and the entries that match no mutant (stale: the line changed). */
export function matchEquivalents(entries: readonly EquivalentMutant[], mutants: readonly Mutant[]): { reasons: Map<string, string>; stale: EquivalentMutant[] } {
  const byKey = new Map(mutants.map((m) => [equivalenceKey(m.id, m.code), m.id]));
  const reasons = new Map<string, string>();
  const stale: EquivalentMutant[] = [];
  for (const entry of entries) {
    const id = byKey.get(equivalenceKey(entry.mutant, entry.code));
    if (id === undefined) stale.push(entry);
    else reasons.set(id, entry.reason);
  }
  return { reasons, stale };
}

/** Whether `filter` (`PP-HS-004` or the area `PP-HS`) selects a line citing `requirements`. */
export function citesFilter(requirements: readonly string[], filter: string): boolean {
  return requirements.some((r) => r === filter || r.startsWith(`${filter}-`));
}

/** The cases that check one of `requirements`, in catalogue order. */
export function casesFor(requirements: readonly string[]): string[] {
  return ALL_CASES.filter((c) => c.requirements.some((r) => requirements.includes(r))).map((c) => c.id);
}

/** A seeded sample of `n` items (mulberry32 and a partial Fisher–Yates), kept in their original order. */
export function sample<T>(items: readonly T[], n: number, seed: number): T[] {
  let state = seed >>> 0;
  const random = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const index = items.map((_, i) => i);
  const count = Math.min(n, items.length);
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(random() * (index.length - i));
    [index[i], index[j]] = [index[j] as number, index[i] as number];
  }
  return index
    .slice(0, count)
    .sort((a, b) => a - b)
    .map((i) => items[i] as T);
}

/**
 * How a case runs against a mutant: the server configuration, --slow and --forbidden-origin that
 * the self-test gives it (./faulty-endpoints.ts: the first endpoint that lists the case as a catcher
 * with a configuration of its own), so that a case needing short timers runs instead of skipping.
 */
export interface CaseSettings {
  embedded: EmbeddedConfig;
  slow: boolean;
  forbiddenOrigin?: string;
}

export function caseSettings(caseId: string, endpoints: readonly FaultyEndpoint[] = FAULTY_ENDPOINTS): CaseSettings {
  const configured = endpoints.find((e) => e.catchers.includes(caseId) && (e.embedded !== undefined || e.slow || e.forbiddenOrigin !== undefined));
  return { embedded: { ...configured?.embedded }, slow: configured?.slow ?? false, ...(configured?.forbiddenOrigin ? { forbiddenOrigin: configured.forbiddenOrigin } : {}) };
}

/** The cases grouped by the settings they run with (one server each), in catalogue order. */
function groupBySettings(ids: readonly string[]): { settings: CaseSettings; ids: string[] }[] {
  const groups = new Map<string, { settings: CaseSettings; ids: string[] }>();
  for (const id of ids) {
    const settings = caseSettings(id);
    const key = JSON.stringify(settings);
    const group = groups.get(key) ?? { settings, ids: [] };
    group.ids.push(id);
    groups.set(key, group);
  }
  return [...groups.values()];
}

/**
 * Runs `ids` against servers started by `start` (one per settings group). With `untilFail` the
 * cases run one at a time and stop at the first that fails: a mutant is killed once, and the rest
 * of its cases would only cost time.
 */
async function runCases(start: (config: EmbeddedConfig) => Promise<{ url: string; close(): Promise<void> }>, ids: string[], settings: { runs: number; seed: number; untilFail: boolean }, onClose: (closed: boolean) => void): Promise<Map<string, CaseResult>> {
  const results = new Map<string, CaseResult>();
  for (const { settings: caseSettings, ids: group } of groupBySettings(ids)) {
    const server = await start(caseSettings.embedded);
    try {
      const run = (only: string[]) => runConformance({ target: server.url, only, runs: settings.runs, seed: settings.seed, slow: caseSettings.slow, strict: true, stepTimeoutMs: STEP_TIMEOUT_MS, traces: "none", ...(caseSettings.forbiddenOrigin ? { forbiddenOrigin: caseSettings.forbiddenOrigin } : {}) });
      for (const only of settings.untilFail ? group.map((id) => [id]) : [group]) {
        const report = await run(only);
        for (const c of report.cases) results.set(c.id, c);
        if (!settings.untilFail || !report.cases.some((c) => c.verdict === "fail")) continue;
        // A kill must hold twice: a case that fails once and then passes failed on timing, not on the mutant.
        const again = await run(only);
        const confirmed = again.cases.some((c) => c.verdict === "fail");
        for (const c of again.cases) results.set(c.id, confirmed ? c : { ...c, message: `failed once, then passed: not counted (${c.message ?? ""})` });
        if (confirmed) return results;
      }
    } finally {
      // A mutant may leave a connection hanging that its close() waits for; it is abandoned after
      // CLOSE_WAIT_MS. A close that fails is the mutant's own business, never a verdict.
      onClose(await settlesWithin(server.close().catch(() => undefined), CLOSE_WAIT_MS));
    }
  }
  return results;
}

export interface MutateOptions {
  mutants: readonly Mutant[];
  total: number;
  runs: number;
  seed: number;
  equivalents: Map<string, string>;
  /** The files the server runs (./mutants.ts serverModules). */
  served: ReadonlySet<string>;
  onLine?: (line: string) => void;
}

export async function runMutants(options: MutateOptions): Promise<MutationReport> {
  const started = Date.now();
  const line = options.onLine ?? (() => undefined);
  const baselines = new Map<string, Map<string, CaseResult>>();
  const outcomes: MutantOutcome[] = [];

  // A mutant may throw inside a server callback; that is the mutant failing, not this process.
  let crash: unknown = undefined;
  const onCrash = (error: unknown) => {
    crash ??= error;
  };
  process.on("uncaughtException", onCrash);
  process.on("unhandledRejection", onCrash);
  // Node exits, silently and with status 0, when only a pending promise is left; a mutant that
  // strands one must hang visibly instead, so this timer holds the process open until the end.
  const keepAlive = setInterval(() => undefined, 60_000);
  try {
    for (const mutant of options.mutants) {
      const mutantStarted = Date.now();
      const cases = casesFor(mutant.requirements);
      const done = (outcome: Omit<MutantOutcome, "mutant" | "cases">) => {
        outcomes.push({ mutant, cases, ...outcome });
        line(`${outcome.status.padEnd(14)} ${mutant.id}  ${mutant.description}${outcome.killedBy.length > 0 ? `  [${outcome.killedBy.join(", ")}]` : ""}${outcome.reason ? `  (${outcome.reason})` : ""}  ${((Date.now() - mutantStarted) / 1000).toFixed(1)} s`);
      };
      const equivalent = options.equivalents.get(mutant.id);
      if (equivalent !== undefined) {
        done({ status: "equivalent", killedBy: [], reason: equivalent });
        continue;
      }
      if (!options.served.has(mutant.file)) {
        done({ status: "out of scope", killedBy: [], reason: `the server does not run reference/${mutant.file} (the cases test a server)` });
        continue;
      }
      if (clusterOnly(mutant)) {
        done({ status: "out of scope", killedBy: [], reason: "it runs only in a cluster (--redis), and the harness starts single nodes; reference/test/cluster/ tests it" });
        continue;
      }
      if (cases.length === 0) {
        done({ status: "no case", killedBy: [], reason: `no case cites ${mutant.requirements.join(", ")}` });
        continue;
      }
      const key = cases.join(",");
      let clean = baselines.get(key);
      if (!clean) {
        clean = await runCases((config) => startEmbedded(config), cases, { runs: options.runs, seed: options.seed, untilFail: false }, () => undefined);
        baselines.set(key, clean);
      }
      const passing = cases.filter((id) => clean?.get(id)?.verdict === "pass");
      if (passing.length === 0) {
        done({ status: "no case", killedBy: [], reason: `no case passes against the clean reference: ${cases.map((id) => `${id} ${clean?.get(id)?.verdict ?? "not run"}`).join(", ")}` });
        continue;
      }
      const name = `mutant-${outcomes.length}`;
      crash = undefined;
      let faulty = new Map<string, CaseResult>();
      let runError: unknown = undefined;
      let notStarted: unknown = undefined;
      try {
        faulty = await runCases(
          async (config) => {
            try {
              return await startFaultyReference(name, config, [mutant.edit]);
            } catch (error) {
              notStarted = error;
              throw error;
            }
          },
          passing,
          { runs: options.runs, seed: options.seed, untilFail: true },
          (closed) => {
            if (!closed) line(`  (the mutant server did not close within ${CLOSE_WAIT_MS} ms; left behind)`);
          },
        );
      } catch (error) {
        runError = error;
      } finally {
        removeScratchCopy(name);
      }
      if (notStarted !== undefined) {
        done({ status: "does not start", killedBy: [], reason: firstLine(notStarted) });
        continue;
      }
      const killedBy = passing.filter((id) => faulty.get(id)?.verdict === "fail");
      if (killedBy.length > 0) done({ status: "killed", killedBy });
      // The runner refusing the target (it cannot reach it, or its discovery is unusable) fails a user's CI run as surely as a failing case.
      else if (runError instanceof TargetError) done({ status: "killed", killedBy: [], reason: `peer-conformance refuses the target: ${firstLine(runError)}` });
      else if (runError !== undefined) done({ status: "survived", killedBy: [], reason: `the runner itself failed (a bug to report, not counted as a kill): ${firstLine(runError)}` });
      // An exception seen in this process while no case failed is noted, not counted: it may not even be this mutant's.
      else done({ status: "survived", killedBy: [], ...(crash !== undefined ? { reason: `no case failed, though an exception was seen meanwhile: ${firstLine(crash)}` } : {}) });
    }
  } finally {
    clearInterval(keepAlive);
    process.off("uncaughtException", onCrash);
    process.off("unhandledRejection", onCrash);
  }
  return { seed: options.seed, runs: options.runs, total: options.total, outcomes, durationMs: Date.now() - started };
}

const CLOSE_WAIT_MS = 5000;

/** Whether `promise` settles within `ms`. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const firstLine = (error: unknown): string => ((error instanceof Error ? error.message : String(error)).split("\n")[0] ?? "").slice(0, 200);

type Counts = Record<MutantStatus, number>;

function count(outcomes: readonly MutantOutcome[]): Counts {
  const counts = Object.fromEntries(STATUSES.map((s) => [s, 0])) as Counts;
  for (const o of outcomes) counts[o.status]++;
  return counts;
}

/**
 * The mutation score: killed (a mutant that does not start counts as killed) over the mutants in
 * scope that are not equivalent. A survivor and a mutant that no case reaches both count against
 * it; mutants of files the server does not run are out of scope until the suite tests clients.
 */
export function score(counts: Counts): { killed: number; of: number; percent: number } {
  const killed = counts.killed + counts["does not start"];
  const of = killed + counts.survived + counts["no case"];
  return { killed, of, percent: of === 0 ? 100 : (100 * killed) / of };
}

const SECTIONS: ReadonlyMap<string, string> = new Map((JSON.parse(readFileSync(new URL("../../spec/requirements.json", import.meta.url), "utf8")) as { id: string; section: string }[]).map((r) => [r.id, r.section]));

/** The spec section of a mutant: that of the first requirement its line cites. */
export function sectionOf(mutant: Mutant): string {
  return SECTIONS.get(mutant.requirements[0] ?? "") ?? "(unknown requirement)";
}

const sectionNumber = (section: string): number[] => (section.match(/^[\d.]+/)?.[0] ?? "999").split(".").filter(Boolean).map(Number);
const bySectionNumber = (a: string, b: string): number => {
  const x = sectionNumber(a);
  const y = sectionNumber(b);
  for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] ?? -1) !== (y[i] ?? -1)) return (x[i] ?? -1) - (y[i] ?? -1);
  return a.localeCompare(b);
};

/** The report as markdown: the score, a row per spec section and per requirement, the survivors. */
export function markdownReport(report: MutationReport): string {
  const totals = count(report.outcomes);
  const { killed, of, percent } = score(totals);
  const out: string[] = ["# Mutation testing of the reference", ""];
  out.push(`${report.outcomes.length} mutants run of ${report.total}; seed ${report.seed}, runs ${report.runs}, ${(report.durationMs / 1000).toFixed(1)} s.`, "");
  out.push(`**Score: ${killed} of ${of} killed (${percent.toFixed(1)}%)**: killed and not starting, over the mutants in scope that are not equivalent.`, "");
  const header = (label: string) => [`| ${label} | ${STATUSES.join(" | ")} | score |`, `| --- |${STATUSES.map(() => " ---: |").join("")} ---: |`];
  const row = (label: string, c: Counts) => `| ${label} | ${STATUSES.map((s) => c[s]).join(" | ")} | ${score(c).of === 0 ? "–" : `${score(c).percent.toFixed(0)}%`} |`;
  out.push("## Per spec section", "", ...header("section"));
  const sections = [...new Set(report.outcomes.map((o) => sectionOf(o.mutant)))].sort(bySectionNumber);
  for (const section of sections) out.push(row(section, count(report.outcomes.filter((o) => sectionOf(o.mutant) === section))));
  out.push(row("**total**", totals), "");
  out.push("## Per requirement", "", ...header("requirement"));
  const requirements = [...new Set(report.outcomes.flatMap((o) => o.mutant.requirements))].sort();
  for (const r of requirements) out.push(row(r, count(report.outcomes.filter((o) => o.mutant.requirements.includes(r)))));
  out.push("");
  const list = (status: MutantStatus, title: string) => {
    const found = report.outcomes.filter((o) => o.status === status);
    if (found.length === 0) return;
    out.push(`## ${title} (${found.length})`, "");
    for (const o of found) out.push(`- \`${o.mutant.id}\` (${o.mutant.requirements.join(", ")}) ${o.mutant.description}${o.reason ? `: ${o.reason}` : ""}`);
    out.push("");
  };
  list("survived", "Survivors: a case to write");
  list("no case", "No case reaches them");
  list("does not start", "Do not start (counted as killed)");
  list("equivalent", "Equivalent (reviewed, conformance/selftest/equivalent-mutants.json)");
  list("out of scope", "Out of scope (files the server does not run)");
  if (report.outcomes.every((o) => o.status !== "survived")) out.push("No survivors.");
  return out.join("\n");
}

/** The report as JSON (the edits left out: `--list` and the id give them). */
export function jsonReport(report: MutationReport): object {
  const counts = count(report.outcomes);
  return {
    seed: report.seed,
    runs: report.runs,
    total: report.total,
    run: report.outcomes.length,
    duration_ms: report.durationMs,
    counts,
    score: score(counts),
    mutants: report.outcomes.map((o) => ({ id: o.mutant.id, file: `reference/${o.mutant.file}`, line: o.mutant.line, kind: o.mutant.kind, description: o.mutant.description, requirements: o.mutant.requirements, section: sectionOf(o.mutant), status: o.status, cases: o.cases, killed_by: o.killedBy, ...(o.reason ? { reason: o.reason } : {}) })),
  };
}

/**
 * Runs `mutants` in `jobs` child processes of this script (the cases mostly wait on the network
 * and on timers, so a few run side by side even on two cores), each with its share as --mutant
 * ids, and merges their JSON reports.
 */
async function runInJobs(mutants: readonly Mutant[], jobs: number, options: { runs: number; seed: number; total: number }): Promise<MutationReport> {
  const started = Date.now();
  const dir = mkdtempSync(join(tmpdir(), "pp-mutate-"));
  try {
    const shares = Array.from({ length: jobs }, (_, j) => mutants.filter((_, i) => i % jobs === j)).filter((share) => share.length > 0);
    const results = await Promise.all(
      shares.map(async (share, j) => {
        const file = join(dir, `job-${j}.json`);
        const args = [...process.execArgv, fileURLToPath(import.meta.url), "--runs", String(options.runs), "--seed", String(options.seed), "--json", file, ...share.flatMap((m) => ["--mutant", m.id])];
        const child = spawn(process.execPath, args, { stdio: ["ignore", "ignore", "pipe"] });
        child.stderr.setEncoding("utf8");
        createInterface({ input: child.stderr }).on("line", (l) => console.error(l));
        const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
        if (code !== 0) throw new Error(`job ${j + 1} of ${shares.length} ended with status ${code}`);
        return JSON.parse(readFileSync(file, "utf8")) as { mutants: { id: string; status: MutantStatus; cases: string[]; killed_by: string[]; reason?: string }[] };
      }),
    );
    const byId = new Map(results.flatMap((r) => r.mutants).map((m) => [m.id, m]));
    const outcomes = mutants.map((mutant): MutantOutcome => {
      const m = byId.get(mutant.id);
      if (!m) throw new Error(`no outcome for ${mutant.id}`);
      return { mutant, status: m.status, cases: m.cases, killedBy: m.killed_by, ...(m.reason ? { reason: m.reason } : {}) };
    });
    return { seed: options.seed, runs: options.runs, total: options.total, outcomes, durationMs: Date.now() - started };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function main(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: { sample: { type: "string" }, seed: { type: "string" }, only: { type: "string", multiple: true }, mutant: { type: "string", multiple: true }, runs: { type: "string" }, jobs: { type: "string" }, "min-score": { type: "string" }, list: { type: "boolean" }, json: { type: "string" }, help: { type: "boolean", short: "h" } } }));
  } catch (error) {
    return usage(error instanceof Error ? error.message : String(error));
  }
  if (values.help) {
    console.log("usage: npm run conformance:mutate -- [--sample N] [--seed S] [--only PP-XXX[-NNN]]... [--mutant ID]... [--runs N] [--jobs N] [--min-score PERCENT] [--list] [--json FILE]");
    return 0;
  }
  const runs = values.runs === undefined ? 5 : Number(values.runs);
  const seed = values.seed === undefined ? 1 : Number(values.seed);
  const size = values.sample === undefined ? undefined : Number(values.sample);
  const jobs = values.jobs === undefined ? 1 : Number(values.jobs);
  const minScore = values["min-score"] === undefined ? undefined : Number(values["min-score"]);
  if (!Number.isInteger(runs) || runs < 1) return usage(`--runs: expected a positive integer, got '${values.runs}'`);
  if (!Number.isInteger(jobs) || jobs < 1 || jobs > 8) return usage(`--jobs: expected an integer from 1 to 8, got '${values.jobs}'`);
  if (minScore !== undefined && !(minScore >= 0 && minScore <= 100)) return usage(`--min-score: expected a percentage from 0 to 100, got '${values["min-score"]}'`);
  if (!Number.isInteger(seed)) return usage(`--seed: expected an integer, got '${values.seed}'`);
  if (size !== undefined && (!Number.isInteger(size) || size < 1)) return usage(`--sample: expected a positive integer, got '${values.sample}'`);
  const filters = (values.only ?? []).flatMap((v) => v.split(",")).map((v) => v.trim()).filter(Boolean);

  const all = referenceMutants();
  let mutants = filters.length > 0 ? all.filter((m) => filters.some((f) => citesFilter(m.requirements, f))) : all;
  if (filters.length > 0 && mutants.length === 0) return usage(`--only: no cited line matches ${filters.join(", ")}`);
  const ids = values.mutant ?? [];
  if (ids.length > 0) {
    const unknownIds = ids.filter((id) => !all.some((m) => m.id === id));
    if (unknownIds.length > 0) return usage(`--mutant: no such mutant: ${unknownIds.join(", ")} (--list shows the ids)`);
    mutants = mutants.filter((m) => ids.includes(m.id));
  }
  const { reasons: equivalents, stale } = matchEquivalents(loadEquivalents(), all);
  if (stale.length > 0) console.error(`conformance:mutate: equivalent-mutants.json has entries whose line changed or is gone (review them): ${stale.map((e) => e.mutant).join(", ")}`);
  const served = serverModules();
  // A sample is drawn from the mutants that count: in scope and not reviewed as equivalent.
  if (size !== undefined) mutants = sample(mutants.filter((m) => served.has(m.file) && !clusterOnly(m) && !equivalents.has(m.id)), size, seed);

  if (values.list) {
    for (const m of mutants) {
      const cases = casesFor(m.requirements);
      console.log(`${m.id}  ${m.description}  (${m.requirements.join(", ")}; ${!served.has(m.file) ? "not run by the server" : cases.length > 0 ? `${cases.length} case(s)` : "no case"}${equivalents.has(m.id) ? "; equivalent" : ""})`);
    }
    console.log(`${mutants.length} mutant(s)${mutants.length !== all.length ? ` of ${all.length}` : ""}`);
    return 0;
  }

  const report = jobs > 1 && mutants.length > 1 ? await runInJobs(mutants, jobs, { runs, seed, total: all.length }) : await runMutants({ mutants, total: all.length, runs, seed, equivalents, served, onLine: (l) => console.error(l) });
  console.log(markdownReport(report));
  if (values.json) writeFileSync(values.json, `${JSON.stringify(jsonReport(report), null, 2)}\n`);
  const result = score(count(report.outcomes));
  if (minScore !== undefined && result.percent < minScore) {
    console.error(`conformance:mutate: score ${result.percent.toFixed(1)}% (${result.killed} of ${result.of}) is below --min-score ${minScore}%: write the cases the survivors above ask for, or record a reviewed equivalent`);
    return 1;
  }
  return 0;
}

function usage(message: string): number {
  console.error(`conformance:mutate: ${message}`);
  return 2;
}

runIfScript(import.meta.url, "conformance:mutate", main);
