/**
 * The pre-flight (DESIGN.md §4): before any case, the runner checks that the target speaks Peer
 * Protocol v1.2 at all, from its discovery document (spec §4.4) and a first handshake over the
 * WebSocket (spec §6). A target that does not, such as a plain WebSocket echo server or a v1.1-only
 * server, stops the run with one line and exit 2, instead of a hundred failures blamed on the
 * target and a replay file for each. A target that does speak it but whose handshake then goes
 * wrong is the handshake cases' business: the pre-flight only notes it.
 */
import { CaseFailure } from "./failure.ts";
import type { ProbeIdentity } from "./probe/peer.ts";
import { describeInbound, errorPayloadOf, ProbePeer } from "./probe/peer.ts";
import type { TokenSource } from "./probe/token-source.ts";
import { connectWebSocket, TransportError } from "./probe/transport.ts";
import { TargetError } from "./target.ts";

/** The target is reachable but is not a Peer Protocol v1.2 server (exit 2). */
export class NotPeerProtocolError extends TargetError {
  constructor(message: string) {
    super(message);
    this.name = "NotPeerProtocolError";
  }
}

export interface PreflightResult {
  /** The server's entity id as its HANDSHAKE_INIT_ACK names it. */
  serverId?: string;
  /** What the pre-flight saw that the report should say. */
  notes: string[];
}

export interface PreflightInput {
  baseUrl: string;
  wsUrl: string;
  discovery: Record<string, unknown> | null;
  discoveryError: string | null;
  identity: ProbeIdentity;
  stepTimeoutMs: number;
  tokens: TokenSource;
}

function discoveryVersions(discovery: Record<string, unknown> | null): string[] | null {
  const versions = discovery?.versions;
  return Array.isArray(versions) ? versions.filter((v): v is string => typeof v === "string") : null;
}

export async function preflight(input: PreflightInput): Promise<PreflightResult> {
  const versions = discoveryVersions(input.discovery);
  if (versions && !versions.includes("1.2")) throw new NotPeerProtocolError(`${input.baseUrl} does not speak Peer Protocol v1.2: its discovery document offers version${versions.length === 1 ? "" : "s"} ${versions.join(", ") || "(none)"}`);
  const advertised = versions !== null;
  const discoverySaid = input.discovery === null ? (input.discoveryError ?? "GET /peers/capabilities gave no document") : "its discovery document has no versions";
  const notPeerProtocol = (what: string) => new NotPeerProtocolError(`${input.wsUrl} does not speak Peer Protocol v1.2: ${discoverySaid}, and ${what}`);

  // A target that requires tokens refuses the upgrade without one (PP-AUTH-006); one it will not issue leaves the upgrade to say so.
  const token = input.tokens.presents ? await input.tokens.tokenFor(input.identity).catch((error: unknown) => (error instanceof CaseFailure ? undefined : Promise.reject(error))) : undefined;
  let transport;
  try {
    transport = await connectWebSocket(input.wsUrl, { timeoutMs: input.stepTimeoutMs, ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}) });
  } catch (error) {
    if (!(error instanceof TransportError)) throw error;
    if (error.code !== "UPGRADE_REFUSED") throw new TargetError(error.message);
    if (advertised) return { notes: [`pre-flight: the WebSocket upgrade at ${input.wsUrl} was refused with HTTP ${error.status}; the target is tested as its discovery document describes it`] };
    throw notPeerProtocol(`the WebSocket upgrade was refused with HTTP ${error.status}`);
  }
  const probe = new ProbePeer(transport, { identity: input.identity, stepTimeoutMs: input.stepTimeoutMs, validators: null });
  try {
    const init = probe.buildInit({ recipientId: null });
    probe.sendHandshake(init);
    const first = await probe.next(input.stepTimeoutMs);
    if (first?.kind === "message" && first.envelope.type === "HANDSHAKE_INIT_ACK") {
      const serverId = typeof first.envelope.sender_id === "string" ? first.envelope.sender_id : undefined;
      try {
        probe.acceptInitAck(first.envelope);
        probe.sendHandshake(probe.buildChallengeResponse());
        await probe.receiveEstablished();
        probe.sendConfirm();
        await probe.receiveReady();
        return { ...(serverId ? { serverId } : {}), notes: [] };
      } catch (error) {
        const what = error instanceof CaseFailure ? error.message : error instanceof Error ? error.message : String(error);
        return { ...(serverId ? { serverId } : {}), notes: [`pre-flight: the first handshake stopped after HANDSHAKE_INIT_ACK (${what}); the handshake cases show why`] };
      }
    }
    const answered = describeInbound(first, input.stepTimeoutMs);
    if (first?.kind === "message" && first.envelope.type === "ERROR" && typeof errorPayloadOf(first)?.code === "string") return { notes: [`pre-flight: the first HANDSHAKE_INIT was answered with ${answered}`] };
    if (advertised) return { notes: [`pre-flight: the first HANDSHAKE_INIT was answered with ${answered}; the handshake cases show why`] };
    const echo = first?.kind === "message" && first.raw === JSON.stringify(init);
    throw notPeerProtocol(`HANDSHAKE_INIT was answered with ${echo ? "itself (an echo server?)" : answered}`);
  } finally {
    probe.close();
  }
}
