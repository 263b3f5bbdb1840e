/**
 * `npm run conformance:selftest` (issue #4, DESIGN.md §5): proves that the conformance cases can
 * fail. Every faulty endpoint of ./faulty-endpoints.ts is started in turn (a scratch copy of the
 * reference with one source fault applied, or a clean reference behind the fault proxy) and its
 * catcher cases are run against
 * it; the endpoint is detected when a catcher fails there and passes against the same endpoint
 * without the fault (its clean twin). The whole suite also runs once against a clean reference
 * server, and once against each conformant variant of ./conformant-variants.ts (issue #12), which must
 * pass it. The server half ends with `variants accepted: X of Y` and `detected X of Y`. The client
 * half (issue 14, ./client-selftest.ts) runs the client catalogue against the clean reference client
 * and each faulty client of ./faulty-clients.ts against its catchers, and ends with
 * `faulty clients detected: X of Y`. The exit code is 0 only when every figure is whole. A source
 * fault, variant or faulty client that no longer applies to the reference stops the self-test before
 * anything runs, naming it.
 *
 * Flags: --mode server|client|both (default both), --only NAME (repeatable, comma-separated; faulty
 * endpoints, variants and faulty clients: only the halves they belong to run), --runs N (server
 * mode; default 5), --seed S (default 1), --verbose (the failure of each catcher), --list.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { networkInterfaces, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { TargetInfo } from "../src/case.ts";
import { ALL_CASES } from "../src/cases/index.ts";
import { ALL_CLIENT_CASES } from "../src/client-mode/cases/index.ts";
import type { CaseResult } from "../src/report.ts";
import { EMBEDDED_LIMITS, runCase, runConformance, startEmbedded } from "../src/runner.ts";
import { VALIDATORS } from "../src/schemas.ts";
import { normalizeTarget, targetInfo } from "../src/target.ts";
import { startFaultProxy, type FaultProxyOptions, type ProxyFaultName, type TlsMaterial } from "./fault-proxy.ts";
import { CONFORMANT_VARIANTS, type ConformantVariant } from "./conformant-variants.ts";
import { FAULTY_ENDPOINTS, type EmbeddedConfig, type FaultyEndpoint } from "./faulty-endpoints.ts";
import { startCluster, type ClusterFaultName } from "./faulty-clusters.ts";
import { FaultyClientsBroken, prepareFaultyClients, runClientSelfTest } from "./client-selftest.ts";
import { FAULTY_CLIENTS, type FaultyClient } from "./faulty-clients.ts";
import { scratchReference, SourceFaultError, startFaultyReference } from "./scratch-reference.ts";
import { runIfScript } from "./script.ts";

/** How long a probe waits for one answer: short, since faulty endpoints often answer nothing. Clean twins run with the same. */
export const STEP_TIMEOUT_MS = 2000;

export interface SelfTestOptions {
  endpoints?: readonly FaultyEndpoint[];
  /** Conformant variants to run the whole suite against (default: none). */
  variants?: readonly ConformantVariant[];
  runs?: number;
  seed?: number;
  /** Run the whole suite against the clean reference server too (the default of the command). */
  fullBaseline?: boolean;
  onLine?: (line: string) => void;
  verbose?: boolean;
}

export interface EndpointOutcome {
  endpoint: FaultyEndpoint;
  status: "detected" | "missed" | "unavailable";
  /** Catchers that failed against the faulty endpoint and passed against its clean twin. */
  detectedBy: string[];
  faulty: Map<string, CaseResult>;
  clean: Map<string, CaseResult>;
  reason?: string;
}

export interface VariantOutcome {
  variant: ConformantVariant;
  accepted: boolean;
  /** Cases that failed (or warned, since every SHOULD counts) against the variant. */
  refusedBy: CaseResult[];
  passed: number;
  skipped: number;
}

export interface SelfTestResult {
  outcomes: EndpointOutcome[];
  variants: VariantOutcome[];
  detected: number;
  total: number;
  /** Case ids shown to fail by at least one endpoint. */
  shownToFail: Set<string>;
  /** Case ids never shown to fail, with why. */
  notShown: { id: string; reason: string }[];
  baseline: Map<string, CaseResult> | null;
  durationMs: number;
}

interface Started {
  url: string;
  /** The second node of a cluster endpoint, given as --peer-target. */
  peerUrl?: string;
  /** Run cases without discovery (https with a self-signed certificate, or where only the URL matters). */
  direct: boolean;
  close(): Promise<void>;
}

const DIRECT_FAULTS = new Set<ProxyFaultName>(["tls-1.2-only", "plaintext-off-loopback"]);

let tlsMaterial: TlsMaterial | null | undefined;

/** A throw-away self-signed certificate for the TLS endpoints (openssl); null when openssl is missing. */
function selfSignedCertificate(): TlsMaterial | null {
  if (tlsMaterial !== undefined) return tlsMaterial;
  const dir = mkdtempSync(join(tmpdir(), "pp-selftest-"));
  try {
    execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"), "-days", "1", "-subj", "/CN=localhost"], { stdio: "ignore" });
    tlsMaterial = { cert: readFileSync(join(dir, "cert.pem")), key: readFileSync(join(dir, "key.pem")) };
  } catch {
    tlsMaterial = null;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return tlsMaterial;
}

function nonLoopbackAddress(): string | null {
  for (const list of Object.values(networkInterfaces())) for (const i of list ?? []) if (i.family === "IPv4" && !i.internal) return i.address;
  return null;
}

/** How the proxy listens for a fault: the TLS faults change the listener; their clean twins listen with TLS 1.3. */
function proxyListen(fault: ProxyFaultName, clean: boolean): Omit<FaultProxyOptions, "fault"> | string {
  if (fault === "tls-1.2-only") {
    const tls = selfSignedCertificate();
    if (!tls) return "openssl is needed to make a test certificate";
    return { tls: clean ? tls : { ...tls, maxVersion: "TLSv1.2" } };
  }
  if (fault === "plaintext-off-loopback") {
    const host = nonLoopbackAddress();
    if (!host) return "this machine has no non-loopback IPv4 address";
    if (!clean) return { host };
    const tls = selfSignedCertificate();
    if (!tls) return "openssl is needed to make a test certificate";
    return { host, tls };
  }
  return {};
}

const upstreamOptions = (embedded: EmbeddedConfig | undefined): EmbeddedConfig => ({ ...embedded });

/** Starts the endpoint, or its clean twin (the same without the fault). A string says why it cannot run here. */
async function startEndpoint(endpoint: FaultyEndpoint, clean: boolean): Promise<Started | string> {
  const config = upstreamOptions(endpoint.embedded);
  if (endpoint.kind === "cluster") {
    const pair = await startCluster(clean ? null : (endpoint.cluster as ClusterFaultName), config);
    return { url: pair.url, peerUrl: pair.peerUrl, direct: false, close: () => pair.close() };
  }
  if (endpoint.kind === "source") {
    const server = clean ? await startEmbedded(config) : await startFaultyReference(endpoint.source as string, config);
    return { url: server.url, direct: false, close: () => server.close() };
  }
  const fault = endpoint.proxy as ProxyFaultName;
  const listen = proxyListen(fault, clean);
  if (typeof listen === "string") return listen;
  const server = await startEmbedded(config);
  const proxy = await startFaultProxy(server.url, { ...listen, fault: clean ? null : fault });
  return {
    url: proxy.url,
    direct: DIRECT_FAULTS.has(fault),
    close: async () => {
      await proxy.close();
      await server.close();
    },
  };
}

/** Runs the given cases against a started endpoint; every SHOULD counts (strict). */
async function runCases(started: Started, ids: string[], settings: { runs: number; seed: number; slow: boolean; forbiddenOrigin?: string }): Promise<Map<string, CaseResult>> {
  const results = new Map<string, CaseResult>();
  if (!started.direct) {
    const report = await runConformance({ target: started.url, ...(started.peerUrl ? { peerTarget: started.peerUrl } : {}), only: ids, runs: settings.runs, seed: settings.seed, slow: settings.slow, strict: true, stepTimeoutMs: STEP_TIMEOUT_MS, traces: "none", ...(settings.forbiddenOrigin ? { forbiddenOrigin: settings.forbiddenOrigin } : {}) });
    for (const c of report.cases) results.set(c.id, c);
    return results;
  }
  const target: TargetInfo = targetInfo(normalizeTarget(started.url), null, "not fetched by the self-test", "peer-server");
  for (const id of ids) {
    const c = ALL_CASES.find((x) => x.id === id);
    if (!c) continue;
    const { result } = await runCase(c, target, { runSeed: settings.seed, runs: settings.runs, slow: settings.slow, strict: true, timeoutMs: 30_000, stepTimeoutMs: STEP_TIMEOUT_MS, traces: "none", validators: VALIDATORS });
    results.set(id, result);
  }
  return results;
}

/** The configuration a clean twin shares with other endpoints' twins, so that each runs once. */
function twinKey(endpoint: FaultyEndpoint): string {
  const listen = endpoint.kind === "cluster" ? "cluster" : endpoint.kind === "proxy" ? (DIRECT_FAULTS.has(endpoint.proxy as ProxyFaultName) ? `listen:${endpoint.proxy}` : "proxy") : "direct";
  return JSON.stringify({ config: upstreamOptions(endpoint.embedded), listen, slow: endpoint.slow ?? false, origin: endpoint.forbiddenOrigin ?? null, runs: endpoint.runs ?? null });
}

const DEFAULT_TWIN = twinKey({ name: "", kind: "source", description: "", catchers: [] });

/** Source faults that no longer apply to the reference (./source-faults.ts needs updating). */
export class SourceFaultsBroken extends Error {
  constructor(readonly errors: SourceFaultError[]) {
    super(`${errors.length} source fault(s) no longer apply to the reference (edit conformance/selftest/source-faults.ts):\n${errors.map((e) => `  ${e.message}`).join("\n")}`);
    this.name = "SourceFaultsBroken";
  }
}

export async function runSelfTest(options: SelfTestOptions = {}): Promise<SelfTestResult> {
  const started = Date.now();
  const endpoints = options.endpoints ?? FAULTY_ENDPOINTS;
  const runs = options.runs ?? 5;
  const seed = options.seed ?? 1;
  const line = options.onLine ?? (() => undefined);

  // Every source fault must still apply to the reference: one that does not stops the self-test, named.
  const broken: SourceFaultError[] = [];
  for (const endpoint of endpoints) {
    if (endpoint.kind !== "source") continue;
    try {
      scratchReference(endpoint.source as string);
    } catch (error) {
      if (!(error instanceof SourceFaultError)) throw error;
      broken.push(error);
    }
  }
  const variants = options.variants ?? [];
  for (const variant of variants) {
    if (!variant.edits) continue;
    try {
      scratchReference(`variant-${variant.name}`, variant.edits);
    } catch (error) {
      if (!(error instanceof SourceFaultError)) throw error;
      broken.push(error);
    }
  }
  if (broken.length > 0) throw new SourceFaultsBroken(broken);

  // The whole suite against the clean reference server, once.
  let baseline: Map<string, CaseResult> | null = null;
  if (options.fullBaseline) {
    const report = await runConformance({ runs, seed, strict: true, stepTimeoutMs: STEP_TIMEOUT_MS, traces: "none" });
    baseline = new Map(report.cases.map((c) => [c.id, c]));
    const s = report.summary;
    line(`clean reference server: ${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped of ${s.total} (${(report.duration_ms / 1000).toFixed(1)} s)`);
    for (const c of report.cases) if (c.verdict === "fail" || c.verdict === "warn" || c.verdict === "error") line(`  ! ${c.id} ${c.verdict === "error" ? "ends in a harness error" : "fails"} against the clean reference server: ${c.message ?? ""}`);
  }

  // Conformant variants: each must pass the whole suite (issue #12).
  const variantOutcomes: VariantOutcome[] = [];
  for (const variant of variants) {
    const variantStarted = Date.now();
    // The limits of the default run's embedded server, so that only the variant's one choice differs from the baseline.
    const config = { ...variant.embedded, limits: { ...EMBEDDED_LIMITS, ...variant.embedded?.limits } };
    const server = variant.edits ? await startFaultyReference(`variant-${variant.name}`, config, variant.edits) : await startEmbedded(config);
    let report;
    try {
      report = await runConformance({ target: server.url, runs, seed, slow: variant.slow ?? false, strict: true, stepTimeoutMs: STEP_TIMEOUT_MS, traces: "none" });
    } finally {
      await server.close();
    }
    // A harness error judges nothing, so a variant with one is not shown to be accepted either.
    const refusedBy = report.cases.filter((c) => c.verdict === "fail" || c.verdict === "warn" || c.verdict === "error");
    const outcome: VariantOutcome = { variant, accepted: refusedBy.length === 0 && report.summary.passed > 0, refusedBy, passed: report.summary.passed, skipped: report.summary.skipped };
    variantOutcomes.push(outcome);
    const took = `${((Date.now() - variantStarted) / 1000).toFixed(1)} s`;
    if (outcome.accepted) line(`✔ accepted ${variant.name}: ${outcome.passed} passed, ${outcome.skipped} skipped (${took})`);
    else line(`✘ refused ${variant.name} (${variant.allowedBy.join(", ")} allows it): ${refusedBy.length === 0 ? "no case passed" : refusedBy.map((c) => `${c.id} — ${(c.message ?? "").split("\n")[0]?.slice(0, 200)}`).join("; ")}`);
  }

  // Clean twins: every catcher against its endpoint without the fault, grouped by configuration.
  const twins = new Map<string, { endpoint: FaultyEndpoint; ids: Set<string> }>();
  for (const endpoint of endpoints) {
    const key = twinKey(endpoint);
    const twin = twins.get(key) ?? { endpoint, ids: new Set<string>() };
    for (const id of endpoint.catchers) twin.ids.add(id);
    twins.set(key, twin);
  }
  const cleanResults = new Map<string, Map<string, CaseResult> | string>();
  for (const [key, twin] of twins) {
    if (key === DEFAULT_TWIN && baseline) {
      cleanResults.set(key, baseline);
      continue;
    }
    const twinStarted = Date.now();
    const target = await startEndpoint(twin.endpoint, true);
    if (typeof target === "string") {
      cleanResults.set(key, target);
      continue;
    }
    try {
      cleanResults.set(key, await runCases(target, [...twin.ids], { runs: twin.endpoint.runs ?? runs, seed, slow: twin.endpoint.slow ?? false, ...(twin.endpoint.forbiddenOrigin ? { forbiddenOrigin: twin.endpoint.forbiddenOrigin } : {}) }));
    } finally {
      await target.close();
    }
    if (options.verbose) line(`clean twin ${key}: ${twin.ids.size} catchers (${((Date.now() - twinStarted) / 1000).toFixed(1)} s)`);
  }

  const outcomes: EndpointOutcome[] = [];
  for (const endpoint of endpoints) {
    const clean = cleanResults.get(twinKey(endpoint));
    const endpointStarted = Date.now();
    const target = typeof clean === "string" ? clean : await startEndpoint(endpoint, false);
    if (typeof target === "string" || typeof clean === "string" || clean === undefined) {
      const reason = typeof target === "string" ? target : "no clean twin";
      outcomes.push({ endpoint, status: "unavailable", detectedBy: [], faulty: new Map(), clean: new Map(), reason });
      line(`- skipped ${endpoint.name}: ${reason}`);
      continue;
    }
    let faulty: Map<string, CaseResult>;
    try {
      faulty = await runCases(target, endpoint.catchers, { runs: endpoint.runs ?? runs, seed, slow: endpoint.slow ?? false, ...(endpoint.forbiddenOrigin ? { forbiddenOrigin: endpoint.forbiddenOrigin } : {}) });
    } finally {
      await target.close();
    }
    const detectedBy = endpoint.catchers.filter((id) => faulty.get(id)?.verdict === "fail" && clean.get(id)?.verdict === "pass");
    const outcome: EndpointOutcome = { endpoint, status: detectedBy.length > 0 ? "detected" : "missed", detectedBy, faulty, clean };
    outcomes.push(outcome);
    if (outcome.status === "detected") line(`✔ detected ${endpoint.name} by ${detectedBy.join(", ")}`);
    else {
      const notes = endpoint.catchers.flatMap((id) => {
        const f = faulty.get(id)?.verdict ?? "not run";
        const c = clean.get(id)?.verdict ?? "not run";
        return f === "pass" ? [] : [`${id} is ${f} against it${c !== "pass" ? ` but ${c} against the clean twin` : ""}`];
      });
      const passed = endpoint.catchers.filter((id) => faulty.get(id)?.verdict === "pass");
      line(`✘ missed ${endpoint.name}: ${passed.length > 0 ? `${passed.join(", ")} passed` : "no catcher failed"}${notes.length > 0 ? ` (${notes.join("; ")})` : ""}`);
    }
    if (options.verbose) {
      line(`    (${((Date.now() - endpointStarted) / 1000).toFixed(1)} s)`);
      for (const id of endpoint.catchers) {
        const r = faulty.get(id);
        line(`    ${id}: ${r?.verdict ?? "not run"}${r?.message ? ` — ${r.message.split("\n")[0]?.slice(0, 200)}` : ""}`);
      }
    }
  }

  const shownToFail = new Set(outcomes.flatMap((o) => o.detectedBy));
  const notShown = ALL_CASES.filter((c) => !shownToFail.has(c.id)).map((c) => {
    const aimed = outcomes.filter((o) => o.endpoint.catchers.includes(c.id));
    if (aimed.length === 0) return { id: c.id, reason: endpoints === FAULTY_ENDPOINTS ? "no faulty endpoint targets it" : "not targeted by the endpoints run" };
    const why = aimed.map((o) => {
      if (o.status === "unavailable") return `${o.endpoint.name} could not run (${o.reason})`;
      const f = o.faulty.get(c.id)?.verdict ?? "not run";
      const cl = o.clean.get(c.id)?.verdict ?? "not run";
      return cl !== "pass" ? `${cl} against the clean twin of ${o.endpoint.name}` : `${f} against ${o.endpoint.name}`;
    });
    return { id: c.id, reason: why.join("; ") };
  });
  const ran = outcomes.filter((o) => o.status !== "unavailable");
  return { outcomes, variants: variantOutcomes, detected: ran.filter((o) => o.status === "detected").length, total: ran.length, shownToFail, notShown, baseline, durationMs: Date.now() - started };
}

/** Which half of the self-test runs: the server cases against faulty servers, the client cases against faulty clients, or both. */
export const MODES = ["server", "client", "both"] as const;
export type Mode = (typeof MODES)[number];

export async function main(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: { mode: { type: "string" }, only: { type: "string", multiple: true }, runs: { type: "string" }, seed: { type: "string" }, verbose: { type: "boolean" }, list: { type: "boolean" }, help: { type: "boolean", short: "h" } } }));
  } catch (error) {
    console.error(`conformance:selftest: ${error instanceof Error ? error.message : String(error)}`);
    return 2;
  }
  if (values.help) {
    console.log("usage: npm run conformance:selftest -- [--mode server|client|both] [--only NAME]... [--runs N] [--seed S] [--verbose] [--list]");
    return 0;
  }
  const mode = (values.mode ?? "both") as Mode;
  if (!MODES.includes(mode)) return usage(`--mode: expected server, client or both, got '${values.mode}'`);
  const server = mode !== "client";
  const client = mode !== "server";
  if (values.list) {
    if (server) {
      for (const e of FAULTY_ENDPOINTS) console.log(`${e.name}  [${e.kind}${e.slow ? ", slow" : ""}]  ${e.description}\n    catchers: ${e.catchers.join(", ")}`);
      for (const v of CONFORMANT_VARIANTS) console.log(`${v.name}  [variant${v.slow ? ", slow" : ""}]  ${v.description}\n    allowed by: ${v.allowedBy.join(", ")}`);
    }
    if (client) for (const f of FAULTY_CLIENTS) console.log(`${f.name}  [client${f.wrap ? ", driver" : ""}]  ${f.description}\n    catchers: ${f.catchers.join(", ")}`);
    return 0;
  }
  const runs = values.runs === undefined ? 5 : Number(values.runs);
  const seed = values.seed === undefined ? 1 : Number(values.seed);
  if (!Number.isInteger(runs) || runs < 1) return usage(`--runs: expected a positive integer, got '${values.runs}'`);
  if (!Number.isInteger(seed)) return usage(`--seed: expected an integer, got '${values.seed}'`);
  const names = (values.only ?? []).flatMap((v) => v.split(",")).map((v) => v.trim()).filter(Boolean);
  const isServerName = (n: string) => FAULTY_ENDPOINTS.some((e) => e.name === n) || CONFORMANT_VARIANTS.some((v) => v.name === n);
  const isClientName = (n: string) => FAULTY_CLIENTS.some((f) => f.name === n);
  const unknown = names.filter((n) => !(server && isServerName(n)) && !(client && isClientName(n)));
  const kinds = [...(server ? ["faulty endpoint", "variant"] : []), ...(client ? ["faulty client"] : [])];
  if (unknown.length > 0) return usage(`--only: no ${kinds.slice(0, -1).join(", ")}${kinds.length > 1 ? " or " : ""}${kinds.at(-1)} named ${unknown.join(", ")} (see --list${mode === "both" ? "" : ` --mode ${mode}`})`);
  const verbose = values.verbose ?? false;
  // --only NAME runs the half that NAME belongs to; without it, every half of the mode runs whole.
  const runServer = server && (names.length === 0 || names.some(isServerName));
  const runClient = client && (names.length === 0 || names.some(isClientName));
  const faultyClients = names.length > 0 ? FAULTY_CLIENTS.filter((f) => names.includes(f.name)) : FAULTY_CLIENTS;

  try {
    // A faulty client that no longer applies stops the self-test before anything runs, as a source fault does.
    if (runClient) prepareFaultyClients(faultyClients);
    let whole = true;
    if (runServer) {
      if (runClient) console.log("server mode");
      whole = (await serverSelfTest(names, runs, seed, verbose)) && whole;
    }
    if (runClient) {
      if (runServer) console.log("client mode");
      whole = (await clientSelfTest(faultyClients, names.length === 0, seed, verbose)) && whole;
    }
    return whole ? 0 : 1;
  } catch (error) {
    if (!(error instanceof SourceFaultsBroken) && !(error instanceof FaultyClientsBroken)) throw error;
    console.error(`conformance:selftest: ${error.message}`);
    return 1;
  }
}

/** The server half: faulty endpoints and conformant variants; whether every fault was detected and every variant accepted. */
async function serverSelfTest(names: string[], runs: number, seed: number, verbose: boolean): Promise<boolean> {
  const endpoints = names.length > 0 ? FAULTY_ENDPOINTS.filter((e) => names.includes(e.name)) : FAULTY_ENDPOINTS;
  const variants = names.length > 0 ? CONFORMANT_VARIANTS.filter((v) => names.includes(v.name)) : CONFORMANT_VARIANTS;
  const result = await runSelfTest({ endpoints, variants, runs, seed, fullBaseline: names.length === 0, verbose, onLine: (l) => console.log(l) });
  const skipped = result.outcomes.filter((o) => o.status === "unavailable").length;
  if (names.length === 0) {
    console.log(`cases shown to fail: ${result.shownToFail.size} of ${ALL_CASES.length}`);
    for (const n of result.notShown) console.log(`  - ${n.id}: ${n.reason}`);
  } else if (endpoints.length > 0) console.log(`cases shown to fail: ${result.shownToFail.size} (${[...result.shownToFail].join(", ")})`);
  console.log(`seed ${seed}, runs ${runs}, ${(result.durationMs / 1000).toFixed(1)} s${skipped > 0 ? `; ${skipped} endpoint(s) could not run here` : ""}`);
  const accepted = result.variants.filter((v) => v.accepted).length;
  if (result.variants.length > 0) console.log(`variants accepted: ${accepted} of ${result.variants.length}`);
  if (endpoints.length > 0) console.log(`detected ${result.detected} of ${result.total}`);
  const faultsWhole = endpoints.length === 0 || (result.total > 0 && result.detected === result.total);
  return faultsWhole && accepted === result.variants.length;
}

/**
 * The client half: the clean reference client and the faulty clients; whether every client case that ran passed
 * against the reference client, every faulty client was detected and (in a whole run) every client case shown to fail.
 */
async function clientSelfTest(faultyClients: readonly FaultyClient[], whole: boolean, seed: number, verbose: boolean): Promise<boolean> {
  const result = await runClientSelfTest({ faultyClients, fullBaseline: whole, seed, verbose, onLine: (l) => console.log(l) });
  console.log(`client ${whole ? "cases" : "catchers"} passing against the reference client: ${result.passingClean} of ${result.clean.size}`);
  if (whole) {
    console.log(`client cases shown to fail: ${result.shownToFail.size} of ${ALL_CLIENT_CASES.length}`);
    for (const n of result.notShown) console.log(`  - ${n.id}: ${n.reason}`);
  } else console.log(`client cases shown to fail: ${result.shownToFail.size} (${[...result.shownToFail].join(", ")})`);
  const missed = result.outcomes.filter((o) => !o.detected).map((o) => o.faultyClient.name);
  console.log(`seed ${seed}, ${(result.durationMs / 1000).toFixed(1)} s`);
  console.log(`faulty clients detected: ${result.detected} of ${result.total}${missed.length > 0 ? ` (undetected: ${missed.join(", ")})` : ""}`);
  return result.passingClean === result.clean.size && result.total > 0 && result.detected === result.total && (!whole || result.notShown.length === 0);
}

function usage(message: string): number {
  console.error(`conformance:selftest: ${message}`);
  return 2;
}

runIfScript(import.meta.url, "conformance:selftest", main);
