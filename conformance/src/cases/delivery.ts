/**
 * Spec §9 (delivery): the echo task, acknowledgements, PING/PONG, routing between peers,
 * de-duplication and order.
 */
import fc from "fast-check";
import { suite } from "../case.ts";
import { ProbePeer } from "../probe/peer.ts";
import { canonical } from "../probe/wire.ts";
import { expectRefusedAcknowledged, jcsEqual, payloadOfSize, resumeOnNewConnection } from "./support.ts";

/** JSON values whose JCS form is exact: no -0, numbers in the safe integer range or short decimals. */
const jsonParams = fc.jsonValue({ maxDepth: 3 }).filter((v) => {
  const text = JSON.stringify(v);
  return text !== undefined && canonical(v).length < 4096 && !/-0(?![.\d])/.test(text);
});

const inboundOf = (probe: ProbePeer, type: string) => probe.history.filter((i): i is typeof i & { kind: "message" } => i.kind === "message" && i.envelope.type === type);

export const deliveryCases = suite("delivery", "9. Delivery", [
  {
    id: "echo",
    title: "A server answers TASK_REQUEST echo addressed to its server_id with TASK_RESPONSE result = params",
    requirements: ["PP-DLV-009", "PP-KS-010"],
    level: "MUST",
    async run(ctx) {
      // A fresh session per batch keeps the property under the per-connection rate limit.
      const perSession = Math.max(1, Math.min(50, (ctx.limits.rate_limit_per_minute ?? 100) - 10));
      let probe: ProbePeer | null = null;
      let used = 0;
      await ctx.property(jsonParams, async (params) => {
        if (!probe || used >= perSession || !probe.isOpen) {
          probe?.close();
          probe = await ctx.session();
          used = 0;
        }
        used++;
        const { taskId, response } = await probe.echo(params);
        const payload = ProbePeer.payloadOf(response);
        ctx.check(payload.task_id === taskId, `task_id ${taskId}`, `task_id ${JSON.stringify(payload.task_id)}`);
        ctx.check(payload.status === "ok", 'status "ok"', `status ${JSON.stringify(payload.status)}`);
        ctx.check(jcsEqual(payload.result, params), `result equal to params ${JSON.stringify(params)}`, `result ${JSON.stringify(payload.result)}`);
      });
    },
  },
  {
    id: "ack-within-delay",
    title: "A server acknowledges a data record with a cumulative ACK within ack_delay_ms",
    requirements: ["PP-DLV-002"],
    level: "MUST",
    async run(ctx) {
      const delay = ctx.limits.ack_delay_ms ?? 100;
      const slack = 250;
      const probe = await ctx.session();
      for (let i = 0; i < 3; i++) {
        const sent = probe.sendRecord("TASK_REQUEST", { task_id: `task-ack-${i}`, action: "echo", params: { i } });
        const started = Date.now();
        await probe.expectAck(sent.seq as number, delay + slack);
        ctx.note(`ACK after ${Date.now() - started} ms (ack_delay_ms ${delay}, slack ${slack} ms)`);
      }
    },
  },
  {
    id: "ping-pong",
    title: "A server answers a PING record with a PONG record carrying the same ping_id",
    requirements: ["PP-DLV-010"],
    level: "MUST",
    async run(ctx) {
      const probe = await ctx.session();
      await ctx.property(fc.stringMatching(/^[A-Za-z0-9._:-]{1,64}$/), async (pingId) => {
        probe.sendRecord("PING", { ping_id: pingId });
        await probe.expectMessage((m) => m.envelope.type === "PONG" && ProbePeer.payloadOf(m).ping_id === pingId, { describe: `PONG with ping_id ${pingId}`, skip: (m) => m.envelope.type === "ACK" || m.envelope.type === "PONG" });
      });
    },
  },
  {
    id: "route-between-peers",
    title: "A server routes a PEER_MESSAGE to the named entity's session with sender_id and message_id unchanged",
    requirements: ["PP-DLV-006", "PP-DLV-012"],
    level: "MUST",
    async run(ctx) {
      const alice = await ctx.session();
      const bob = await ctx.session();
      const content = { text: "hello, bob", n: 1 };
      const sent = alice.sendRecord("PEER_MESSAGE", { content }, { envelope: { recipient_id: bob.identity.entityId } });
      const got = await bob.expectMessage("PEER_MESSAGE", { describe: "the routed PEER_MESSAGE at the recipient" });
      ctx.check(got.envelope.sender_id === alice.identity.entityId, `sender_id ${alice.identity.entityId}`, `sender_id ${String(got.envelope.sender_id)}`);
      ctx.check(got.envelope.message_id === sent.message_id, `message_id ${String(sent.message_id)} unchanged`, `message_id ${String(got.envelope.message_id)}`);
      ctx.check(got.envelope.recipient_id === bob.identity.entityId, `recipient_id ${bob.identity.entityId}`, `recipient_id ${String(got.envelope.recipient_id)}`);
      ctx.check(jcsEqual(ProbePeer.payloadOf(got).content, content), `content ${JSON.stringify(content)}`, JSON.stringify(ProbePeer.payloadOf(got).content));
      await alice.expectAck(sent.seq as number);
    },
  },
  {
    id: "retransmit-bound",
    title: "A server holds at most retransmit_buffer unacknowledged data records for a client, and answers the sender of the excess with BUFFER_OVERFLOW",
    requirements: ["PP-DLV-011", "PP-DLV-013", "PP-TRN-015"],
    level: "MUST",
    async run(ctx) {
      const bound = ctx.limits.retransmit_buffer ?? 1024;
      const rate = ctx.limits.rate_limit_per_minute ?? 100;
      const count = bound + 3;
      if (bound > 2000) ctx.skip(`retransmit_buffer is ${bound}: too many records to send`);
      if (rate !== 0 && rate < count) ctx.skip(`sending retransmit_buffer + 3 = ${count} messages needs rate_limit_per_minute >= ${count} (or 0); the target allows ${rate}`);
      const alice = await ctx.session();
      const bob = await ctx.session();
      for (let i = 0; i < count; i++) alice.sendRecord("PEER_MESSAGE", { content: { i } }, { envelope: { recipient_id: bob.identity.entityId } });
      // Bob never acknowledges: count what reaches him until the line goes quiet.
      let received = 0;
      for (;;) {
        const item = await bob.next(Math.max(500, (ctx.limits.ack_delay_ms ?? 100) * 5));
        if (!item) break;
        if (item.kind === "message" && (item.envelope.type === "PEER_MESSAGE" || item.envelope.type === "CHUNKED_MESSAGE")) received++;
        if (item.kind === "close") break;
      }
      // Exactly the advertised bound: more breaks PP-DLV-011, fewer enforces less than is advertised (PP-TRN-015).
      ctx.check(received === bound, `exactly retransmit_buffer (${bound}) unacknowledged data records delivered to a client that does not acknowledge`, `${received} delivered`);
      const error = await alice.expectMessage((m) => m.envelope.type === "ERROR", { describe: "ERROR BUFFER_OVERFLOW to the sender of the records beyond the bound (PP-DLV-013)", skip: (m) => m.envelope.type === "ACK" });
      await alice.checkError(error, "BUFFER_OVERFLOW", { checkConnection: false });
    },
  },
  {
    id: "queue-bytes",
    title: "A server queues data records for a disconnected recipient up to exactly max_send_queue_bytes of plaintext, refuses the next with BUFFER_OVERFLOW, delivers the queue whole on resume and frees it once acknowledged",
    requirements: ["PP-DLV-014", "PP-DLV-013", "PP-LIM-013", "PP-TRN-015"],
    level: "MUST",
    requires: ["resume"],
    async run(ctx) {
      const queue = ctx.limits.max_send_queue_bytes ?? 8_388_608;
      const rate = ctx.limits.rate_limit_per_minute ?? 100;
      // Each message fits in one record: at most max_chunk_bytes of plaintext (PP-CHK-014), and its
      // frame, base64url of plaintext plus tag and the envelope, within max_frame_bytes.
      const piece = Math.min(ctx.limits.max_chunk_bytes ?? 262_144, Math.floor((((ctx.limits.max_frame_bytes ?? 1_048_576) - 2048) * 3) / 4));
      const count = Math.max(2, Math.ceil(queue / piece));
      if (count + 2 > (ctx.limits.retransmit_buffer ?? 1024)) ctx.skip(`max_send_queue_bytes ${queue} needs ${count} records of at most ${piece} bytes, over retransmit_buffer`);
      if (rate !== 0 && rate < count + 5) ctx.skip(`filling max_send_queue_bytes ${queue} needs ${count + 5} messages a minute; the target allows ${rate}`);
      if (count > 400) ctx.skip(`max_send_queue_bytes ${queue} needs ${count} records`);
      // Sizes that add up to exactly the bound, none over a record: the last byte of the queue is used.
      const sizes = Array.from({ length: count }, (_, i) => Math.floor(queue / count) + (i < queue % count ? 1 : 0));
      const bob = await ctx.session({ identityIndex: 1 });
      bob.close(); // disconnected, its session resumable: what is sent to it waits in its queue
      await ctx.sleep(200);
      const alice = await ctx.session({ identityIndex: 0 });
      const sent = sizes.map((size) => alice.sendRecord("PEER_MESSAGE", payloadOfSize(size), { envelope: { recipient_id: bob.identity.entityId } }));
      // The exact bound is enforced, not less: every byte up to it is queued and acknowledged (PP-TRN-015, PP-DLV-012).
      await alice.expectAck(sent.at(-1)?.seq as number, 10_000);
      const over = alice.sendRecord("PEER_MESSAGE", payloadOfSize(64), { envelope: { recipient_id: bob.identity.entityId } });
      await alice.expectError("BUFFER_OVERFLOW", { relatedMessageId: String(over.message_id), timeoutMs: 10_000 });
      // The queue is delivered whole, in order, and the refused message is not in it.
      const reader = await resumeOnNewConnection(ctx, bob, 1, "the recipient comes back for its queue");
      for (const [i, record] of sent.entries()) {
        const item = await reader.expectMessage("PEER_MESSAGE", { describe: `queued message ${i + 1} of ${count} (${sizes[i]} bytes)`, timeoutMs: 10_000 });
        ctx.check(item.envelope.message_id === record.message_id, `queued message ${i + 1} is ${record.message_id}, in order (PP-DLV-005)`, String(item.envelope.message_id));
        ctx.check(jcsEqual(ProbePeer.payloadOf(item), payloadOfSize(sizes[i] as number)), `queued message ${i + 1} intact`, "a different payload");
      }
      reader.ack();
      await reader.expectSilence(500, `nothing but the ${count} queued messages: the refused one was not queued`, { allow: (m) => m.envelope.type !== "PEER_MESSAGE" });
      // PP-LIM-013: acknowledged, the queue is empty again and takes a whole queue's worth once more.
      const carol = await ctx.session({ identityIndex: 2 });
      const refill = sizes.map((size) => carol.sendRecord("PEER_MESSAGE", payloadOfSize(size), { envelope: { recipient_id: bob.identity.entityId } }));
      await carol.expectAck(refill.at(-1)?.seq as number, 10_000);
      for (let i = 0; i < count; i++) await reader.expectMessage("PEER_MESSAGE", { describe: `message ${i + 1} of ${count} after the queue was acknowledged`, timeoutMs: 10_000 });
      reader.ack();
    },
  },
  {
    id: "sender-id-not-spoofable",
    title: "A server refuses a data record whose sender_id is not the sending session's entity with INVALID_MESSAGE and routes nothing",
    requirements: ["PP-DLV-019", "PP-DLV-016", "PP-DLV-006", "PP-AUTH-010"],
    level: "MUST",
    async run(ctx) {
      const mallory = await ctx.session();
      const bob = await ctx.session();
      // The claim is sealed into the AAD, so the record authenticates: only the sender check can refuse it.
      for (const claimed of ["someone-else", bob.identity.entityId]) {
        const sent = mallory.sendRecord("PEER_MESSAGE", { content: "spoofed" }, { envelope: { recipient_id: bob.identity.entityId, sender_id: claimed } });
        await mallory.expectError("INVALID_MESSAGE", { relatedMessageId: String(sent.message_id), checkConnection: false });
        await expectRefusedAcknowledged(mallory, sent.seq as number, `a record refused for its sender_id ${claimed}`);
      }
      await bob.expectSilence(500, "no PEER_MESSAGE routed from a record with another sender_id", { allow: (m) => m.envelope.type !== "PEER_MESSAGE" });
      // The session goes on: the same message under its own sender_id is delivered, with it.
      mallory.sendRecord("PEER_MESSAGE", { content: "honest" }, { envelope: { recipient_id: bob.identity.entityId } });
      const delivered = await bob.expectMessage("PEER_MESSAGE");
      ctx.check(delivered.envelope.sender_id === mallory.identity.entityId, `sender_id ${mallory.identity.entityId}`, `sender_id ${String(delivered.envelope.sender_id)}`);
    },
  },
  {
    id: "unknown-recipient",
    title: "A server answers a data record addressed to an entity without a session, never seen or ended, with UNKNOWN_RECIPIENT, and acknowledges it",
    requirements: ["PP-DLV-007", "PP-DLV-017", "PP-DLV-016", "PP-ERR-004"],
    level: "MUST",
    async run(ctx) {
      const probe = await ctx.session();
      const never = probe.sendRecord("PEER_MESSAGE", { content: "anyone?" }, { envelope: { recipient_id: `nobody-${probe.newId("x")}` } });
      await probe.expectError("UNKNOWN_RECIPIENT", { relatedMessageId: String(never.message_id), checkConnection: false });
      await expectRefusedAcknowledged(probe, never.seq as number, "a record for an entity never seen");
      // An entity the server knows, whose session ended with BYE: nothing to deliver to (PP-DLV-017).
      const gone = await ctx.session();
      gone.sendRecord("BYE", { reason: "done" });
      await gone.expectClose(undefined, { timeoutMs: 5000 }).catch(() => undefined);
      gone.close();
      await new Promise((resolve) => setTimeout(resolve, 200));
      const late = probe.sendRecord("PEER_MESSAGE", { content: "too late" }, { envelope: { recipient_id: gone.identity.entityId } });
      await probe.expectError("UNKNOWN_RECIPIENT", { relatedMessageId: String(late.message_id), checkConnection: false });
      await expectRefusedAcknowledged(probe, late.seq as number, "a record for an entity whose session ended");
      await probe.expectOpen("after UNKNOWN_RECIPIENT the connection stays open (PP-ERR-004)");
    },
  },
  {
    id: "same-id-two-senders",
    title: "A server delivers two messages with one message_id from two senders to one recipient: each once",
    requirements: ["PP-DLV-015", "PP-DLV-003", "PP-DLV-006"],
    level: "MUST",
    async run(ctx) {
      const alice = await ctx.session();
      const carol = await ctx.session();
      const bob = await ctx.session();
      const messageId = alice.newId("same");
      alice.sendRecord("PEER_MESSAGE", { content: "from alice" }, { envelope: { recipient_id: bob.identity.entityId, message_id: messageId } });
      carol.sendRecord("PEER_MESSAGE", { content: "from carol" }, { envelope: { recipient_id: bob.identity.entityId, message_id: messageId } });
      const got = new Map<string, unknown>();
      for (let i = 0; i < 2; i++) {
        const m = await bob.expectMessage("PEER_MESSAGE", { describe: `the PEER_MESSAGE ${messageId} from ${i === 0 ? "one sender" : "the other sender"}` });
        ctx.check(m.envelope.message_id === messageId, `message_id ${messageId} kept (PP-DLV-006)`, String(m.envelope.message_id));
        got.set(String(m.envelope.sender_id), ProbePeer.payloadOf(m).content);
        bob.ack();
      }
      ctx.check(got.get(alice.identity.entityId) === "from alice" && got.get(carol.identity.entityId) === "from carol", "one message from each sender, each with its own content", JSON.stringify(Object.fromEntries(got)));
      await bob.expectSilence(300, "each delivered once", { allow: (m) => m.envelope.type !== "PEER_MESSAGE" });
    },
  },
  {
    id: "addressed-to-server",
    title: "A server answers a TASK_REQUEST with an action it does not serve by a TASK_RESPONSE with status error, and acknowledges and drops a PEER_MESSAGE or TASK_RESPONSE addressed to it",
    requirements: ["PP-DLV-020", "PP-DLV-021", "PP-DLV-002"],
    level: "MUST",
    async run(ctx) {
      const probe = await ctx.session();
      const action = `x-unknown-${probe.newId("a")}`;
      const taskId = probe.newId("task");
      probe.sendRecord("TASK_REQUEST", { task_id: taskId, action, params: { a: 1 } });
      const response = await probe.expectMessage((m) => m.envelope.type === "TASK_RESPONSE" || m.envelope.type === "ERROR", { describe: `the TASK_RESPONSE for ${taskId} with status "error" (PP-DLV-020)` });
      const payload = ProbePeer.payloadOf(response);
      ctx.check(response.envelope.type === "TASK_RESPONSE" && payload.task_id === taskId && payload.status === "error", `TASK_RESPONSE task_id ${taskId}, status "error"`, `${String(response.envelope.type)} ${JSON.stringify(payload).slice(0, 200)}`);
      ctx.check(typeof payload.error === "string" && payload.error.includes(action), `an error that names the action ${action}`, JSON.stringify(payload.error));
      probe.ack();
      // PP-DLV-021: messages the server does not read are acknowledged and dropped, without an answer.
      probe.sendRecord("PEER_MESSAGE", { content: "for the server" });
      const answer = probe.sendRecord("TASK_RESPONSE", { task_id: probe.newId("task"), status: "ok", result: {} });
      await probe.expectAck(answer.seq as number); // cumulative: it covers the PEER_MESSAGE sent before
      await probe.expectSilence(500, "no answer to a PEER_MESSAGE or TASK_RESPONSE addressed to the server (PP-DLV-021)", { allow: (m) => ["ACK", "PING", "PONG"].includes(String(m.envelope.type)) });
    },
  },
  {
    id: "duplicates",
    title: "A server acknowledges a duplicate data record and delivers the message once",
    requirements: ["PP-DLV-003", "PP-DLV-004"],
    level: "MUST",
    async run(ctx) {
      const alice = await ctx.session();
      const bob = await ctx.session();
      const messageId = alice.newId("dup");
      const first = alice.sendRecord("PEER_MESSAGE", { content: { copy: 1 } }, { envelope: { recipient_id: bob.identity.entityId, message_id: messageId } });
      await alice.expectAck(first.seq as number);
      const second = alice.sendRecord("PEER_MESSAGE", { content: { copy: 1 } }, { envelope: { recipient_id: bob.identity.entityId, message_id: messageId } });
      await alice.expectAck(second.seq as number);
      await bob.expectMessage("PEER_MESSAGE");
      await bob.expectSilence(500, "the duplicate not delivered again", { allow: (m) => m.envelope.type !== "PEER_MESSAGE" });
      // The echo task too: a duplicate TASK_REQUEST is acknowledged and answered once.
      const taskId = alice.newId("task");
      alice.sendRecord("TASK_REQUEST", { task_id: taskId, action: "echo", params: {} }, { envelope: { message_id: `${messageId}-t` } });
      const b = alice.sendRecord("TASK_REQUEST", { task_id: taskId, action: "echo", params: {} }, { envelope: { message_id: `${messageId}-t` } });
      await alice.expectSilence(700, "TASK_RESPONSE and ACK only", { allow: (m) => m.envelope.type === "TASK_RESPONSE" });
      const responses = inboundOf(alice, "TASK_RESPONSE").length;
      ctx.check(responses === 1, "one TASK_RESPONSE for a duplicated TASK_REQUEST (PP-DLV-003)", `${responses}`);
      const acked = inboundOf(alice, "ACK").some((m) => (ProbePeer.payloadOf(m).ack as number) >= (b.seq as number));
      ctx.check(acked, `an ACK covering the duplicate, seq ${String(b.seq)} (PP-DLV-004)`, "no such ACK");
    },
  },
  {
    id: "order-preserved",
    title: "A server delivers data messages from one sender in the order they were sent",
    requirements: ["PP-DLV-005", "PP-DLV-006"],
    level: "MUST",
    async run(ctx) {
      const alice = await ctx.session();
      const bob = await ctx.session();
      // Bob does not acknowledge: at most retransmit_buffer records may be outstanding towards him
      // (PP-DLV-011), and exactly that many must all arrive.
      const count = Math.min(30, ctx.limits.retransmit_buffer ?? 1024, Math.max(1, (ctx.limits.rate_limit_per_minute ?? 100) - 5));
      for (let i = 0; i < count; i++) alice.sendRecord("PEER_MESSAGE", { content: { i } }, { envelope: { recipient_id: bob.identity.entityId } });
      const order: number[] = [];
      for (let i = 0; i < count; i++) {
        const got = await bob.expectMessage("PEER_MESSAGE");
        order.push((ProbePeer.payloadOf(got).content as { i: number }).i);
      }
      ctx.check(order.every((v, i) => v === i), `messages 0..${count - 1} in order`, order.join(", "));
    },
  },
]);
