/**
 * The runner: selects cases, resolves the target (starting the embedded reference server when
 * none is given), runs each case with a timeout in its own context, turns outcomes into verdicts
 * and builds the report. It never prints; progress goes to `onEvent` for the reporters.
 *
 * Library use (e.g. from vitest): `const report = await runConformance({ only: ["handshake"] })`.
 *
 * ```ts
 * import { runConformance } from "peer-protocol/conformance";
 * ```
 *
 * @module peer-protocol/conformance
 */
import type { Case, TargetInfo } from "./case.ts";
import { ALL_CASES } from "./cases/index.ts";
import { RunContext } from "./context.ts";
import { runCoverage } from "./coverage.ts";
import { CaseFailure, CaseSkip, HarnessError, PropertyFailure } from "./failure.ts";
import { probeIdentity, runSalt } from "./probe/keys.ts";
import { redactSecrets } from "./probe/redact.ts";
import { TokenSource, type TokenProvider } from "./probe/token-source.ts";
import { summarize, TOOL_VERSION, type CaseResult, type Report } from "./report.ts";
import { VALIDATORS, type Validators } from "./schemas.ts";
import { select, UsageError } from "./selection.ts";
import { stillAnswering } from "./liveness.ts";
import { preflight } from "./preflight.ts";
import { configureTls, type TlsSettings } from "./probe/tls.ts";
import { fetchDiscovery, normalizeTarget, targetInfo, TargetError } from "./target.ts";
import { verdictFor } from "./verdict.ts";

/** Options of the embedded reference server; other members are passed through unchanged. */
export interface EmbeddedOptions {
  limits?: Partial<Record<string, number>>;
  [option: string]: unknown;
}

export interface RunOptions {
  /** ws(s) URL of /ws/v1/peers or http(s) base URL; none starts the embedded reference server. */
  target?: string;
  /**
   * A second node of the same deployment as `target` (the CLI's --peer-target), in the same forms:
   * the cluster cases run across the two; without it they are skipped. Needs `target`.
   */
  peerTarget?: string;
  embedded?: EmbeddedOptions;
  cases?: readonly Case[];
  only?: string[];
  skip?: string[];
  strict?: boolean;
  slow?: boolean;
  runs?: number;
  seed?: number;
  path?: string;
  /** Per-case timeout (ms). */
  timeoutMs?: number;
  /** Each property keeps generating runs (at least `runs`) for this long; the per-case timeout grows to match. */
  timeBudgetMs?: number;
  /** How long a probe waits for one answer (ms). */
  stepTimeoutMs?: number;
  /** An Origin the target's allowlist refuses, for the Origin case (PP-AUTH-009); optional. */
  forbiddenOrigin?: string;
  /** Which traces the report keeps. */
  traces?: "failures" | "all" | "none";
  onEvent?: (event: RunEvent) => void;
  /** Schema validators for what the target emits; null disables the checks (tests only). */
  validators?: Validators | null;
  /**
   * Tokens for targets whose tokens come from elsewhere (the CLI's --token-command). Asked once per
   * probe identity (cached until near expiry); with it every probe presents a token even when
   * discovery does not say tokens are required. Without it, a target whose discovery says
   * `auth.required` gets each probe's token from its own §4.5 flow. A throw stops the run with a
   * TokenProviderError: the harness failed, not the target.
   */
  tokenProvider?: TokenProvider;
  /** TLS towards the target (the CLI's --ca and --insecure); applies to the whole process from this run on. */
  tls?: TlsSettings;
}

export type RunEvent =
  | { type: "preflight"; target: string }
  | { type: "start"; target: string; seed: number; total: number; notes: string[] }
  | { type: "case-start"; index: number; total: number; case: Pick<Case, "id" | "title" | "requirements" | "level"> }
  | { type: "case-end"; index: number; total: number; result: CaseResult; notes: string[] }
  | { type: "end"; report: Report };

/**
 * The limits the embedded reference runs with: a small retransmit_buffer, so that generated
 * scenarios reach it within the default budget (a burst past it within rate_limit_per_minute), and
 * a send queue small enough that the slow-consumer cases overflow it with retransmit_buffer
 * records, past the kernel's socket buffers; and a request timeout of 2 s, so that the case that
 * waits for it (PP-LIM-010) does not wait the default 10. The cases read the limits the target
 * advertises, so any server can be tested the same way when started with small limits.
 */
export const EMBEDDED_LIMITS: Readonly<Record<string, number>> = { retransmit_buffer: 64, max_send_queue_bytes: 2_097_152, request_timeout_ms: 2000, max_buffered_bytes: 16_777_216 };

/** Why a cluster case is skipped when the run has one node only. */
export const PEER_TARGET_SKIP = "needs --peer-target: a second node of the same deployment";

/** Defaults; --slow raises the per-case timeout so that cases can wait for protocol timers. */
export const DEFAULTS = { runs: 25, timeoutMs: 30_000, slowTimeoutMs: 180_000, stepTimeoutMs: 3000 } as const;

/** A fresh run seed: a 32-bit signed integer, as fast-check and the report schema take it. */
export const randomSeed = (): number => (Math.random() * 0x1_0000_0000) | 0;

interface EmbeddedServer {
  url: string;
  close(): Promise<void>;
}

/** The reference's embedded.ts beside these sources, or embedded.js beside the build of them in dist/ (run without a TypeScript loader). */
const EMBEDDED_MODULE = new URL(`../../reference/src/server/embedded${import.meta.url.endsWith(".ts") ? ".ts" : ".js"}`, import.meta.url).href;

/**
 * Starts the reference server (the only thing taken from reference/, DESIGN.md §2). `moduleUrl` is the
 * URL of another copy's embedded.ts, such as the self-test's patched scratch copies (which need a TypeScript loader, as the self-test has).
 */
export async function startEmbedded(options: EmbeddedOptions = {}, moduleUrl: string = EMBEDDED_MODULE): Promise<EmbeddedServer> {
  let module: { startEmbeddedServer?: (options?: EmbeddedOptions) => Promise<EmbeddedServer> };
  try {
    module = (await import(moduleUrl)) as typeof module;
  } catch (error) {
    throw new TargetError(`no TARGET given and the embedded reference server cannot be loaded (${error instanceof Error ? error.message.split("\n")[0] : String(error)})`);
  }
  if (typeof module.startEmbeddedServer !== "function") throw new TargetError("no TARGET given and reference/src/server/embedded.ts exports no startEmbeddedServer");
  return module.startEmbeddedServer(options);
}

/**
 * Discovery, then the pre-flight handshake (preflight.ts): a TargetError when the target is
 * unreachable, a NotPeerProtocolError when it does not speak Peer Protocol v1.2. The server id
 * comes from discovery, or from the pre-flight's HANDSHAKE_INIT_ACK.
 */
export async function resolveTarget(target: string, seed: number, stepTimeoutMs: number, salt: string = runSalt(), tokenProvider?: TokenProvider, probeIndex = 0): Promise<TargetInfo & { preflightNotes: string[] }> {
  const urls = normalizeTarget(target);
  const { document, error } = await fetchDiscovery(urls.baseUrl, stepTimeoutMs);
  const tokens = new TokenSource({ baseUrl: urls.baseUrl, discovery: document, timeoutMs: stepTimeoutMs, ...(tokenProvider ? { provider: tokenProvider } : {}) });
  const checked = await preflight({ ...urls, discovery: document, discoveryError: error, identity: probeIdentity(seed, salt, "runner", probeIndex), stepTimeoutMs, tokens });
  return { ...targetInfo(urls, document, error, checked.serverId), preflightNotes: checked.notes };
}

async function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout();
      reject(new CaseFailure([`the case to finish within ${ms} ms (--timeout)`], "it timed out"));
    }, ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * `runSalt` makes the probe identities fresh (probe/keys.ts); one is drawn per call when absent.
 * `tokens` are the run's (probe/token-source.ts); absent, the case gets its own, which presents
 * tokens when discovery says they are required. A token provider that fails is thrown (TokenProviderError).
 */
export async function runCase(c: Case, target: TargetInfo, settings: { runSeed: number; runSalt?: string; runs: number; slow: boolean; strict: boolean; path?: string; timeoutMs: number; timeBudgetMs?: number; stepTimeoutMs: number; traces: "failures" | "all" | "none"; validators: Validators | null; tokens?: TokenSource; peerTarget?: TargetInfo; peerTokens?: TokenSource }): Promise<{ result: CaseResult; notes: string[] }> {
  const started = Date.now();
  const base = { id: c.id, title: c.title, suite: c.section, level: c.level, requirements: [...c.requirements] };
  if (c.needsPeerTarget && !settings.peerTarget) return { result: { ...base, verdict: "skip", duration_ms: 0, message: PEER_TARGET_SKIP }, notes: [] };
  const missing = (c.requires ?? []).filter((cap) => !target.capabilities.includes(cap));
  if (missing.length > 0) return { result: { ...base, verdict: "skip", duration_ms: 0, message: `the target does not advertise ${missing.join(", ")}` }, notes: [] };
  const peerMissing = c.needsPeerTarget ? (c.requires ?? []).filter((cap) => !settings.peerTarget?.capabilities.includes(cap)) : [];
  if (peerMissing.length > 0) return { result: { ...base, verdict: "skip", duration_ms: 0, message: `the peer target does not advertise ${peerMissing.join(", ")}` }, notes: [] };
  if (c.slow && !settings.slow) return { result: { ...base, verdict: "skip", duration_ms: 0, message: "waits for real protocol timers: run with --slow" }, notes: [] };

  // A time budget for properties grows the case's timeout: the budget, then time to shrink and re-run.
  const timeoutMs = settings.timeBudgetMs ? Math.max(settings.timeoutMs, settings.timeBudgetMs * 2 + 30_000) : settings.timeoutMs;
  const tokens = settings.tokens ?? new TokenSource({ baseUrl: target.baseUrl, discovery: target.discovery, timeoutMs: settings.stepTimeoutMs });
  const peer = c.needsPeerTarget && settings.peerTarget ? { peerTarget: settings.peerTarget, peerTokens: settings.peerTokens ?? new TokenSource({ baseUrl: settings.peerTarget.baseUrl, discovery: settings.peerTarget.discovery, timeoutMs: settings.stepTimeoutMs }) } : {};
  const ctx = new RunContext(c, { ...peer, target, runSeed: settings.runSeed, runSalt: settings.runSalt ?? runSalt(), runs: settings.runs, slow: settings.slow, path: settings.path, validators: settings.validators, stepTimeoutMs: settings.stepTimeoutMs, deadline: started + timeoutMs, tokens, ...(settings.timeBudgetMs ? { timeBudgetMs: settings.timeBudgetMs } : {}) });
  let outcome: "pass" | "fail" | "skip" | "error" = "pass";
  let failure: CaseFailure | null = null;
  let message: string | undefined;
  try {
    await withTimeout(c.run(ctx), timeoutMs, () => ctx.dispose());
  } catch (error) {
    if (error instanceof CaseSkip) {
      outcome = "skip";
      message = error.message;
    } else if (error instanceof CaseFailure) {
      outcome = "fail";
      failure = error;
    } else {
      // An exception of the probe or the case is the harness's failure, never the target's.
      outcome = "error";
      message = HarnessError.from(error).message;
    }
  } finally {
    ctx.dispose();
  }
  // The user's token provider failed: no verdict on the target can be drawn from this case, or the run.
  if (ctx.harnessError) throw ctx.harnessError;
  // What the target emitted is checked whatever the case asserted (PP-ENV-001 and friends).
  if (ctx.violations.length > 0 && outcome !== "skip" && outcome !== "error") {
    const violations = [...new Set(ctx.violations)];
    if (!failure) {
      failure = new CaseFailure(["every message the target emits follows the spec"], violations.join("; "), violations[0]);
    } else {
      failure = Object.assign(new CaseFailure(failure.expected, `${failure.actual}; also: ${violations.join("; ")}`, `${violations[0]} (and: ${failure.message})`), {
        counterexample: (failure as PropertyFailure).counterexample,
        seed: (failure as PropertyFailure).seed,
        path: (failure as PropertyFailure).path,
      });
    }
    outcome = "fail";
  }
  const verdict = verdictFor(c.level, outcome, settings.strict);
  const result: CaseResult = { ...base, verdict, duration_ms: Date.now() - started };
  // Tokens never reach a report (probe/redact.ts): a failure may quote a URL with ?token= or an answer of /auth/verify.
  if (message) result.message = redactSecrets(message);
  else if (ctx.notes.length > 0 && !failure) result.message = redactSecrets(ctx.notes.join("; "));
  if (failure) {
    result.message = redactSecrets(failure.message);
    result.expected = failure.expected.map(redactSecrets);
    result.actual = redactSecrets(failure.actual);
    const property = failure as Partial<PropertyFailure>;
    if (typeof property.counterexample === "string") {
      result.counterexample = redactSecrets(property.counterexample);
      result.replay = { seed: settings.runSeed, path: property.path ?? "" };
    }
  }
  const keepTrace = settings.traces === "all" || (settings.traces === "failures" && (verdict === "fail" || verdict === "warn" || verdict === "error"));
  if (keepTrace && ctx.trace.entries.length > 0) result.trace = [...ctx.trace.entries];
  return { result, notes: ctx.notes.map(redactSecrets) };
}

/** Runs the selected cases against the target and returns the report. Throws UsageError or TargetError. */
export async function runConformance(options: RunOptions = {}): Promise<Report> {
  const all = options.cases ?? ALL_CASES;
  const { selected, unmatched } = select(all, options.only, options.skip);
  if (unmatched.length > 0) throw new UsageError(`${unmatched.map((s) => `'${s}'`).join(", ")} match${unmatched.length === 1 ? "es" : ""} no case id, requirement id, suite or section (see --list)`);
  if (options.path && selected.length !== 1) throw new UsageError(`--path replays one case: select exactly one with --only (${selected.length} selected)`);
  if (options.peerTarget !== undefined && options.target === undefined) throw new UsageError("--peer-target needs TARGET: the two nodes of one deployment (the embedded reference server is a single node)");
  if (options.peerTarget !== undefined && options.target !== undefined && sameNode(options.target, options.peerTarget)) throw new UsageError(`--peer-target ${redactSecrets(options.peerTarget)} is TARGET itself: give another node of the same deployment (another host or port)`);
  const seed = (options.seed ?? randomSeed()) | 0;
  // Fresh on every call, replays included: the same seed twice against one live target must meet
  // it as new entities, not as the last run's (probe/keys.ts).
  const salt = runSalt();
  const runs = options.runs ?? DEFAULTS.runs;
  const stepTimeoutMs = options.stepTimeoutMs ?? DEFAULTS.stepTimeoutMs;
  const startedAt = new Date();

  const embedded = options.target ? null : await startEmbedded({ ...options.embedded, limits: { ...EMBEDDED_LIMITS, ...options.embedded?.limits } });
  try {
    const targetUrl = options.target ?? embedded!.url;
    configureTls(options.tls ?? {});
    options.onEvent?.({ type: "preflight", target: redactSecrets(options.target ?? `${targetUrl} (embedded reference server)`) });
    const { preflightNotes, ...target }: TargetInfo & { preflightNotes: string[] } = await resolveTarget(targetUrl, seed, stepTimeoutMs, salt, options.tokenProvider);
    if (options.forbiddenOrigin !== undefined) target.forbiddenOrigin = options.forbiddenOrigin;
    const tokens = new TokenSource({ baseUrl: target.baseUrl, discovery: target.discovery, timeoutMs: stepTimeoutMs, ...(options.tokenProvider ? { provider: options.tokenProvider } : {}) });
    // The second node is checked as the first is, before any case: unreachable or not Peer Protocol stops the run (exit 2).
    const peer = options.peerTarget === undefined ? null : await resolvePeerTarget(options.peerTarget, seed, stepTimeoutMs, salt, options.tokenProvider, options.onEvent);
    // The user's provider is tried once before any case, so that a broken one stops the run at once (exit 2).
    if (options.tokenProvider) await tokens.tokenFor(probeIdentity(seed, salt, "runner", 0));
    const validators = options.validators === undefined ? VALIDATORS : options.validators;
    const notes: string[] = [];
    if (!validators) notes.push("inbound messages are not schema-checked (validators disabled)");
    if (target.discoveryError) notes.push(`discovery failed (${target.discoveryError}); using the spec's default limits`);
    notes.push(...preflightNotes);
    if (peer) notes.push(`the cluster cases run across TARGET and the peer target ${redactSecrets(options.peerTarget ?? "")}, two nodes of one deployment`, ...peer.preflightNotes.map((n) => `peer target ${n}`));
    if (options.tokenProvider) notes.push("every probe identity presents a token from the token provider (--token-command)");
    else if (tokens.presents) notes.push("the target requires tokens (discovery auth.required): every probe identity presents its own, obtained by spec §4.5");
    options.onEvent?.({ type: "start", target: redactSecrets(options.target ?? `${targetUrl} (embedded reference server)`), seed, total: selected.length, notes });

    const results: CaseResult[] = [];
    let aborted: string | undefined;
    for (const [index, c] of selected.entries()) {
      options.onEvent?.({ type: "case-start", index, total: selected.length, case: c });
      const { result, notes: caseNotes } = await runCase(c, target, {
        runSeed: seed,
        runSalt: salt,
        runs,
        slow: options.slow ?? false,
        strict: options.strict ?? false,
        path: options.path,
        timeoutMs: options.timeoutMs ?? (options.slow ? DEFAULTS.slowTimeoutMs : DEFAULTS.timeoutMs),
        ...(options.timeBudgetMs ? { timeBudgetMs: options.timeBudgetMs } : {}),
        stepTimeoutMs,
        traces: options.traces ?? "failures",
        validators,
        tokens,
        ...(peer ? { peerTarget: peer.target, peerTokens: peer.tokens } : {}),
      });
      // A case that failed may have met a target that is gone: then no later case can say anything.
      const failed = result.verdict === "fail" || result.verdict === "error";
      const gone = failed ? ((await stillAnswering(target.baseUrl, stepTimeoutMs)) ?? (peer && c.needsPeerTarget ? await peerGone(peer.target.baseUrl, stepTimeoutMs) : null)) : null;
      if (gone) {
        result.verdict = "error";
        result.message = `the target stopped answering during this case (${gone}); if this case's input crashed it, replay it alone: --only ${c.id} --seed ${seed}`;
        aborted = `the target stopped answering during case ${c.id} (${gone}); ${selected.length - index - 1} of ${selected.length} cases not run`;
      }
      results.push(result);
      options.onEvent?.({ type: "case-end", index, total: selected.length, result, notes: caseNotes });
      if (aborted) break;
    }
    const report: Report = {
      tool: "peer-conformance",
      version: TOOL_VERSION,
      target: options.target ? redactSecrets(options.target) : "embedded",
      ...(options.peerTarget !== undefined ? { peer_target: redactSecrets(options.peerTarget) } : {}),
      started_at: startedAt.toISOString(),
      duration_ms: Date.now() - startedAt.getTime(),
      seed,
      summary: summarize(results),
      coverage: runCoverage(results),
      cases: results,
      ...(aborted ? { aborted } : {}),
    };
    options.onEvent?.({ type: "end", report });
    return report;
  } finally {
    await embedded?.close();
  }
}

/** Whether two TARGET arguments name one node: the same scheme, host, port and path once normalized. */
export function sameNode(a: string, b: string): boolean {
  try {
    return normalizeTarget(a).baseUrl.toLowerCase() === normalizeTarget(b).baseUrl.toLowerCase();
  } catch {
    return false;
  }
}

/**
 * The second node (--peer-target): discovery and the pre-flight handshake as for TARGET, with its own
 * probe identity and tokens; every error names the flag, so that a typo in it is not blamed on TARGET.
 */
async function resolvePeerTarget(url: string, seed: number, stepTimeoutMs: number, salt: string, tokenProvider: TokenProvider | undefined, onEvent: RunOptions["onEvent"]): Promise<{ target: TargetInfo; tokens: TokenSource; preflightNotes: string[] }> {
  onEvent?.({ type: "preflight", target: `${redactSecrets(url)} (peer target)` });
  let resolved: TargetInfo & { preflightNotes: string[] };
  try {
    resolved = await resolveTarget(url, seed, stepTimeoutMs, salt, tokenProvider, 1);
  } catch (error) {
    if (error instanceof TargetError) {
      error.message = `--peer-target: ${error.message}`;
    }
    throw error;
  }
  const { preflightNotes, ...target } = resolved;
  const tokens = new TokenSource({ baseUrl: target.baseUrl, discovery: target.discovery, timeoutMs: stepTimeoutMs, ...(tokenProvider ? { provider: tokenProvider } : {}) });
  return { target, tokens, preflightNotes };
}

async function peerGone(baseUrl: string, stepTimeoutMs: number): Promise<string | null> {
  const gone = await stillAnswering(baseUrl, stepTimeoutMs);
  return gone ? `the peer target: ${gone}` : null;
}
