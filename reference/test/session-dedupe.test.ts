/**
 * De-duplication (PP-DLV-003): a session remembers the (sender, message_id) pairs of the last
 * `dedupeMemory` distinct messages it delivered, forgets the oldest first, and keeps the pairs of
 * different senders apart, also where one sender's message_id could be another's.
 */
import fc from "fast-check";
import { expect, test } from "vitest";
import { ed25519FromSeed, randomBytes } from "../src/crypto.ts";
import { toBase64Url } from "../src/encoding.ts";
import { InitiatorHandshake } from "../src/handshake/initiator.ts";
import { ResponderHandshake } from "../src/handshake/responder.ts";
import { withLimits } from "../src/limits.ts";
import { Session } from "../src/session/session.ts";

/** The server's side of a session with the client "agent-a", after a real handshake. */
function serverSession(dedupeMemory: number): Session {
  const initiator = new InitiatorHandshake({ identity: ed25519FromSeed(randomBytes(32)), entityId: "agent-a", versions: ["1.2"], capabilities: ["resume"], now: Date.now });
  const responder = new ResponderHandshake({
    identity: ed25519FromSeed(randomBytes(32)),
    serverId: "server-1",
    versions: ["1.2"],
    capabilities: ["resume"],
    limits: withLimits(),
    now: Date.now,
    newSessionId: () => `sess_${toBase64Url(randomBytes(16))}`,
    isReplayedNonce: () => false,
    checkIdentity: () => {},
  });
  const { result } = responder.onChallengeResponse(initiator.onInitAck(responder.onInit(initiator.start())));
  return new Session(result, { now: Date.now, dedupeMemory });
}

test("remembers exactly the last dedupeMemory distinct (sender, message_id) pairs, oldest forgotten first (model-based)", () => {
  // The session's peer ("agent-a") and two other senders; message ids from a small pool, so that
  // repeats, re-marks and the same id from different senders all happen.
  const sender = fc.constantFrom("agent-a", "agent-b", "server-1");
  const id = fc.integer({ min: 0, max: 40 }).map((n) => `msg-${String(n).padStart(8, "0")}`);
  const op = fc.oneof(fc.record({ kind: fc.constant("mark" as const), sender, id }), fc.record({ kind: fc.constant("check" as const), sender, id }));
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 12 }), fc.array(op, { maxLength: 300 }), (memory, ops) => {
      const session = serverSession(memory);
      const model: string[] = []; // distinct pairs in first-marked order, at most `memory`
      for (const { kind, sender: from, id: messageId } of ops) {
        const pair = `${from} ${messageId}`;
        if (kind === "mark") {
          session.markDelivered(from, messageId);
          if (!model.includes(pair)) {
            model.push(pair);
            if (model.length > memory) model.shift();
          }
        }
        expect(session.delivered(from, messageId)).toBe(model.includes(pair));
      }
      for (const from of ["agent-a", "agent-b", "server-1"]) for (let n = 0; n <= 40; n++) {
        const messageId = `msg-${String(n).padStart(8, "0")}`;
        expect(session.delivered(from, messageId)).toBe(model.includes(`${from} ${messageId}`));
      }
    }),
    { numRuns: 300 },
  );
});
