/**
 * The context a case runs in: probes on the target with identities fixed by the run's seed and
 * salt (fresh per run, probe/keys.ts), each presenting its own token when the target requires one
 * (probe/token-source.ts), fast-check with the run's seed, HTTP, and the h2spec-style failure
 * helpers. It owns every probe it opens and closes them when the case ends.
 */
import fc from "fast-check";
import type { Case, CaseContext, HttpProbeRequest, HttpRequestOptions, HttpResponse, ProbeRequest, PropertyOptions, TargetInfo } from "./case.ts";
import { CaseFailure, CaseSkip, HarnessError, PropertyFailure } from "./failure.ts";
import { caseSeed, probeIdentity } from "./probe/keys.ts";
import { ProbePeer, type ProbeIdentity } from "./probe/peer.ts";
import { TokenProviderError, TokenRefused, type TokenSource } from "./probe/token-source.ts";
import { tokenEndpoints } from "./probe/tokens.ts";
import { Trace, truncateFrame } from "./probe/trace.ts";
import { connectWebSocket, httpTransport, TransportError, type HttpTransport } from "./probe/transport.ts";
import type { Validators } from "./schemas.ts";

export interface ContextSettings {
  target: TargetInfo;
  runSeed: number;
  /** Fresh per run: goes into the probe identities only, so a re-run meets the target as new entities (probe/keys.ts). */
  runSalt: string;
  runs: number;
  slow: boolean;
  /** fast-check replay path, when replaying one case; `PATH~REPLAYPATH` for a commands property. */
  path?: string;
  /** How many times a counterexample is re-run to tell reproducible from flaky (default 3). */
  reproduce?: number;
  /** Each property keeps generating runs (at least `runs`) for this long (--time-budget). */
  timeBudgetMs?: number;
  validators: Validators | null;
  stepTimeoutMs: number;
  /** When the case must be finished (epoch ms); properties stop shrinking before it. */
  deadline: number;
  /** The run's tokens; null or absent: probes present none. */
  tokens?: TokenSource | null;
  /** The second node of the same deployment (--peer-target), for the cases that need one. */
  peerTarget?: TargetInfo;
  /** The tokens the second node issues to the run's probes (its own §4.5 flow, or the provider's). */
  peerTokens?: TokenSource | null;
}

export class RunContext implements CaseContext {
  readonly fc = fc;
  readonly seed: number;
  readonly trace: Trace;
  readonly violations: string[] = [];
  readonly notes: string[] = [];
  private readonly probes: ProbePeer[] = [];
  private probeCount = 0;
  /** A token provider that failed: the runner stops the run on it, whatever the case made of it. */
  harnessError: TokenProviderError | null = null;

  constructor(
    private readonly caseDef: Case,
    private readonly settings: ContextSettings,
  ) {
    this.seed = caseSeed(settings.runSeed, caseDef.id);
    this.trace = new Trace(Date.now());
  }

  get target(): TargetInfo {
    return this.settings.target;
  }
  get peerTarget(): TargetInfo | null {
    return this.settings.peerTarget ?? null;
  }
  get limits(): Record<string, number> {
    return this.settings.target.limits;
  }
  get runs(): number {
    return this.settings.runs;
  }
  get slow(): boolean {
    return this.settings.slow;
  }
  get validators(): Validators | null {
    return this.settings.validators;
  }
  get replayPath(): string | undefined {
    return this.settings.path?.split("~")[1] || undefined;
  }
  get presentsTokens(): boolean {
    return this.settings.tokens?.presents ?? false;
  }

  identity(index: number): ProbeIdentity {
    return probeIdentity(this.settings.runSeed, this.settings.runSalt, this.caseDef.id, index);
  }

  async token(identity: ProbeIdentity, node: "target" | "peer" = "target"): Promise<string> {
    const tokens = node === "peer" ? this.settings.peerTokens : this.settings.tokens;
    if (!tokens) throw new Error(`no token source${node === "peer" ? " for the peer target" : ""}: the run presents no tokens`);
    try {
      return await tokens.tokenFor(identity);
    } catch (error) {
      if (error instanceof TokenProviderError) this.harnessError ??= error;
      throw error;
    }
  }

  /** The `Authorization` value a probe or request of `identity` presents, per `token` (ProbeRequest.token). */
  private async bearer(identity: ProbeIdentity, token: false | string | undefined, node: "target" | "peer" = "target"): Promise<string | undefined> {
    if (token === false) return undefined;
    if (typeof token === "string") return `Bearer ${token}`;
    const presents = node === "peer" ? (this.settings.peerTokens?.presents ?? false) : this.presentsTokens;
    return presents ? `Bearer ${await this.token(identity, node)}` : undefined;
  }

  /** The node a probe connects to (ProbeRequest.node); asking for the peer without one is the case's mistake, a harness error. */
  private nodeOf(request: ProbeRequest): TargetInfo {
    if (request.node !== "peer") return this.target;
    if (!this.settings.peerTarget) throw new Error(`case ${this.caseDef.id} opened a probe on the peer target, but no --peer-target was given (mark the case needsPeerTarget)`);
    return this.settings.peerTarget;
  }

  /** Set when the case has ended (or timed out): a run still going must not open more probes. */
  private disposed = false;

  private checkLive(): void {
    if (this.disposed) throw new CaseFailure(["the case still running"], "the case ended (timed out) while a probe was being opened");
  }

  async probe(request: ProbeRequest = {}): Promise<ProbePeer> {
    this.checkLive();
    const index = request.identityIndex ?? this.probeCount;
    this.probeCount++;
    const own = request.identity ?? this.identity(index);
    const identity = request.entityId ? { ...own, entityId: request.entityId } : own;
    const node = this.nodeOf(request);
    const wsUrl = request.wsUrl ?? node.wsUrl;
    const url = new URL(request.endpoint === "events" ? wsUrl.replace(/\/ws\/v1\/peers$/, "/ws/v1/events") : wsUrl);
    for (const [k, v] of Object.entries(request.query ?? {})) url.searchParams.set(k, v);
    // The token names the identity the probe speaks as (PP-AUTH-007); a case's own Authorization wins.
    const authorization = hasAuthorization(request.headers) ? undefined : await this.bearer(identity, request.token, request.node);
    const headers = { ...(authorization ? { authorization } : {}), ...request.headers };
    let transport;
    try {
      transport = await connectWebSocket(url.href, { headers, timeoutMs: this.settings.stepTimeoutMs, autoPong: request.wsAutoPong });
    } catch (error) {
      if (error instanceof TransportError) throw new CaseFailure([`a WebSocket upgrade at ${url.href}`], error.message);
      throw error;
    }
    const label = request.label ?? (this.probeCount > 1 || request.identityIndex !== undefined ? `p${index}` : undefined);
    const probe = new ProbePeer(transport, {
      identity,
      serverId: request.serverId ?? (node.serverId || undefined),
      validators: this.settings.validators,
      trace: this.trace,
      label,
      onViolation: (message) => this.violations.push(message),
      stepTimeoutMs: request.stepTimeoutMs ?? this.settings.stepTimeoutMs,
      autoPong: request.autoPong,
    });
    this.trace.add("out", `<connect ${url.href}${authorization ? " with the probe's token" : ""}>`, label);
    this.probes.push(probe);
    return probe;
  }

  httpProbe(request: HttpProbeRequest = {}): { probe: ProbePeer; http: HttpTransport } {
    this.checkLive();
    const index = request.identityIndex ?? this.probeCount;
    this.probeCount++;
    const label = request.label ?? `http${index}`;
    const identity = request.identity ?? this.identity(index);
    const http = httpTransport(request.baseUrl ?? this.target.baseUrl, {
      timeoutMs: this.settings.stepTimeoutMs,
      onExchange: (e) => this.trace.add("in", `HTTP ${e.status} for ${e.method} ${e.path}${e.body !== undefined && !(typeof e.body === "object" && e.body !== null && "type" in e.body) ? `: ${e.text}` : ""}`, label),
      // Asked on every request: the token is renewed before it expires (token-source.ts).
      authorization: async () => {
        try {
          return await this.bearer(identity, request.token);
        } catch (error) {
          // The request is not sent; the case fails on the missing answer, and this says why.
          if (error instanceof TokenRefused) this.violations.push(`[${label}] ${error.message}`);
          throw error;
        }
      },
    });
    const probe = new ProbePeer(http, {
      identity,
      serverId: this.target.serverId || undefined,
      validators: this.settings.validators,
      trace: this.trace,
      label,
      onViolation: (message) => this.violations.push(message),
      stepTimeoutMs: this.settings.stepTimeoutMs,
      autoPong: false,
    });
    this.probes.push(probe);
    return { probe, http };
  }

  async tryProbe(request: ProbeRequest = {}): Promise<ProbePeer | { refusedStatus: number | null; message: string }> {
    try {
      return await this.probe(request);
    } catch (error) {
      // A token the target would not issue is no refused upgrade: it fails the case as it is.
      if (error instanceof CaseFailure && !(error instanceof TokenRefused)) {
        const status = /refused with HTTP (\d+)/.exec(error.actual);
        this.trace.add("in", `<upgrade refused: ${error.actual}>`);
        return { refusedStatus: status ? Number(status[1]) : null, message: error.actual };
      }
      throw error;
    }
  }

  async session(request: ProbeRequest = {}): Promise<ProbePeer> {
    const probe = await this.probe(request);
    await probe.handshake();
    return probe;
  }

  async property<T>(arbitrary: fc.Arbitrary<T>, predicate: (value: T) => Promise<void>, options: PropertyOptions<T> = {}): Promise<void> {
    const runOnce = async (value: T): Promise<void> => {
      const openBefore = this.probes.length;
      const violationsBefore = this.violations.length;
      try {
        await predicate(value);
        const fresh = this.violations.slice(violationsBefore);
        if (fresh.length > 0) throw new CaseFailure(["every message the target emits follows the spec"], fresh.join("; "));
      } finally {
        for (const probe of this.probes.splice(openBefore)) probe.close();
      }
    };
    const remaining = this.settings.deadline - Date.now();
    const path = this.settings.path?.split("~")[0];
    const requested = options.numRuns ?? this.settings.runs;
    // With --time-budget the runs go on until the budget is spent (a search, not a replay).
    const budget = path ? undefined : this.settings.timeBudgetMs;
    const details = await fc.check(
      fc.asyncProperty(arbitrary, async (value) => {
        await runOnce(value);
      }),
      {
        seed: this.seed,
        numRuns: budget ? Math.max(requested, 1_000_000) : requested,
        ...(path ? { path } : {}),
        // Time is kept back to shrink and re-run the counterexample (below).
        interruptAfterTimeLimit: budget ? Math.min(budget, remaining / 2) : Math.max(1000, remaining - Math.min(8000, Math.max(2000, remaining * 0.25))),
        markInterruptAsFailure: false,
      },
    );
    if (budget) this.notes.push(`ran ${details.numRuns} runs in the time budget`);
    else if (details.interrupted && details.numRuns < requested) this.notes.push(`ran ${details.numRuns} of ${requested} runs within the time budget (--timeout raises it)`);
    if (!details.failed || details.counterexample === null) return;
    const counterexample = details.counterexample[0] as T;
    const rendered = fc.stringify(counterexample);
    // fast-check's commands shrink by what ran; their replay needs this hint beside seed and path.
    const replayPath = /\/\*replayPath="([^"]*)"\*\//.exec(rendered)?.[1];
    // Re-run the counterexample alone, K times: the trace and violations shown are its own, and a
    // failure that does not come back is reported as flaky (never as a pass).
    const times = Math.max(1, this.settings.reproduce ?? 3);
    let reproduced = 0;
    let attempts = 0;
    let failure: CaseFailure | null = null;
    let failingTrace: typeof this.trace.entries = [];
    let failingViolations: string[] = [];
    for (; attempts < times && (attempts === 0 || Date.now() < this.settings.deadline - 2000); attempts++) {
      this.trace.entries.length = 0;
      this.violations.length = 0;
      this.trace.add("out", `<re-run ${attempts + 1} of ${times} of the counterexample ${truncateFrame(rendered, 500)}>`);
      try {
        await runOnce(counterexample);
      } catch (error) {
        // A probe exception is the harness's failure, not a counterexample against the target.
        if (error instanceof CaseSkip) throw error;
        if (!(error instanceof CaseFailure)) throw HarnessError.from(error);
        reproduced++;
        failure = error;
        failingTrace = [...this.trace.entries];
        failingViolations = [...this.violations];
      }
    }
    if (failure) {
      this.trace.entries.splice(0, this.trace.entries.length, ...failingTrace);
      this.violations.splice(0, this.violations.length, ...failingViolations);
    }
    const describe = options.describe ? options.describe(counterexample) : rendered;
    let verdictNote = `reproduced ${reproduced} of ${attempts}`;
    if (!failure) {
      const error = details.errorInstance;
      if (error instanceof CaseSkip) throw error;
      if (!(error instanceof CaseFailure)) throw HarnessError.from(error);
      failure = error;
      const timing = options.timing?.(counterexample) || "the target's scheduling and ACK delays, or traffic before it";
      verdictNote = `flaky: reproduced 0 of ${attempts}; it failed during the search only, and depends on ${timing}`;
      this.notes.push(`flaky: the counterexample failed during the search but passed ${attempts} of ${attempts} re-runs alone`);
    }
    const fullPath = `${details.counterexamplePath ?? ""}${replayPath ? `~${replayPath}` : ""}`;
    const marked = new CaseFailure(failure.expected, failure.actual, `${failure.message} [${verdictNote}]`);
    throw new PropertyFailure(marked, describe, this.settings.runSeed, fullPath);
  }

  async http(method: string, path: string, options: HttpRequestOptions = {}): Promise<HttpResponse> {
    const url = `${this.target.baseUrl}${path}`;
    const authorization = this.needsToken(path) && !hasAuthorization(options.headers) ? await this.bearer(options.identity ?? this.identity(0), options.token) : undefined;
    const bodyText = options.body === undefined ? "" : typeof options.body === "string" ? options.body : `<${options.body.length} bytes>`;
    this.trace.add("out", `${method} ${path}${bodyText ? ` ${bodyText}` : ""}`);
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: { ...(options.body !== undefined ? { "content-type": "application/json" } : {}), ...(authorization ? { authorization } : {}), ...options.headers },
        body: options.body as RequestInit["body"],
        signal: AbortSignal.timeout(this.settings.stepTimeoutMs),
      });
    } catch (error) {
      const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error);
      this.trace.add("in", `<no response: ${cause}>`);
      throw new CaseFailure([`an HTTP response to ${method} ${path}`], `no response (${cause})`);
    }
    const text = await response.text();
    this.trace.add("in", `HTTP ${response.status} ${text}`);
    let json: unknown = undefined;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    const headers: Record<string, string> = {};
    response.headers.forEach((value, key) => (headers[key] = value));
    return { status: response.status, headers, text, json };
  }

  /** Every route but discovery (PP-TRN-014) and the token endpoints (§4.5) needs a token when tokens are required. */
  private needsToken(path: string): boolean {
    const route = path.split("?")[0] ?? path;
    const endpoints = tokenEndpoints(this.target.discovery);
    return route !== "/peers/capabilities" && route !== endpoints.challenge && route !== endpoints.verify;
  }

  fail(expected: string | string[], actual: string): never {
    throw new CaseFailure(typeof expected === "string" ? [expected] : expected, actual);
  }

  check(condition: boolean, expected: string | string[], actual: string | (() => string)): void {
    if (!condition) this.fail(expected, typeof actual === "function" ? actual() : actual);
  }

  skip(reason: string): never {
    throw new CaseSkip(reason);
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }

  note(text: string): void {
    this.notes.push(text);
  }

  /** Closes every probe still open; no probe opens after. */
  dispose(): void {
    this.disposed = true;
    for (const probe of this.probes.splice(0)) probe.close();
  }
}

/** Whether a case set its own Authorization header (any spelling: header names are case-insensitive). */
function hasAuthorization(headers: Record<string, string> | undefined): boolean {
  return Object.keys(headers ?? {}).some((name) => name.toLowerCase() === "authorization");
}
