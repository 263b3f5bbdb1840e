/**
 * The client-mode runner (issue 14): for each selected client case, a server of the runner's own
 * (a listener from `startListener`), a fresh client identity and server identity, the case given to
 * the client with the scenario contract's environment (spec §18.1: a driver started with it, or the
 * answer to a listening client's GET /next), the case run against what the client does, then the
 * listener closed and the client's end awaited. The result is the same report as in server mode
 * (report.ts), so every reporter, the baseline and the html report work unchanged.
 */
import { runCoverage } from "../coverage.ts";
import { CaseFailure, CaseSkip, HarnessError } from "../failure.ts";
import { probeIdentity, runSalt } from "../probe/keys.ts";
import type { ProbeIdentity } from "../probe/peer.ts";
import { redactSecrets } from "../probe/redact.ts";
import { Trace } from "../probe/trace.ts";
import { b64u } from "../probe/wire.ts";
import { summarize, TOOL_VERSION, type CaseResult, type Report } from "../report.ts";
import { randomSeed, type RunEvent } from "../runner.ts";
import { select, UsageError } from "../selection.ts";
import { verdictFor } from "../verdict.ts";
import type { ClientCase, ClientCaseContext, ClientConnection } from "./client-case.ts";
import { CLIENT_REQUIREMENTS, clientCoverageLine } from "./coverage.ts";
import { CLIENT_EXCLUSIONS } from "./exclusions.ts";
import { commandClient, describeExit, type CaseClient, type ClientExit } from "./client-process.ts";
import type { ProbeWire } from "./probe-server.ts";

/** The runner's server for one case: where the client connects, and the connections it opens. */
export interface ClientListener {
  /** ws:// URL of its /ws/v1/peers. */
  url: string;
  nextConnection(timeoutMs: number): Promise<ClientConnection | null>;
  /** What the server saw besides connections, when it reports it. */
  wire?: ProbeWire;
  close(): Promise<void>;
}

export type StartListener = (c: ClientCase, setup: { serverIdentity: ProbeIdentity; serverId: string; trace: Trace }) => Promise<ClientListener>;

/**
 * How the client takes part (spec §18.1): each case is given to it with the contract's environment,
 * and it ends the case by exiting (`--command`, commandClient) or by reporting (`--listen`,
 * listening-client.ts).
 */
export interface ClientAttachment {
  /** How the report names the client. */
  readonly label: string;
  /** The run's selected cases, before the first (a listening client may ask for them). */
  begin?(cases: readonly ClientCase[]): void;
  /** Gives one case to the client; rejects with ClientGone when the client does not come for it. */
  start(c: ClientCase, env: Record<string, string>): Promise<CaseClient>;
  /** The run is over (a listening client is told that no case is left). */
  end?(): Promise<void>;
}

/** The client did not come for a case (a listening client that did not ask for it): no later case can run. */
export class ClientGone extends HarnessError {
  constructor(message: string) {
    super(message);
    this.name = "ClientGone";
  }
}

export interface ClientRunOptions {
  /** The client's test driver, run through the shell once per case (`--command`); or `client`. */
  command?: string;
  /** Where the command runs (default: the current directory). */
  cwd?: string;
  /** How the report names the command's client (default: the command). */
  label?: string;
  /** How the client takes part, when not through `command` (a listening client, `--listen`). */
  client?: ClientAttachment;
  cases: readonly ClientCase[];
  startListener: StartListener;
  only?: string[];
  skip?: string[];
  strict?: boolean;
  seed?: number;
  /** Per-case timeout (ms). */
  timeoutMs?: number;
  /** How long the case waits for one step of the client (ms). */
  stepTimeoutMs?: number;
  limits?: Record<string, number>;
  onEvent?: (event: RunEvent) => void;
}

export const CLIENT_DEFAULTS = { timeoutMs: 30_000, stepTimeoutMs: 5000 } as const;

async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new CaseFailure([what], `nothing within ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** The environment of a case (spec §18.1), for a driver's process or a listening client's GET /next. */
export function caseEnvironment(c: ClientCase, setup: { url: string; clientIdentity: ProbeIdentity; serverIdentity: ProbeIdentity }): Record<string, string> {
  return {
    PEER_URL: setup.url,
    PEER_SCENARIO: c.scenario,
    PEER_ENTITY_ID: setup.clientIdentity.entityId,
    PEER_PRIVATE_KEY: b64u(setup.clientIdentity.seed),
    PEER_SERVER_ID: setup.serverIdentity.entityId,
    PEER_SERVER_KEY: b64u(c.serverKey ?? setup.serverIdentity.publicKey),
    PEER_TRANSPORT: c.scenario === "http-only" ? "http-only" : "websocket-first",
    ...c.env,
  };
}

async function runClientCase(c: ClientCase, options: ClientRunOptions, attachment: ClientAttachment, seed: number, salt: string): Promise<{ result: CaseResult; gone?: ClientGone }> {
  const started = Date.now();
  const base = { id: c.id, title: c.title, suite: c.section, level: c.level, requirements: [...c.requirements] };
  const stepTimeoutMs = options.stepTimeoutMs ?? CLIENT_DEFAULTS.stepTimeoutMs;
  const trace = new Trace();
  const clientIdentity = probeIdentity(seed, salt, c.id, 0);
  const serverIdentity = probeIdentity(seed, salt, c.id, 1);
  const serverId = serverIdentity.entityId;
  const notes: string[] = [];
  let listener: ClientListener | undefined;
  let client: CaseClient | undefined;
  let outcome: "pass" | "fail" | "skip" | "error" = "pass";
  let failure: CaseFailure | null = null;
  let message: string | undefined;
  let gone: ClientGone | undefined;
  try {
    listener = await options.startListener(c, { serverIdentity, serverId, trace });
    client = await attachment.start(c, caseEnvironment(c, { url: listener.url, clientIdentity, serverIdentity }));
    const running = client;
    const open = listener;
    const ctx: ClientCaseContext = {
      url: listener.url,
      clientIdentity,
      serverIdentity,
      serverId,
      limits: { ...options.limits, ...c.limits },
      seed,
      trace,
      client: running,
      wire: open.wire ?? { upgrades: [], refusedUpgrades: [], httpRequests: [] },
      async accept(timeoutMs = stepTimeoutMs) {
        const connection = await Promise.race([open.nextConnection(timeoutMs), running.exited.then(() => null)]);
        if (connection) return connection;
        if (!running.running) ctx.fail(`the client connects (scenario ${c.scenario})`, describeExit(await running.exited));
        return ctx.fail(`the client connects within ${timeoutMs} ms (scenario ${c.scenario})`, "no connection");
      },
      exit: (timeoutMs = stepTimeoutMs) => within<ClientExit>(running.exited, timeoutMs, `${running.ending} within ${timeoutMs} ms`),
      fail(expected, actual) {
        throw new CaseFailure(Array.isArray(expected) ? expected : [expected], actual);
      },
      check(condition, expected, actual) {
        if (!condition) ctx.fail(expected, typeof actual === "function" ? actual() : actual);
      },
      note: (text) => void notes.push(text),
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    };
    await within(c.run(ctx), options.timeoutMs ?? CLIENT_DEFAULTS.timeoutMs, `the case to finish within ${options.timeoutMs ?? CLIENT_DEFAULTS.timeoutMs} ms`);
  } catch (error) {
    if (error instanceof CaseFailure) {
      outcome = "fail";
      failure = error;
    } else if (error instanceof CaseSkip) {
      outcome = "skip";
      notes.unshift(error.message);
    } else {
      outcome = "error";
      if (error instanceof ClientGone) gone = error;
      message = HarnessError.from(error).message;
    }
  } finally {
    // The server goes first: a listening client, which the runner cannot stop, sees its connection
    // end and reports; a driver is stopped then.
    await listener?.close();
    const exit = await client?.stop();
    if (failure && exit && !failure.actual.includes(describeExit(exit))) notes.push(describeExit(exit));
    if (failure && client && !exit) notes.push(`${client.ending}: it did not`);
  }
  const verdict = verdictFor(c.level, outcome, options.strict ?? false);
  const result: CaseResult = { ...base, verdict, duration_ms: Date.now() - started };
  if (message) result.message = redactSecrets(message);
  else if (failure) {
    result.message = redactSecrets(failure.message);
    result.expected = failure.expected.map(redactSecrets);
    result.actual = redactSecrets([failure.actual, ...notes].join("; "));
  } else if (notes.length > 0) result.message = redactSecrets(notes.join("; "));
  if ((verdict === "fail" || verdict === "warn" || verdict === "error") && trace.entries.length > 0) result.trace = [...trace.entries];
  return gone ? { result, gone } : { result };
}

/** Runs the selected client cases against the client `command` drives, or the one `client` attaches; the report is server mode's. */
export async function runClientConformance(options: ClientRunOptions): Promise<Report> {
  const attachment = options.client ?? (options.command !== undefined ? commandClient(options.command, { ...(options.cwd ? { cwd: options.cwd } : {}), ...(options.label ? { label: options.label } : {}) }) : undefined);
  if (!attachment) throw new UsageError("client mode needs a client: a command to start (--command) or a listening client (--listen)");
  const { selected, unmatched } = select(options.cases, options.only, options.skip);
  if (unmatched.length > 0) throw new UsageError(`${unmatched.map((s) => `'${s}'`).join(", ")} match${unmatched.length === 1 ? "es" : ""} no client case id, requirement id, suite or section (see client --list)`);
  const seed = (options.seed ?? randomSeed()) | 0;
  const salt = runSalt();
  const startedAt = new Date();
  const target = `client: ${redactSecrets(attachment.label)}`;
  options.onEvent?.({ type: "start", target, seed, total: selected.length, notes: [`client mode: the runner is the server; coverage counts the ${CLIENT_REQUIREMENTS.length} MUST requirements of the client class (spec §18). ${clientCoverageLine(options.cases)}`] });
  const results: CaseResult[] = [];
  let aborted: string | undefined;
  attachment.begin?.(selected);
  for (const [index, c] of selected.entries()) {
    options.onEvent?.({ type: "case-start", index, total: selected.length, case: c });
    const { result, gone } = await runClientCase(c, options, attachment, seed, salt);
    results.push(result);
    options.onEvent?.({ type: "case-end", index, total: selected.length, result, notes: [] });
    // A client that did not come for this case will not come for the next one either.
    if (gone) {
      aborted = `${gone.message}; ${selected.length - index - 1} of ${selected.length} cases not run`;
      break;
    }
  }
  await attachment.end?.();
  const report: Report = {
    tool: "peer-conformance",
    version: TOOL_VERSION,
    target,
    started_at: startedAt.toISOString(),
    duration_ms: Date.now() - startedAt.getTime(),
    seed,
    summary: summarize(results),
    // Counted against the client class of spec §18, not the server's MUST requirements.
    coverage: runCoverage(results, CLIENT_EXCLUSIONS, CLIENT_REQUIREMENTS),
    cases: results,
    ...(aborted ? { aborted } : {}),
  };
  options.onEvent?.({ type: "end", report });
  return report;
}
