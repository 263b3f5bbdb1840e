/**
 * The probe reproduces the spec's handshake and resume vectors byte for byte when its randomness,
 * clock and message ids are fixed, talking to a scripted responder over the in-memory transport.
 */
import { describe, expect, test } from "vitest";
import handshake from "../../spec/vectors/handshake.json" with { type: "json" };
import resume from "../../spec/vectors/resume.json" with { type: "json" };
import { CaseFailure } from "../src/failure.ts";
import { identityFromSeed, ProbePeer, type Envelope } from "../src/probe/peer.ts";
import { memoryPair } from "../src/probe/transport.ts";
import { b64u } from "../src/probe/wire.ts";
import { VALIDATORS } from "../src/schemas.ts";

const hex = (h: string) => new Uint8Array(Buffer.from(h, "hex"));
const b64 = (s: string) => new Uint8Array(Buffer.from(s, "base64url"));
const m = handshake.messages;

function scripted(randomValues: Uint8Array[], ids: string[]) {
  const [probeSide, responder] = memoryPair();
  const received: string[] = [];
  responder.onMessage((d) => received.push(d.kind === "text" ? d.text : "<binary>"));
  const clock = { now: 0 };
  const violations: string[] = [];
  const probe = new ProbePeer(probeSide, {
    identity: identityFromSeed(hex(handshake.inputs.initiator_identity_seed), "agent-alice"),
    serverId: "server-1",
    validators: VALIDATORS,
    random: (n) => {
      const next = randomValues.shift();
      if (!next || next.length !== n) throw new Error(`unexpected random(${n})`);
      return next;
    },
    now: () => clock.now,
    messageId: () => ids.shift() ?? "unexpected-id",
    onViolation: (v) => violations.push(v),
    stepTimeoutMs: 500,
  });
  const send = (envelope: object) => responder.send(JSON.stringify(envelope));
  return { probe, received, clock, violations, send };
}

async function handshakeUpToEstablished() {
  const s = scripted([hex(handshake.inputs.initiator_ephemeral_private), b64(m.handshake_init.nonce), b64(m.challenge_response.nonce)], ["vector-msg-0001", "vector-msg-0003", "vector-msg-0005"]);
  s.clock.now = m.handshake_init.timestamp;
  const init = s.probe.buildInit({ versions: ["1.2", "1.1"], capabilities: ["websocket", "http", "resume", "chunking", "events"] });
  s.probe.sendHandshake(init);
  s.send(m.handshake_init_ack);
  await s.probe.receiveInitAck();
  s.clock.now = m.challenge_response.timestamp;
  const response = s.probe.buildChallengeResponse();
  s.probe.sendHandshake(response);
  return { ...s, init, response };
}

describe("the probe as initiator, against spec/vectors/handshake.json", () => {
  test("builds HANDSHAKE_INIT, CHALLENGE_RESPONSE and SESSION_CONFIRM exactly as the vectors, and accepts READY", async () => {
    const s = await handshakeUpToEstablished();
    expect(s.init).toEqual(m.handshake_init);
    expect(s.response).toEqual(m.challenge_response);
    s.send(m.session_established);
    await s.probe.receiveEstablished();
    expect(Buffer.from(s.probe.th!).toString("hex")).toBe(handshake.intermediate.handshake_hash);
    s.clock.now = m.session_confirm.timestamp;
    const confirm = s.probe.sendConfirm();
    expect(confirm).toEqual(m.session_confirm);
    s.send(m.ready);
    await s.probe.receiveReady();
    expect(s.probe.stage).toBe("READY");
    expect(Buffer.from(s.probe.keys!.i2rKey).toString("hex")).toBe(handshake.intermediate.i2r_key);
    await new Promise((r) => setTimeout(r, 10));
    expect(s.received.map((t) => JSON.parse(t) as unknown)).toEqual([m.handshake_init, m.challenge_response, m.session_confirm]);
    expect(s.violations).toEqual([]);
  });

  test("fails the case when the responder's signature does not verify", async () => {
    const s = await handshakeUpToEstablished();
    const payload = { ...m.session_established.payload, signature: b64u(new Uint8Array(64).fill(1)) };
    s.send({ ...m.session_established, payload });
    await expect(s.probe.receiveEstablished()).rejects.toThrow(CaseFailure);
  });

  test("fails the case when the responder's Finished MAC differs", async () => {
    const s = await handshakeUpToEstablished();
    const payload = { ...m.session_established.payload, finished: b64u(new Uint8Array(32)) };
    s.send({ ...m.session_established, payload });
    await expect(s.probe.receiveEstablished()).rejects.toThrow(/fin_R/);
  });

  test("records a violation when the responder numbers its records with a gap", async () => {
    const s = await handshakeUpToEstablished();
    s.send(m.session_established);
    await s.probe.receiveEstablished();
    s.clock.now = m.session_confirm.timestamp;
    s.probe.sendConfirm();
    s.send({ ...m.ready, seq: 1 } as Envelope);
    await s.probe.next();
    expect(s.violations.join("\n")).toMatch(/PP-KS-005/);
  });

  test("records a schema violation for a member the schema does not define (PP-ENV-001)", async () => {
    const s = scripted([hex(handshake.inputs.initiator_ephemeral_private), b64(m.handshake_init.nonce)], ["vector-msg-0001"]);
    s.probe.sendHandshake(s.probe.buildInit({ versions: ["1.2", "1.1"], capabilities: ["websocket", "http", "resume", "chunking", "events"] }));
    s.send({ ...m.handshake_init_ack, x_debug: true });
    await s.probe.receiveInitAck();
    expect(s.violations.join("\n")).toMatch(/^schema violation: HANDSHAKE_INIT_ACK \/x_debug/);
  });
});

describe("the probe resuming, against spec/vectors/resume.json", () => {
  test("builds SESSION_RESUME with the vector's binder and derives the vector's fresh keys from SESSION_RESUME_ACK", async () => {
    const r = resume.messages;
    const s = scripted([hex(resume.inputs.initiator_ephemeral_private), b64(r.session_resume.nonce)], ["vector-msg-0201"]);
    s.clock.now = r.session_resume.timestamp;
    const request = s.probe.buildResume({
      sessionId: r.session_resume.session_id,
      resumptionSecret: hex(resume.inputs.resumption_secret),
      lastRxSeq: 7,
      version: "1.2",
      capabilities: [],
      serverId: "server-1",
      serverIdentity: hex(handshake.inputs.responder_identity_public),
    });
    expect(request).toEqual(r.session_resume);
    s.probe.sendJson(request);
    s.send(r.session_resume_ack);
    const payload = await s.probe.receiveResumeAck();
    expect(payload.status).toBe("READY");
    expect(Buffer.from(s.probe.keys!.i2rKey).toString("hex")).toBe(resume.intermediate.i2r_key);
    expect(Buffer.from(s.probe.keys!.r2iIv).toString("hex")).toBe(resume.intermediate.r2i_iv);
    expect(Buffer.from(s.probe.keys!.resumptionSecret).toString("hex")).toBe(resume.intermediate.next_resumption_secret);
    expect(s.probe.txSeq).toBe(0);
    expect(s.violations).toEqual([]);
  });
});
