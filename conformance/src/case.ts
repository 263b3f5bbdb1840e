/**
 * The case model (STYLE.md, after h2spec): one file of cases per spec section, each case declaring
 * its id, the requirements it checks, its level and a `run`. Cases never print, parse flags or
 * pick ports; the runner gives them a context.
 */
import type fc from "fast-check";
import type { ProbeIdentity, ProbeOptions, ProbePeer } from "./probe/peer.ts";
import type { HttpTransport } from "./probe/transport.ts";
import type { Validators } from "./schemas.ts";

export type Level = "MUST" | "SHOULD" | "MAY";

export interface Case {
  /** `<suite>.<name>`, stable: reports, baselines and replay files name cases by it. */
  id: string;
  title: string;
  /** The suite: one file under cases/, named after its spec section (`handshake`). */
  suite: string;
  /** The spec section the suite covers, as the report names it (`6. Handshake`). */
  section: string;
  requirements: string[];
  level: Level;
  /** Capabilities the target must advertise in discovery; the case is skipped otherwise. */
  requires?: string[];
  /** Waits for real protocol timers longer than the runner's budget: runs only with --slow. */
  slow?: boolean;
  /**
   * Needs a second node of the same deployment (--peer-target): the case is skipped without one,
   * and `requires` holds on both nodes.
   */
  needsPeerTarget?: boolean;
  run(ctx: CaseContext): Promise<void>;
}

export interface TargetInfo {
  /** http(s) base URL, without a trailing slash. */
  baseUrl: string;
  /** ws(s) URL of /ws/v1/peers. */
  wsUrl: string;
  /** The discovery document, or null when GET /peers/capabilities failed. */
  discovery: Record<string, unknown> | null;
  discoveryError: string | null;
  serverId: string;
  /** The discovery identity key (b64u), when known. */
  identityKey: string | null;
  capabilities: string[];
  versions: string[];
  /** Advertised limits, with the spec defaults for any the target does not advertise. */
  limits: Record<string, number>;
  /** An Origin the target's allowlist refuses (--forbidden-origin): allowlists are not advertised. */
  forbiddenOrigin?: string;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  text: string;
  json: unknown;
}

export interface ProbeRequest extends Partial<Pick<ProbeOptions, "autoPong" | "stepTimeoutMs" | "serverId">> {
  /** Answer WebSocket ping control frames (default true); off to let a heartbeat timeout happen. */
  wsAutoPong?: boolean;
  /** The WebSocket endpoint: peer sessions (default) or the events endpoint of spec §15. */
  endpoint?: "peers" | "events";
  /** Query parameters of the WebSocket URL (e.g. session_id for a resume). */
  query?: Record<string, string>;
  headers?: Record<string, string>;
  /** Use the identity of probe `index` of this case (default: a new index per probe). */
  identityIndex?: number;
  /** Speak as exactly this identity (e.g. another probe's, to resume its session). */
  identity?: ProbeIdentity;
  /** Speak as this entity id with the probe's own key (e.g. to claim another entity's id). */
  entityId?: string;
  /**
   * The bearer token the upgrade presents. By default, when the target requires tokens (or a token
   * provider is given), a token of the probe's identity in the `Authorization` header (PP-AUTH-004,
   * PP-AUTH-006, PP-AUTH-007). `false`: none of its own, for the cases that test tokens themselves
   * and put theirs (or none) in `headers` or `query`; a string: exactly that token, as a bearer.
   */
  token?: false | string;
  /** Connect here instead of the target's /ws/v1/peers (e.g. through the runner's proxy). */
  wsUrl?: string;
  /**
   * Which node of the deployment the probe connects to: the target (default) or the second node
   * given as --peer-target (only in a case marked `needsPeerTarget`). The probe speaks to that
   * node's URL, names that node's server_id and presents a token that node issued.
   */
  node?: "target" | "peer";
  /** The probe's name in the trace (default `p<index>` when a case opens several). */
  label?: string;
}

export type HttpProbeRequest = Pick<ProbeRequest, "identityIndex" | "identity" | "label" | "token"> & { baseUrl?: string };

export interface HttpRequestOptions {
  body?: string | Uint8Array;
  headers?: Record<string, string>;
  /** Whose token the request carries (see `CaseContext.http`). */
  identity?: ProbeIdentity;
  /** `false`: no token of the runner's; a string: exactly that token, as a bearer. */
  token?: false | string;
}

export interface PropertyOptions<T = unknown> {
  /** Overrides --runs for a property whose runs are expensive. */
  numRuns?: number;
  /** The counterexample as a person reads it (default: fast-check's rendering of the value). */
  describe?: (value: T) => string;
  /** For a flaky counterexample: the timing its outcome depends on, as a person reads it. */
  timing?: (value: T) => string;
}

export interface CaseContext {
  readonly target: TargetInfo;
  /** The second node of the same deployment (--peer-target), or null when none was given. */
  readonly peerTarget: TargetInfo | null;
  readonly limits: Record<string, number>;
  /** The case's fast-check seed (derived from the run seed and the case id). */
  readonly seed: number;
  readonly runs: number;
  readonly slow: boolean;
  readonly validators: Validators | null;
  readonly fc: typeof fc;
  /** Opens a WebSocket to /ws/v1/peers with a fresh probe peer (not yet handshaken). */
  probe(request?: ProbeRequest): Promise<ProbePeer>;
  /** A probe speaking the HTTP binding of spec §4.3 (POST /peers/handshake, /peers/message, GET /peers/poll); its requests carry its token as `probe` does. */
  httpProbe(request?: HttpProbeRequest): { probe: ProbePeer; http: HttpTransport };
  /** Like `probe`, but a refused upgrade is returned (with its HTTP status) instead of failing the case. */
  tryProbe(request?: ProbeRequest): Promise<ProbePeer | { refusedStatus: number | null; message: string }>;
  /** A probe with a completed handshake (READY). */
  session(request?: ProbeRequest): Promise<ProbePeer>;
  /** Runs a fast-check property with the run's seed, --runs and --path; a counterexample fails the case. */
  property<T>(arbitrary: fc.Arbitrary<T>, predicate: (value: T) => Promise<void>, options?: PropertyOptions<T>): Promise<void>;
  /** When replaying a counterexample of `fc.commands`: its replay hint, for the commands arbitrary (`replayPath`). */
  readonly replayPath?: string;
  /**
   * One HTTP request to the target. When probes present tokens, a request to anything but discovery
   * and the token endpoints carries the token of `identity` (default: the identity of probe 0 of
   * the case), unless `token` is false or a string, or `headers` has its own `authorization`.
   */
  http(method: string, path: string, options?: HttpRequestOptions): Promise<HttpResponse>;
  /** Whether probes present tokens of their own (the target requires them, or a token provider is given). */
  readonly presentsTokens: boolean;
  /** The identity of probe `index` of this case, without opening anything. */
  identity(index: number): ProbeIdentity;
  /** The token `identity` presents (cached for the run) to the target, or to the peer target; TokenRefused when that node will not issue it. */
  token(identity: ProbeIdentity, node?: "target" | "peer"): Promise<string>;
  fail(expected: string | string[], actual: string): never;
  /** Fails unless `condition` holds. */
  check(condition: boolean, expected: string | string[], actual: string | (() => string)): void;
  skip(reason: string): never;
  sleep(ms: number): Promise<void>;
  /** A line for the report, e.g. why an ambiguous outcome was accepted. */
  note(text: string): void;
}

/** The number of a section title: `6. Handshake` → `6`, `4.4 Discovery` → `4.4`. */
export function sectionNumber(section: string): string {
  return /^(\d+(?:\.\d+)*)/.exec(section)?.[1] ?? "";
}

/** Declares the cases of one suite with the suite, section and id prefix filled in. */
export function suite(name: string, section: string, cases: Omit<Case, "suite" | "section">[]): Case[] {
  return cases.map((c) => ({ ...c, suite: name, section, id: `${name}.${c.id}` }));
}
