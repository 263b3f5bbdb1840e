/**
 * The two halves of the probe, both written from the spec, speak to each other: ProbePeer
 * (initiator) against ProbeResponder over an in-memory pair. A sanity check of the responder that
 * does not depend on the reference, and of the faults from the conformance initiator's side: it
 * must not complete a handshake with any of them. ProbePeer tests servers and does not make every
 * initiator check at its step (no PP-HS-005 reflection check, no check that the selected
 * capabilities were offered, identity-key problems only recorded): those faults are caught later,
 * by sig_R or fin_R.
 */
import { describe, expect, it } from "vitest";
import { CaseFailure } from "../../src/failure.ts";
import { FAULTS } from "../../src/client-mode/faults.ts";
import { ProbeResponder } from "../../src/client-mode/responder.ts";
import { randomBytes } from "../../src/probe/crypto.ts";
import { identityFromSeed, ProbePeer } from "../../src/probe/peer.ts";
import { Trace } from "../../src/probe/trace.ts";
import { memoryPair } from "../../src/probe/transport.ts";
import { VALIDATORS } from "../../src/schemas.ts";

function pair() {
  const [a, b] = memoryPair();
  const trace = new Trace();
  const violations: string[] = [];
  const serverIdentity = identityFromSeed(randomBytes(32), "probe-server");
  const peer = new ProbePeer(a, { identity: identityFromSeed(randomBytes(32), "probe-client"), validators: VALIDATORS, trace, label: "I", onViolation: (m) => violations.push(m), stepTimeoutMs: 1000 });
  const responder = new ProbeResponder(b, { identity: serverIdentity, validators: VALIDATORS, trace, label: "R", stepTimeoutMs: 1000 });
  return { peer, responder, trace, violations };
}

describe("client mode: ProbePeer against ProbeResponder", () => {
  it("completes the handshake, an echo and a PING with no violation on either side", async () => {
    const { peer, responder, violations } = pair();
    await Promise.all([peer.handshake(), responder.handshake()]);
    expect(peer.sessionId).toBe(responder.sessionId);
    const { response } = await peer.echo({ x: 1 });
    expect(ProbePeer.payloadOf(response)).toMatchObject({ status: "ok", result: { x: 1 } });
    await peer.expectOpen();
    expect(violations).toEqual([]);
    expect(responder.violations).toEqual([]);
  });

  for (const spec of FAULTS) {
    it(`the conformance initiator does not complete a handshake with ${spec.fault} (${spec.requirements.join(", ")})`, async () => {
      const { peer, responder } = pair();
      const running = responder.runFault(spec.fault, { reactionTimeoutMs: 300 });
      // The probe initiator reports a fault as a CaseFailure (or a violation, for the identity key checks it records).
      const initiated = peer.handshake().then(
        () => null,
        (error: unknown) => error,
      );
      const [, error] = await Promise.all([running, initiated]);
      const refused = error instanceof CaseFailure || peer.stage !== "READY";
      const keyViolation = spec.fault.startsWith("identity-key");
      expect(refused || keyViolation, `ProbePeer accepted ${spec.fault}`).toBe(true);
    });
  }
});
