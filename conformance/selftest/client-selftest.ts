/**
 * The client-mode half of `npm run conformance:selftest` (issue 14): proves that every client case
 * can fail, and that none fails a correct client. The whole client catalogue runs once against the
 * clean reference client, where every case must pass; then each faulty client of
 * ./faulty-clients.ts (a scratch copy of the reference client with one check removed, or the clean
 * driver's command wrapped) runs its catchers, in strict mode, one faulty client at a time. A faulty
 * client is detected when every one of its catchers fails against it for the reason it names
 * (`expected`, the check the fault defeats, so a driver that did not run at all does not count) and
 * passes against the clean reference client. A client case is shown to fail once any faulty client
 * made it fail that way.
 */
import type { CaseResult } from "../src/report.ts";
import { ALL_CLIENT_CASES } from "../src/client-mode/cases/index.ts";
import type { ClientCase } from "../src/client-mode/client-case.ts";
import { runClientConformance } from "../src/client-mode/client-runner.ts";
import { defaultClientCommand } from "../src/client-mode/default-client.ts";
import { startCaseListener } from "../src/client-mode/listener.ts";
import { driverModule, FAULTY_CLIENTS, type FaultyClient } from "./faulty-clients.ts";
import { removeScratchCopy, scratchReference, SourceFaultError } from "./scratch-reference.ts";

export interface ClientSelfTestOptions {
  /** The faulty clients to run (default: all of ./faulty-clients.ts). */
  faultyClients?: readonly FaultyClient[];
  /** The client catalogue (default: all client cases). */
  cases?: readonly ClientCase[];
  /** Run the whole catalogue against the clean reference client; otherwise only the catchers of the faulty clients run there. */
  fullBaseline?: boolean;
  seed?: number;
  onLine?: (line: string) => void;
  /** Print the verdict and message of each catcher. */
  verbose?: boolean;
}

export interface FaultyClientOutcome {
  faultyClient: FaultyClient;
  detected: boolean;
  /** Catchers that failed against it for the expected reason and passed against the clean reference client. */
  detectedBy: string[];
  results: Map<string, CaseResult>;
}

export interface ClientSelfTestResult {
  outcomes: FaultyClientOutcome[];
  detected: number;
  total: number;
  /** What ran against the clean reference client: the whole catalogue, or the catchers of the faulty clients run. */
  clean: Map<string, CaseResult>;
  /** Cases that passed there. */
  passingClean: number;
  /** Client case ids shown to fail by at least one faulty client. */
  shownToFail: Set<string>;
  /** Client case ids never shown to fail, with why (only the cases that ran against the clean reference client are listed). */
  notShown: { id: string; reason: string }[];
  durationMs: number;
}

/** Faulty clients that no longer apply to the reference client (their faulty-clients*.ts file needs updating). */
export class FaultyClientsBroken extends Error {
  constructor(readonly problems: string[]) {
    super(`${problems.length} faulty client(s) no longer apply (edit conformance/selftest/faulty-clients*.ts):\n${problems.map((p) => `  ${p}`).join("\n")}`);
    this.name = "FaultyClientsBroken";
  }
}

const scratchName = (faulty: FaultyClient): string => `client-${faulty.name}`;

/**
 * Makes the scratch copy of each faulty client with edits, and checks that each catcher is a client case: a faulty
 * client that no longer applies stops the self-test before anything runs, named (FaultyClientsBroken). The copies are
 * kept for the run, which removes each once its faulty client has run.
 */
export function prepareFaultyClients(faultyClients: readonly FaultyClient[] = FAULTY_CLIENTS, cases: readonly ClientCase[] = ALL_CLIENT_CASES): void {
  const ids = new Set(cases.map((c) => c.id));
  const problems: string[] = [];
  for (const faulty of faultyClients) {
    if ((faulty.edits === undefined) === (faulty.wrap === undefined)) problems.push(`faulty client ${faulty.name}: needs either edits or wrap`);
    if (faulty.catchers.length === 0) problems.push(`faulty client ${faulty.name}: no catchers`);
    const unknown = faulty.catchers.filter((id) => !ids.has(id));
    if (unknown.length > 0) problems.push(`faulty client ${faulty.name}: ${unknown.join(", ")} ${unknown.length === 1 ? "is not a client case" : "are not client cases"}`);
    if (!faulty.edits) continue;
    try {
      scratchReference(scratchName(faulty), faulty.edits);
    } catch (error) {
      if (!(error instanceof SourceFaultError)) throw error;
      problems.push(error.message);
    }
  }
  if (problems.length > 0) throw new FaultyClientsBroken(problems);
}

/** The shell command that runs the faulty client's driver: the scratch copy's, or the clean one's wrapped. */
function faultyCommand(faulty: FaultyClient, clean: string): string {
  if (faulty.wrap) return faulty.wrap(clean);
  const quote = (text: string) => `'${text.replace(/'/g, "'\\''")}'`;
  return [quote(process.execPath), "--import", "tsx", quote(driverModule(scratchReference(scratchName(faulty), faulty.edits)))].join(" ");
}

const firstLine = (text: string | undefined): string => (text ?? "").split("\n")[0]?.slice(0, 200) ?? "";

/** Why a catcher did not count against `faulty`, or null when it did. */
function missReason(faulty: FaultyClient, id: string, result: CaseResult | undefined, clean: CaseResult | undefined): string | null {
  if (!result) return `${id} did not run`;
  if (result.verdict !== "fail") return `${id} is ${result.verdict} against it${result.message ? ` (${firstLine(result.message)})` : ""}`;
  const expected = result.expected?.[0] ?? "";
  if (!faulty.expected.test(expected)) return `${id} fails for another reason: expected ${firstLine(expected) || "nothing"}, not ${faulty.expected}`;
  if (clean?.verdict !== "pass") return `${id} is ${clean?.verdict ?? "not run"} against the clean reference client`;
  return null;
}

export async function runClientSelfTest(options: ClientSelfTestOptions = {}): Promise<ClientSelfTestResult> {
  const started = Date.now();
  const faultyClients = options.faultyClients ?? FAULTY_CLIENTS;
  const cases = options.cases ?? ALL_CLIENT_CASES;
  const seed = options.seed ?? 1;
  const line = options.onLine ?? (() => undefined);
  prepareFaultyClients(faultyClients, cases);
  const reference = defaultClientCommand();

  // The clean reference client: every case that runs must pass, or it cannot tell a faulty client apart.
  const cleanIds = options.fullBaseline ? cases.map((c) => c.id) : [...new Set(faultyClients.flatMap((f) => f.catchers))];
  const clean = new Map<string, CaseResult>();
  if (cleanIds.length > 0) {
    const report = await runClientConformance({ command: reference.command, cwd: reference.cwd, label: reference.label, cases, only: cleanIds, startListener: startCaseListener, seed, strict: true });
    for (const c of report.cases) clean.set(c.id, c);
    const s = report.summary;
    line(`clean reference client: ${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped of ${s.total}${options.fullBaseline ? "" : " (the catchers run)"} (${(report.duration_ms / 1000).toFixed(1)} s)`);
    for (const c of report.cases) if (c.verdict !== "pass") line(`  ! ${c.id} is ${c.verdict} against the clean reference client: ${firstLine(c.message)}`);
  }

  // Each faulty client in turn (the machine's cores are shared; a case starts a driver process of its own).
  const outcomes: FaultyClientOutcome[] = [];
  for (const faulty of faultyClients) {
    const faultyStarted = Date.now();
    let results: Map<string, CaseResult>;
    try {
      const report = await runClientConformance({ command: faultyCommand(faulty, reference.command), cwd: reference.cwd, label: `faulty client ${faulty.name}`, cases, only: faulty.catchers, startListener: startCaseListener, seed, strict: true });
      results = new Map(report.cases.map((c) => [c.id, c]));
    } finally {
      if (faulty.edits) removeScratchCopy(scratchName(faulty));
    }
    const misses = faulty.catchers.flatMap((id) => missReason(faulty, id, results.get(id), clean.get(id)) ?? []);
    const detectedBy = faulty.catchers.filter((id) => missReason(faulty, id, results.get(id), clean.get(id)) === null);
    const outcome: FaultyClientOutcome = { faultyClient: faulty, detected: misses.length === 0, detectedBy, results };
    outcomes.push(outcome);
    if (outcome.detected) line(`✔ detected ${faulty.name} by ${detectedBy.join(", ")}`);
    else line(`✘ missed ${faulty.name}: ${misses.join("; ")}`);
    if (options.verbose) {
      line(`    (${((Date.now() - faultyStarted) / 1000).toFixed(1)} s)`);
      for (const id of faulty.catchers) {
        const r = results.get(id);
        line(`    ${id}: ${r?.verdict ?? "not run"}${r ? ` (${(r.duration_ms / 1000).toFixed(1)} s)` : ""}${r?.expected?.[0] ? ` — expected ${firstLine(r.expected[0])}` : r?.message ? ` — ${firstLine(r.message)}` : ""}`);
      }
    }
  }

  const shownToFail = new Set(outcomes.flatMap((o) => o.detectedBy));
  const notShown = cleanIds
    .filter((id) => !shownToFail.has(id))
    .map((id) => {
      const aimed = outcomes.filter((o) => o.faultyClient.catchers.includes(id));
      if (aimed.length === 0) return { id, reason: faultyClients === FAULTY_CLIENTS ? "no faulty client targets it" : "not targeted by the faulty clients run" };
      return { id, reason: aimed.map((o) => `${o.faultyClient.name}: ${missReason(o.faultyClient, id, o.results.get(id), clean.get(id))}`).join("; ") };
    });
  const passingClean = [...clean.values()].filter((c) => c.verdict === "pass").length;
  return { outcomes, detected: outcomes.filter((o) => o.detected).length, total: outcomes.length, clean, passingClean, shownToFail, notShown, durationMs: Date.now() - started };
}
