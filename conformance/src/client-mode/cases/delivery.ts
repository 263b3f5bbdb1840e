/**
 * Client cases of spec §9 (delivery) with the client as the receiver, in the `receive` scenario:
 * what the client delivers is what it reflects, so duplicates, order and per-sender identity are
 * visible on the wire, and its ACK records show what it acknowledged and when.
 */
import { clientSuite } from "../client-case.ts";
import type { ProbeResponder } from "../responder.ts";
import { checkClientErrors, clientRecords, describeEvent, endWithBye, expectDelivered, messageId, nextEvent, readySession, RECEIVE_LIMITS, sendMessage } from "./receiving.ts";

/** Reads the client's frames until its ACKs cover `seq`; returns when that ACK arrived, or null. */
async function ackCovering(r: ProbeResponder, seq: number, timeoutMs: number): Promise<number | null> {
  const deadline = Date.now() + timeoutMs;
  while (r.lastAckFromClient < seq && Date.now() < deadline) await r.next(Math.max(1, deadline - Date.now()));
  return r.lastAckFromClient >= seq ? Date.now() : null;
}

/** How late an ACK may come beyond ack_delay_ms: the client's and the runner's scheduling on a loaded machine. */
const ACK_SLACK_MS = 600;

export const clientDeliveryCases = clientSuite("delivery", "9. Delivery", [
  {
    id: "once-in-order",
    title: "A client delivers m1, m2, m3 once each and in order when m1 comes again between them as a new record with the same message_id, and acknowledges the duplicate too",
    requirements: ["PP-DLV-003", "PP-DLV-004", "PP-DLV-005"],
    level: "MUST",
    scenario: "receive",
    limits: RECEIVE_LIMITS,
    async run(ctx) {
      const r = await readySession(ctx);
      const m1 = sendMessage(r, { n: 1 });
      const m2 = sendMessage(r, { n: 2 });
      const duplicateSeq = r.txSeq;
      sendMessage(r, { n: 1 }, { id: m1 }); // the same message again, as a new record (a re-send)
      const m3 = sendMessage(r, { n: 3 });
      await expectDelivered(ctx, r, m1, { n: 1 }, "the first message first (PP-DLV-005)");
      await expectDelivered(ctx, r, m2, { n: 2 }, "the second message, once (PP-DLV-005)");
      await expectDelivered(ctx, r, m3, { n: 3 }, "the third message: the duplicate of m1 is not delivered again (PP-DLV-003)");
      const extra = await nextEvent(r, 500);
      ctx.check(extra.kind === "silent", "nothing more delivered (PP-DLV-003)", describeEvent(extra));
      const acked = await ackCovering(r, duplicateSeq, 2000);
      ctx.check(acked !== null, `an ACK covering the duplicate's seq ${duplicateSeq} (PP-DLV-004)`, `the client's highest ACK is ${r.lastAckFromClient}`);
      checkClientErrors(ctx, r);
      await endWithBye(ctx, r);
    },
  },
  {
    id: "ack-within-delay",
    title: `A client acknowledges each data record within the advertised ack_delay_ms (100 ms, plus ${ACK_SLACK_MS} ms of scheduling slack), three times with pauses between`,
    requirements: ["PP-DLV-002"],
    level: "MUST",
    scenario: "receive",
    limits: { ...RECEIVE_LIMITS, ack_delay_ms: 100 },
    async run(ctx) {
      const r = await readySession(ctx);
      for (let n = 1; n <= 3; n++) {
        const seq = r.txSeq;
        const sentAt = Date.now();
        sendMessage(r, { n });
        const ackedAt = await ackCovering(r, seq, 3000);
        ctx.check(ackedAt !== null && ackedAt - sentAt <= 100 + ACK_SLACK_MS, `an ACK covering seq ${seq} within ${100 + ACK_SLACK_MS} ms (PP-DLV-002)`, ackedAt === null ? `no ACK within 3000 ms (highest ${r.lastAckFromClient})` : `the ACK came after ${ackedAt - sentAt} ms`);
        await ctx.sleep(300);
      }
      checkClientErrors(ctx, r);
      await endWithBye(ctx, r);
    },
  },
  {
    id: "same-id-other-sender",
    title: "A client delivers two messages with the same message_id from different senders (the server's own and one routed from another agent) as two messages, and de-duplicates per sender",
    requirements: ["PP-DLV-015", "PP-DLV-003"],
    level: "MUST",
    scenario: "receive",
    limits: RECEIVE_LIMITS,
    async run(ctx) {
      const r = await readySession(ctx);
      const id = messageId("shared");
      const other = "agent-b.routed";
      sendMessage(r, { from: "server" }, { id });
      await expectDelivered(ctx, r, id, { from: "server" }, "the server's message");
      sendMessage(r, { from: other }, { id, from: other });
      const event = await nextEvent(r, 10_000);
      ctx.check(event.kind === "reflection" && event.reflects === id && event.to === other, `the client delivers ${id} from ${other} too, and answers ${other} (PP-DLV-015)`, describeEvent(event));
      sendMessage(r, { from: other }, { id, from: other });
      const again = sendMessage(r, { n: "after" });
      await expectDelivered(ctx, r, again, { n: "after" }, `${other}'s repeat is a duplicate of its own message (PP-DLV-003)`);
      checkClientErrors(ctx, r);
      await endWithBye(ctx, r);
    },
  },
  {
    id: "answers-ping",
    title: "A client answers each PING record with a PONG record carrying the same ping_id, with a data message in between",
    requirements: ["PP-DLV-010"],
    level: "MUST",
    scenario: "receive",
    limits: RECEIVE_LIMITS,
    async run(ctx) {
      const r = await readySession(ctx);
      r.sendRecord("PING", { ping_id: "first-ping" });
      const m = sendMessage(r, { n: 1 });
      r.sendRecord("PING", { ping_id: "second-ping" });
      await expectDelivered(ctx, r, m, { n: 1 }, "the message between the PINGs");
      const deadline = Date.now() + 3000;
      const pongs = () => clientRecords(r, "PONG").map((i) => String((i.inner as { ping_id?: unknown }).ping_id));
      while (pongs().length < 2 && Date.now() < deadline) await r.next(Math.max(1, deadline - Date.now()));
      ctx.check(JSON.stringify(pongs()) === JSON.stringify(["first-ping", "second-ping"]), "PONG first-ping, then PONG second-ping (PP-DLV-010)", `PONGs with ping_id ${JSON.stringify(pongs())}`);
      checkClientErrors(ctx, r);
      await endWithBye(ctx, r);
    },
  },
]);
