/**
 * The spec's handshake and resume vectors replayed through the reference's real handshake, session
 * and resume code, with scripted entropy and clock: every message must come out byte for byte.
 */
import { expect, test } from "vitest";
import handshake from "../../spec/vectors/handshake.json" with { type: "json" };
import resume from "../../spec/vectors/resume.json" with { type: "json" };
import { ed25519FromSeed, x25519FromPrivate } from "../src/crypto.ts";
import type { Entropy, Envelope } from "../src/envelope.ts";
import { InitiatorHandshake } from "../src/handshake/initiator.ts";
import { ResponderHandshake } from "../src/handshake/responder.ts";
import { withLimits } from "../src/limits.ts";
import { acceptResume } from "../src/session/resume.ts";
import { startResume } from "../src/session/resume-initiator.ts";
import { Session } from "../src/session/session.ts";

const fromHex = (h: string): Buffer => Buffer.from(h, "hex");
const fromB64 = (s: string): Buffer => Buffer.from(s, "base64url");

function scripted(messageIds: string[], nonces: string[], bytes: Buffer[]): Entropy {
  return {
    messageId: () => messageIds.shift() ?? expect.fail("unexpected messageId()"),
    nonce: () => nonces.shift() ?? expect.fail("unexpected nonce()"),
    bytes: (n) => {
      const next = bytes.shift() ?? expect.fail("unexpected bytes()");
      expect(next.length).toBe(n);
      return next;
    },
  };
}

function runVectorHandshake() {
  const m = handshake.messages as unknown as Record<string, Envelope & { timestamp: number }>;
  const at = (name: string) => (m[name] as { timestamp: number }).timestamp;
  let clock = at("handshake_init");
  const now = () => clock;
  const limits = withLimits();
  const initiator = new InitiatorHandshake({
    identity: ed25519FromSeed(fromHex(handshake.inputs.initiator_identity_seed)),
    entityId: "agent-alice",
    responderId: "server-1",
    versions: ["1.2", "1.1"],
    capabilities: ["websocket", "http", "resume", "chunking", "events"],
    now,
    ephemeral: () => x25519FromPrivate(fromHex(handshake.inputs.initiator_ephemeral_private)),
    entropy: scripted(["vector-msg-0001", "vector-msg-0003"], [m.challenge_response!.nonce!], [fromB64(m.handshake_init!.nonce!)]),
  });
  const responder = new ResponderHandshake({
    identity: ed25519FromSeed(fromHex(handshake.inputs.responder_identity_seed)),
    serverId: "server-1",
    versions: ["1.2", "1.1"],
    capabilities: ["websocket", "http", "resume", "chunking", "events", "aes-256-gcm"],
    limits,
    now,
    newSessionId: () => m.handshake_init_ack!.session_id!,
    isReplayedNonce: () => false,
    checkIdentity: () => {},
    ephemeral: () => x25519FromPrivate(fromHex(handshake.inputs.responder_ephemeral_private)),
    entropy: scripted(["vector-msg-0002", "vector-msg-0004"], [m.handshake_init_ack!.nonce!, m.session_established!.nonce!], [fromHex(handshake.inputs.challenge)]),
  });
  const init = initiator.start();
  clock = at("handshake_init_ack");
  const ack = responder.onInit(init);
  clock = at("challenge_response");
  const response = initiator.onInitAck(ack);
  clock = at("session_established");
  const { established, result: responderResult } = responder.onChallengeResponse(response);
  const initiatorResult = initiator.onEstablished(established);
  const initiatorSession = new Session(initiatorResult, { now, dedupeMemory: 64 });
  const responderSession = new Session(responderResult, { now, dedupeMemory: 64 });
  clock = at("session_confirm");
  const confirm = initiatorSession.seal("SESSION_CONFIRM", { handshake_hash: initiatorResult.keys.handshakeHash.toString("base64url") }, { message_id: "vector-msg-0005", recipient_id: "server-1" });
  clock = at("ready");
  const ready = responderSession.seal("READY", { handshake_hash: responderResult.keys.handshakeHash.toString("base64url") }, { message_id: "vector-msg-0006", recipient_id: "agent-alice" });
  return { init, ack, response, established, confirm, ready, initiatorSession, responderSession, initiatorResult, now: (t: number) => (clock = t) };
}

test("the real handshake code reproduces every message of the handshake vector", () => {
  const run = runVectorHandshake();
  const m = handshake.messages;
  expect(run.init).toEqual(m.handshake_init);
  expect(run.ack).toEqual(m.handshake_init_ack);
  expect(run.response).toEqual(m.challenge_response);
  expect(run.established).toEqual(m.session_established);
  expect(run.confirm).toEqual(m.session_confirm);
  expect(run.ready).toEqual(m.ready);
  expect(run.initiatorResult.keys.resumptionSecret.toString("hex")).toBe(handshake.intermediate.resumption_secret);
});

test("each side opens the other's first record", () => {
  const run = runVectorHandshake();
  expect(run.responderSession.open(run.confirm, "stream")).toEqual({ handshake_hash: Buffer.from(handshake.intermediate.handshake_hash, "hex").toString("base64url") });
  expect(run.initiatorSession.open(run.ready, "stream")).toEqual({ handshake_hash: Buffer.from(handshake.intermediate.handshake_hash, "hex").toString("base64url") });
});

test("the real resume code reproduces the resume vector's messages and fresh keys", () => {
  const rs = fromHex(resume.inputs.resumption_secret);
  const rm = resume.messages as unknown as Record<string, Envelope>;
  const client = startResume(rs, {
    sessionId: rm.session_resume!.session_id!,
    entityId: "agent-alice",
    peerId: "server-1",
    lastRxSeq: 7,
    now: rm.session_resume!.timestamp,
    ephemeral: x25519FromPrivate(fromHex(resume.inputs.initiator_ephemeral_private)),
    entropy: scripted([rm.session_resume!.message_id], [rm.session_resume!.nonce!], []),
  });
  expect(client.resume).toEqual(rm.session_resume);
  const accepted = acceptResume(rs, client.resume, {
    serverId: "server-1",
    now: rm.session_resume_ack!.timestamp,
    lastRxSeq: 4,
    ephemeral: x25519FromPrivate(fromHex(resume.inputs.responder_ephemeral_private)),
    entropy: scripted([rm.session_resume_ack!.message_id], [rm.session_resume_ack!.nonce!], []),
  });
  expect(accepted.ack).toEqual(rm.session_resume_ack);
  expect(accepted.peerLastRxSeq).toBe(7);
  expect(accepted.keys.resumptionSecret.toString("hex")).toBe(resume.intermediate.next_resumption_secret);
  const finished = client.finish(accepted.ack);
  expect(finished.peerLastRxSeq).toBe(4);
  for (const [keys, name] of [[accepted.keys, "responder"], [finished.keys, "initiator"]] as const) {
    expect(keys.i2r.key.toString("hex"), name).toBe(resume.intermediate.i2r_key);
    expect(keys.i2r.iv.toString("hex"), name).toBe(resume.intermediate.i2r_iv);
    expect(keys.r2i.key.toString("hex"), name).toBe(resume.intermediate.r2i_key);
    expect(keys.r2i.iv.toString("hex"), name).toBe(resume.intermediate.r2i_iv);
  }
});

test("a resume with a wrong binder is refused with AUTHENTICATION_FAILED", () => {
  const rs = fromHex(resume.inputs.resumption_secret);
  const rm = resume.messages as unknown as Record<string, Envelope & { payload: Record<string, unknown> }>;
  const forged = { ...rm.session_resume!, payload: { ...rm.session_resume!.payload, binder: Buffer.alloc(32, 7).toString("base64url") } };
  expect(() => acceptResume(rs, forged, { serverId: "server-1", now: 0, lastRxSeq: -1 })).toThrowError(expect.objectContaining({ code: "AUTHENTICATION_FAILED" }));
});
