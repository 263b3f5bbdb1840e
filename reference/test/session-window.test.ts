/**
 * What a session reports as received (spec §8, §9): the `ack` of an ACK record and a resume's
 * `last_rx_seq` are the highest seq up to which every record of the key epoch was received
 * (PP-SES-021), also over HTTP, where records arrive out of order within replay_window (PP-RPL-005).
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { ed25519FromSeed, randomBytes } from "../src/crypto.ts";
import { toBase64Url } from "../src/encoding.ts";
import { ProtocolError } from "../src/errors.ts";
import { InitiatorHandshake } from "../src/handshake/initiator.ts";
import { ResponderHandshake } from "../src/handshake/responder.ts";
import { withLimits } from "../src/limits.ts";
import type { RecordEnvelope } from "../src/record.ts";
import { Session } from "../src/session/session.ts";

/** A client session and the server's side of it, after a real handshake; SESSION_CONFIRM (seq 0) not yet sent. */
function sessionPair() {
  const initiator = new InitiatorHandshake({ identity: ed25519FromSeed(randomBytes(32)), entityId: "agent-a", versions: ["1.2"], capabilities: ["http", "resume"], now: Date.now });
  const responder = new ResponderHandshake({
    identity: ed25519FromSeed(randomBytes(32)),
    serverId: "server-1",
    versions: ["1.2"],
    capabilities: ["http", "resume"],
    limits: withLimits(),
    now: Date.now,
    newSessionId: () => `sess_${toBase64Url(randomBytes(16))}`,
    isReplayedNonce: () => false,
    checkIdentity: () => {},
  });
  const { established, result } = responder.onChallengeResponse(initiator.onInitAck(responder.onInit(initiator.start())));
  const client = new Session(initiator.onEstablished(established), { now: Date.now, dedupeMemory: 64 });
  const server = new Session(result, { now: Date.now, dedupeMemory: 64 });
  return { client, server };
}

/** Records seq 0..count-1 of the client, sealed in order (seq 0 stands for SESSION_CONFIRM). */
function sealed(client: Session, count: number): RecordEnvelope[] {
  return Array.from({ length: count }, (_, i) => client.seal("PING", { ping_id: `p${i}` }));
}

/** The highest seq s such that 0..s were all delivered (-1: seq 0 was not). */
function prefixOf(delivered: ReadonlySet<number>): number {
  let s = -1;
  while (delivered.has(s + 1)) s++;
  return s;
}

describe("the received prefix (PP-SES-021)", () => {
  test("a record missing below those received over HTTP is not covered until it arrives", () => {
    const { client, server } = sessionPair();
    const records = sealed(client, 4);
    for (const seq of [0, 1, 3]) server.open(records[seq] as RecordEnvelope, "window");
    expect(server.lastRecvSeq).toBe(3);
    expect(server.acknowledgeableSeq).toBe(1);
    server.open(records[2] as RecordEnvelope, "window");
    expect(server.acknowledgeableSeq).toBe(3);
  });

  test("over a WebSocket, in order, it is the last seq received", () => {
    const { client, server } = sessionPair();
    for (const record of sealed(client, 3)) server.open(record, "stream");
    expect(server.acknowledgeableSeq).toBe(2);
  });

  test("a record refused with BUFFER_OVERFLOW still caps it (PP-DLV-013)", () => {
    const { client, server } = sessionPair();
    const records = sealed(client, 5);
    for (const seq of [0, 1, 2, 4]) server.open(records[seq] as RecordEnvelope, "window");
    server.refuse(2);
    expect(server.acknowledgeableSeq).toBe(1);
    server.open(records[3] as RecordEnvelope, "window");
    expect(server.acknowledgeableSeq).toBe(1);
  });

  test("a resume starts it again from -1 (PP-SES-008)", () => {
    const { client, server } = sessionPair();
    for (const record of sealed(client, 2)) server.open(record, "window");
    server.rekey({ i2r: { key: randomBytes(32), iv: randomBytes(12) }, r2i: { key: randomBytes(32), iv: randomBytes(12) }, resumptionSecret: randomBytes(32), handshakeHash: randomBytes(32) }, -1);
    expect(server.acknowledgeableSeq).toBe(-1);
  });

  test("property: for records arriving in any order over HTTP, some never, it is the prefix received, never past a record that did not arrive", () => {
    const window = 8;
    const arrivals = fc
      .integer({ min: 1, max: 40 })
      .chain((count) => fc.tuple(fc.constant(count), fc.shuffledSubarray([...Array(count).keys()], { minLength: 0, maxLength: count })));
    fc.assert(
      fc.property(arrivals, ([count, order]) => {
        const { client, server } = sessionPair();
        const records = sealed(client, count);
        const delivered = new Set<number>();
        let highest = -1;
        for (const seq of order) {
          try {
            server.open(records[seq] as RecordEnvelope, "window", window);
            delivered.add(seq);
            highest = Math.max(highest, seq);
          } catch (error) {
            // Outside the window (PP-RPL-005): never received in this key epoch.
            expect(error).toBeInstanceOf(ProtocolError);
            expect((error as ProtocolError).code).toBe("REPLAY_DETECTED");
            expect(seq).toBeLessThanOrEqual(highest - window);
          }
          expect(server.acknowledgeableSeq).toBe(prefixOf(delivered));
        }
      }),
      { numRuns: 100 },
    );
  });
});
