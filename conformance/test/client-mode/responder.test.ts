/**
 * Client-mode conformance against the reference client: the probe server and responder
 * (conformance/src/client-mode) play the server, `PeerClient` (reference/src/client, a target here,
 * DESIGN.md §2) connects. The honest responder must complete the handshake and an echo round trip;
 * each responder fault must be refused by the client as the spec requires, which shows the fault is
 * detectable by a correct client while everything else the responder does is valid.
 */
import { afterEach, describe, expect, it } from "vitest";
import { PeerClient } from "../../../reference/src/client/peer-client.ts";
import { FAULTS, type ResponderFault } from "../../src/client-mode/faults.ts";
import { startProbeServer, type ProbeServer } from "../../src/client-mode/probe-server.ts";
import { describeReaction, ProbeResponder, type ClientReaction } from "../../src/client-mode/responder.ts";
import { randomBytes } from "../../src/probe/crypto.ts";
import { identityFromSeed } from "../../src/probe/peer.ts";
import { Trace } from "../../src/probe/trace.ts";
import { errorRow, VALIDATORS } from "../../src/schemas.ts";

/** A short heartbeat: a client that accepted READY shows it with a PING record soon. */
const LIMITS = { ping_interval_ms: 300, pong_grace_ms: 5000 };

interface Harness {
  server: ProbeServer;
  trace: Trace;
  serverId: string;
  nextResponder(): Promise<ProbeResponder>;
}

const open: { server?: ProbeServer; clients: PeerClient[] } = { clients: [] };

afterEach(async () => {
  for (const client of open.clients.splice(0)) await client.close().catch(() => undefined);
  await open.server?.close();
  open.server = undefined;
});

async function harness(): Promise<Harness> {
  const identity = identityFromSeed(randomBytes(32), "probe-server");
  const trace = new Trace();
  const waiting: ((r: ProbeResponder) => void)[] = [];
  const ready: ProbeResponder[] = [];
  const server = await startProbeServer({
    serverId: identity.entityId,
    identityKey: identity.publicKey,
    limits: LIMITS,
    onConnection(transport) {
      const responder = new ProbeResponder(transport, { identity, trace, validators: VALIDATORS, limits: LIMITS, stepTimeoutMs: 3000 });
      const waiter = waiting.shift();
      if (waiter) waiter(responder);
      else ready.push(responder);
    },
  });
  open.server = server;
  return {
    server,
    trace,
    serverId: identity.entityId,
    nextResponder: () => {
      const queued = ready.shift();
      return queued ? Promise.resolve(queued) : new Promise((resolve) => waiting.push(resolve));
    },
  };
}

/** Connects the reference client; resolves with the client or the error it failed with. */
function connectClient(h: Harness): Promise<PeerClient | Error> {
  return PeerClient.connect({ url: h.server.url, entityId: `client-${Buffer.from(randomBytes(4)).toString("hex")}`, transport: "WEBSOCKET_ONLY", reconnect: { enabled: false }, connectTimeoutMs: 5000 }).then(
    (client) => {
      open.clients.push(client);
      return client;
    },
    (error: Error) => error,
  );
}

describe("client mode: the probe server", () => {
  it("serves a discovery document that its schema accepts (PP-TRN-014, PP-TRN-016)", async () => {
    const h = await harness();
    const response = await fetch(`${h.server.url}/peers/capabilities`);
    expect(response.status).toBe(200);
    const document = (await response.json()) as Record<string, unknown>;
    expect(VALIDATORS.validateDiscovery(document, { strict: true })).toEqual({ ok: true });
    expect(document.server_id).toBe(h.serverId);
    expect(document.auth).toEqual({ required: false });
  });

  it("serves a deliberately bad identity key as given", async () => {
    const server = await startProbeServer({ serverId: "probe-bad", identityKey: "not-a-key", onConnection: () => undefined });
    try {
      const document = (await (await fetch(`${server.url}/peers/capabilities`)).json()) as Record<string, unknown>;
      expect(document.identity_key).toBe("not-a-key");
    } finally {
      await server.close();
    }
  });
});

describe("client mode: the honest responder and the reference client", () => {
  it("completes the six-step handshake and an echo round trip (PP-HS-009, PP-HS-010, PP-DLV-009)", async () => {
    const h = await harness();
    const connecting = connectClient(h);
    const responder = await h.nextResponder();
    await responder.handshake();
    const client = await connecting;
    expect(client).toBeInstanceOf(PeerClient);
    if (!(client instanceof PeerClient)) return;
    expect(client.sessionId).toBe(responder.sessionId);

    const params = { text: "hello from client mode", n: 7 };
    const result = await client.request(h.serverId, "echo", params);
    expect(result).toEqual(params);
    const request = await responder.expectRecord("TASK_REQUEST");
    expect(request.envelope.seq).toBe(1); // SESSION_CONFIRM was seq 0 (PP-KS-005)
    expect(request.inner).toMatchObject({ action: "echo", params });

    // The responder also sends a record of its own choosing, and the client acknowledges it.
    responder.sendRecord("PEER_MESSAGE", { content: { from: "server" } });
    const inbox = client.messages();
    const delivered = await inbox.next();
    expect(delivered.value).toMatchObject({ type: "PEER_MESSAGE", sender_id: h.serverId, payload: { content: { from: "server" } } });
    const ack = await responder.expectRecord("ACK");
    expect((ack.inner as { ack: number }).ack).toBeGreaterThanOrEqual(2);

    expect(responder.violations).toEqual([]);
    for (const message of [responder.initAck, responder.established]) expect(VALIDATORS.validateEnvelope("1.2", message, { strict: true })).toEqual({ ok: true });
    const frames = h.trace.entries.map((e) => e.frame).join("\n");
    expect(frames).toContain("↳ SESSION_CONFIRM seq 0 decrypted:");
    expect(frames).toContain("↳ READY seq 0 plaintext:");
    expect(frames).toContain("↳ TASK_RESPONSE seq");
  });

  it("runFault(null) reports the honest run as accepted", async () => {
    const h = await harness();
    const connecting = connectClient(h);
    const responder = await h.nextResponder();
    const outcome = await responder.runFault(null, { reactionTimeoutMs: 3000 });
    expect(outcome.accepted, describeReaction(outcome.reaction)).toBe(true);
    expect(await connecting).toBeInstanceOf(PeerClient);
    expect(responder.violations).toEqual([]);
  });
});

/** What the reference client must do, per fault: the spec's error code and its registry close code (PP-ERR-003). */
function expectedClose(code: string | null): number | null {
  if (code === null) return null;
  return errorRow(code)?.close ?? null;
}

/**
 * Where the reference client refuses a fault but not in the way the spec names (a finding, not
 * fixed here: reference/ is the target). The spec-exact assertion is kept as an expected failure,
 * so that it turns into an unexpected pass once the reference changes.
 */
const DEVIATIONS: Partial<Record<ResponderFault, { observed: { error: string | null; close: number | null }; why: string }>> = {
  "version-not-offered": {
    observed: { error: "INVALID_MESSAGE", close: 1000 },
    why: 'the client checks every pre-session message against the v1.2 schema, so a v1.1 HANDSHAKE_INIT_ACK is an INVALID_MESSAGE (a connection-open code) before its PP-VER-008 check; it then closes with 1000 "handshake failed", not VERSION_NOT_SUPPORTED / 4400',
  },
};

/** The ERROR code the client sent (if any) and the close code it closed with (if any). */
function summary(reaction: ClientReaction): { error: string | null; close: number | null } {
  if (reaction.kind === "error") return { error: reaction.code, close: reaction.closeCode };
  if (reaction.kind === "closed") return { error: null, close: reaction.code };
  return { error: null, close: null };
}

async function runAgainstClient(fault: ResponderFault) {
  const h = await harness();
  const connecting = connectClient(h);
  const responder = await h.nextResponder();
  const outcome = await responder.runFault(fault, { reactionTimeoutMs: 2500 });
  return { outcome, responder, client: await connecting };
}

describe("client mode: every responder fault is refused by the reference client", () => {
  for (const spec of FAULTS) {
    const fault = spec.fault;
    const expected = expectedClose(spec.errorCode);
    const deviation = DEVIATIONS[fault];
    const requirement = `${fault} (${spec.requirements.join(", ")})`;

    it(`${requirement}: refused, the handshake does not go on; the faulty message is otherwise schema-valid`, async () => {
      const { outcome, responder, client } = await runAgainstClient(fault);
      const seen = describeReaction(outcome.reaction);
      expect(outcome.accepted, `the client accepted ${spec.what}: ${seen}`).toBe(false);
      expect(["error", "closed"], seen).toContain(outcome.reaction.kind);
      expect(client).toBeInstanceOf(Error);
      // Only the fault is wrong: the message that carries it passes the strict schema of its version.
      const carrier = spec.step === "HANDSHAKE_INIT_ACK" ? responder.initAck : spec.step === "SESSION_ESTABLISHED" ? responder.established : null;
      if (carrier) expect(VALIDATORS.validateEnvelope(carrier.version === "1.1" ? "1.1" : "1.2", carrier, { strict: true })).toEqual({ ok: true });
      if (deviation) expect(summary(outcome.reaction), deviation.why).toEqual(deviation.observed);
    });

    // The reference client says why with an ERROR of the spec's code, then closes with the registry row's close code (PP-ERR-003).
    const exact = `${requirement}: ${spec.errorCode ? `ERROR ${spec.errorCode}, close ${expected}` : "an ERROR, then a close with a code other than 1000 (the spec names none)"}`;
    (deviation ? it.fails : it)(exact, async () => {
      const { outcome } = await runAgainstClient(fault);
      const seen = describeReaction(outcome.reaction);
      const { error, close } = summary(outcome.reaction);
      if (expected !== null) expect({ error, close }, seen).toEqual({ error: spec.errorCode, close: expected });
      else expect(close, seen).not.toBe(1000);
    });
  }
});
