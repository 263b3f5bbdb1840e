/**
 * The client case model (issue 14): the runner plays the server and tests a client. A client case
 * names its requirements and level like a server case (case.ts), the scenario of the contract (spec
 * §18) the client's driver runs, and a `run` that answers the client's connections, usually as an
 * honest responder or one broken in exactly one place, and judges what the client does on the wire
 * and how its driver exits.
 */
import type { Level } from "../case.ts";
import type { Bytes } from "../probe/crypto.ts";
import type { ProbeIdentity } from "../probe/peer.ts";
import type { Transport } from "../probe/transport.ts";
import type { Trace } from "../probe/trace.ts";
import type { CaseClient, ClientExit } from "./client-process.ts";
import type { ProbeWire } from "./probe-server.ts";

/** The scenarios of the contract a client's test driver implements (spec §18). */
export const SCENARIOS = ["echo", "large", "heartbeat", "resume", "http-only", "websocket-first", "receive"] as const;
export type Scenario = (typeof SCENARIOS)[number];

export interface ClientCase {
  /** `client.<suite>.<name>`, stable: reports, baselines and replay files name cases by it. */
  id: string;
  title: string;
  suite: string;
  /** The spec section, as the report names it. */
  section: string;
  requirements: string[];
  level: Level;
  scenario: Scenario;
  /** Extra environment of the scenario (PEER_MESSAGES, PEER_PAYLOAD_BYTES, …). */
  env?: Record<string, string>;
  /** The server identity key the client is given and discovery serves, when the case needs a bad one. */
  serverKey?: Bytes;
  /** Limits the runner's server advertises (discovery and HANDSHAKE_INIT_ACK). */
  limits?: Record<string, number>;
  /** Answer every WebSocket upgrade with this HTTP status instead of upgrading (PP-TRN-012). */
  refuseUpgrade?: number;
  run(ctx: ClientCaseContext): Promise<void>;
}

/** A connection the client opened to the runner's server. */
export interface ClientConnection {
  transport: Transport;
  /** The request path and query (`/ws/v1/peers?session_id=…`). */
  path: string;
}

export interface ClientCaseContext {
  /** The ws:// URL the client was given (PEER_URL). */
  readonly url: string;
  /** The identity the client was told to use (PEER_ENTITY_ID, PEER_PRIVATE_KEY). */
  readonly clientIdentity: ProbeIdentity;
  /** The server identity the runner speaks with (discovery identity_key, PEER_SERVER_KEY). */
  readonly serverIdentity: ProbeIdentity;
  readonly serverId: string;
  readonly limits: Record<string, number>;
  /** The run's seed (--seed), for what a case generates, so that a run can be repeated. */
  readonly seed: number;
  readonly trace: Trace;
  /** The client of this case: a driver the runner started (--command) or a listening client (--listen). */
  readonly client: CaseClient;
  /** Upgrades and HTTP binding requests the runner's server saw (empty when its listener reports none). */
  readonly wire: ProbeWire;
  /** The next connection the client opens; fails the case when none comes within `timeoutMs`. */
  accept(timeoutMs?: number): Promise<ClientConnection>;
  /** The driver's exit, or the status a listening client reported; fails the case when neither comes within `timeoutMs`. */
  exit(timeoutMs?: number): Promise<ClientExit>;
  fail(expected: string | string[], actual: string): never;
  check(condition: boolean, expected: string | string[], actual: string | (() => string)): void;
  note(text: string): void;
  sleep(ms: number): Promise<void>;
}

/** Declares the client cases of one suite with the suite, section and id prefix filled in. */
export function clientSuite(name: string, section: string, cases: Omit<ClientCase, "suite" | "section">[]): ClientCase[] {
  return cases.map((c) => ({ ...c, suite: `client.${name}`, section, id: `client.${name}.${c.id}` }));
}
