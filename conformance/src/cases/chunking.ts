/**
 * Spec §10 (chunking): messages over max_chunk_bytes travel as CHUNKED_MESSAGE records that the
 * receiver reassembles whole or not at all. Every message here is larger than the target's
 * max_chunk_bytes, so that chunking it is what the spec requires (PP-CHK-001, PP-CHK-014) and a
 * CHUNK_ERROR can only be about the defect under test.
 */
import { suite, type CaseContext } from "../case.ts";
import { chunksOf, type Chunk } from "../probe/chunks.ts";
import { hash } from "../probe/crypto.ts";
import { describeInbound, ProbePeer, type Envelope, type Inbound } from "../probe/peer.ts";
import { b64u, canonical, unb64u } from "../probe/wire.ts";
import { endSessions, expectRefusedAcknowledged, jcsEqual, payloadOfSize } from "./support.ts";

const maxChunk = (ctx: CaseContext) => ctx.limits.max_chunk_bytes ?? 262_144;

/** An echo request whose JCS form is a little over max_chunk_bytes: two chunks. */
function bigEcho(ctx: CaseContext, probe: ProbePeer, extra = 1000) {
  const taskId = probe.newId("task");
  const params = { blob: "c".repeat(maxChunk(ctx) + extra) };
  const payload = { task_id: taskId, action: "echo", params };
  return { taskId, params, payload, chunks: chunksOf(probe.newId("big"), "TASK_REQUEST", payload, maxChunk(ctx)) };
}

/** An echo request whose JCS form splits into exactly `count` chunks of max_chunk_bytes, the last one half full, whatever max_chunk_bytes is. */
function echoInChunks(ctx: CaseContext, probe: ProbePeer, count: number) {
  const taskId = probe.newId("task");
  const overhead = canonical({ task_id: taskId, action: "echo", params: { blob: "" } }).length;
  const params = { blob: "c".repeat(Math.max(0, (count - 1) * maxChunk(ctx) + Math.ceil(maxChunk(ctx) / 2) - overhead)) };
  const payload = { task_id: taskId, action: "echo", params };
  return { taskId, params, payload, chunks: chunksOf(probe.newId("big"), "TASK_REQUEST", payload, maxChunk(ctx)) };
}

function sendChunks(probe: ProbePeer, chunks: Chunk[], recipientId?: string): Envelope[] {
  return chunks.map((c) => probe.sendRecord("CHUNKED_MESSAGE", c, recipientId ? { envelope: { recipient_id: recipientId } } : {}));
}

/**
 * Receives one whole message of `innerType`, chunked or not, and checks the chunks against
 * PP-CHK-002/003 and the size and digest (spec §10).
 */
async function receiveWhole(ctx: CaseContext, probe: ProbePeer, accept: (type: string, payload: Record<string, unknown>) => boolean, describe: string, first?: Inbound & { kind: "message" }): Promise<{ chunked: boolean; payload: Record<string, unknown>; messageId: string }> {
  const parts = new Map<string, Chunk[]>();
  let pending = first;
  while (true) {
    const item = pending ?? (await probe.expectMessage((m) => m.envelope.type === "CHUNKED_MESSAGE" || accept(String(m.envelope.type), ProbePeer.payloadOf(m)), { describe, timeoutMs: 10_000 }));
    pending = undefined;
    if (item.envelope.type !== "CHUNKED_MESSAGE") return { chunked: false, payload: ProbePeer.payloadOf(item), messageId: String(item.envelope.message_id) };
    const chunk = ProbePeer.payloadOf(item) as unknown as Chunk;
    const list = [...(parts.get(chunk.chunk_id) ?? []), chunk];
    parts.set(chunk.chunk_id, list);
    const first = list[0] as Chunk;
    for (const key of ["total_size", "digest", "inner_type"] as const) ctx.check(chunk[key] === first[key], `every chunk of ${chunk.chunk_id} with the same ${key} (PP-CHK-002)`, `${String(first[key])} then ${String(chunk[key])}`);
    ctx.check(chunk.sequence_number === list.length - 1, `chunks numbered from 0 in order (PP-CHK-003)`, `sequence_number ${chunk.sequence_number} as chunk ${list.length - 1}`);
    const size = list.reduce((n, c) => n + (unb64u(c.data)?.length ?? 0), 0);
    ctx.check(size <= chunk.total_size, `no more than total_size ${chunk.total_size} bytes`, `${size} bytes`);
    if (!chunk.is_last) {
      ctx.check(size < chunk.total_size, "is_last on the chunk that completes the message (PP-CHK-003)", `${size} of ${chunk.total_size} bytes without is_last`);
      continue;
    }
    const bytes = Buffer.concat(list.map((c) => unb64u(c.data) ?? new Uint8Array(0)));
    ctx.check(bytes.length === chunk.total_size, `total_size ${chunk.total_size}`, `${bytes.length} bytes`);
    ctx.check(b64u(hash(bytes)) === chunk.digest, "digest = b64u(SHA-256(B))", "a different digest");
    ctx.check(list.every((c) => (unb64u(c.data)?.length ?? 0) <= maxChunk(ctx)), `pieces of at most max_chunk_bytes (${maxChunk(ctx)})`, "a larger piece");
    const payload = JSON.parse(bytes.toString("utf8")) as Record<string, unknown>;
    if (accept(chunk.inner_type, payload)) return { chunked: true, payload, messageId: chunk.chunk_id };
  }
}

/** A CHUNK_ERROR, the other chunks of a discarded message may each get one too (PP-CHK-019). */
const isChunkError = (m: Inbound & { kind: "message" }) => m.envelope.type === "ERROR" && ProbePeer.payloadOf(m).code === "CHUNK_ERROR";

async function expectChunkError(ctx: CaseContext, probe: ProbePeer, why: string): Promise<void> {
  const from = probe.history.length; // what arrived before (a valid neighbour's TASK_RESPONSE) is not about this input
  await probe.expectError("CHUNK_ERROR", { timeoutMs: 5000, checkConnection: false });
  await probe.expectSilence(300, `no TASK_RESPONSE: ${why}`, { allow: isChunkError });
  ctx.check(!probe.history.slice(from).some((i) => i.kind === "message" && (i.envelope.type === "TASK_RESPONSE" || i.envelope.type === "CHUNKED_MESSAGE")), `nothing delivered: ${why} (PP-CHK-017)`, "a TASK_RESPONSE");
  await probe.expectOpen("after CHUNK_ERROR the connection stays open (PP-ERR-004)");
}

/**
 * How long a target that accepts an input stays quiet before the case concludes it did: well inside
 * chunk_timeout_ms, whose CHUNK_ERROR (PP-CHK-010) would otherwise be read as a refusal.
 */
const quietMs = (ctx: CaseContext) => Math.min(500, Math.floor((ctx.limits.chunk_timeout_ms ?? 30_000) / 4));

/** Sends `message`'s chunks in order and expects its TASK_RESPONSE, echoing its params, and no ERROR. */
async function expectDelivered(ctx: CaseContext, probe: ProbePeer, message: ReturnType<typeof bigEcho>, why: string): Promise<void> {
  ctx.check(message.chunks.length >= 2, `a message of several chunks: ${why}`, `${message.chunks.length} chunk(s)`);
  sendChunks(probe, message.chunks);
  const whole = await receiveWhole(ctx, probe, (type, p) => type === "ERROR" || (type === "TASK_RESPONSE" && p.task_id === message.taskId), `the TASK_RESPONSE for ${message.taskId}: ${why}`);
  ctx.check(whole.payload.code === undefined, `the message delivered, no ERROR: ${why}`, `ERROR ${String(whole.payload.code)}`);
  ctx.check(whole.payload.task_id === message.taskId && jcsEqual(whole.payload.result, message.params), `the TASK_RESPONSE for ${message.taskId} with result equal to params: ${why}`, "a different TASK_RESPONSE");
}

const CHUNKING = ["chunking"];

export const chunkingCases = suite("chunking", "10. Chunking", [
  {
    id: "echo-large",
    title: "A server reassembles a chunked TASK_REQUEST and sends its large TASK_RESPONSE in consistent chunks",
    requirements: ["PP-CHK-001", "PP-CHK-018", "PP-CHK-002", "PP-CHK-003", "PP-CHK-004", "PP-DLV-009"],
    level: "MUST",
    requires: CHUNKING,
    async run(ctx) {
      const probe = await ctx.session();
      const { taskId, params, chunks } = bigEcho(ctx, probe, maxChunk(ctx) / 2);
      sendChunks(probe, chunks);
      const whole = await receiveWhole(ctx, probe, (type, p) => type === "TASK_RESPONSE" && p.task_id === taskId, `the TASK_RESPONSE for ${taskId}`);
      ctx.check(whole.chunked, "a TASK_RESPONSE larger than max_chunk_bytes sent as CHUNKED_MESSAGE (PP-CHK-001)", "one TASK_RESPONSE record");
      ctx.check(jcsEqual(whole.payload.result, params), "result equal to params", "a different result");
    },
  },
  {
    id: "small-not-chunked",
    title: "A server does not chunk a message whose JCS(payload) fits in max_chunk_bytes",
    requirements: ["PP-CHK-014"],
    level: "MUST",
    requires: CHUNKING,
    async run(ctx) {
      const probe = await ctx.session();
      const params = { blob: "s".repeat(Math.max(0, maxChunk(ctx) - 300)) };
      const taskId = probe.newId("task");
      probe.sendRecord("TASK_REQUEST", { task_id: taskId, action: "echo", params });
      const whole = await receiveWhole(ctx, probe, (type, p) => type === "TASK_RESPONSE" && p.task_id === taskId, `the TASK_RESPONSE for ${taskId}`);
      ctx.check(!whole.chunked, `one TASK_RESPONSE record for a payload of ${canonical(whole.payload).length} bytes (max_chunk_bytes ${maxChunk(ctx)})`, "CHUNKED_MESSAGE records");
    },
  },
  {
    id: "digest-mismatch",
    title: "A receiver discards a chunked message whose digest does not match and answers CHUNK_ERROR",
    requirements: ["PP-CHK-005", "PP-CHK-004", "PP-CHK-017"],
    level: "MUST",
    requires: CHUNKING,
    async run(ctx) {
      const probe = await ctx.session();
      const { chunks } = bigEcho(ctx, probe);
      const wrong = b64u(hash(new TextEncoder().encode("something else")));
      sendChunks(probe, chunks.map((c) => ({ ...c, digest: wrong })));
      await expectChunkError(ctx, probe, "the digest does not match");
    },
  },
  {
    id: "total-size-mismatch",
    title: "A receiver discards a chunked message whose bytes fall short of total_size at is_last and answers CHUNK_ERROR",
    requirements: ["PP-CHK-005", "PP-CHK-004"],
    level: "MUST",
    requires: CHUNKING,
    async run(ctx) {
      const probe = await ctx.session();
      const { chunks } = bigEcho(ctx, probe);
      sendChunks(probe, chunks.map((c) => ({ ...c, total_size: c.total_size + 10 })));
      await expectChunkError(ctx, probe, "total_size does not match");
    },
  },
  {
    id: "oversize-total",
    title: "A receiver answers CHUNK_ERROR at once for a chunk whose total_size exceeds max_message_bytes",
    requirements: ["PP-CHK-006"],
    level: "MUST",
    requires: CHUNKING,
    async run(ctx) {
      const max = ctx.limits.max_message_bytes ?? 16_777_216;
      // The boundary: total_size exactly max_message_bytes is a message the target must take. Its
      // first chunk is buffered in a session of its own, so that its CHUNK_ERROR at chunk_timeout_ms
      // (PP-CHK-010) cannot stand in for the one expected below.
      const atLimit = await ctx.session();
      const fits = bigEcho(ctx, atLimit).chunks[0] as Chunk;
      sendChunks(atLimit, [{ ...fits, total_size: max }]);
      await atLimit.expectSilence(quietMs(ctx), `no CHUNK_ERROR for a chunk whose total_size is exactly max_message_bytes ${max} (PP-CHK-006)`);
      const probe = await ctx.session();
      const first = bigEcho(ctx, probe).chunks[0] as Chunk;
      sendChunks(probe, [{ ...first, total_size: max + 1 }]);
      await expectChunkError(ctx, probe, "total_size over max_message_bytes");
    },
  },
  {
    id: "conflicting-duplicate",
    title: "A receiver answers CHUNK_ERROR when a chunk number arrives again with different content",
    requirements: ["PP-CHK-007", "PP-CHK-016"],
    level: "MUST",
    requires: CHUNKING,
    async run(ctx) {
      const probe = await ctx.session();
      const { chunks, taskId, params } = bigEcho(ctx, probe);
      const first = chunks[0] as Chunk;
      const altered = Buffer.from(unb64u(first.data) as Uint8Array);
      altered[altered.length - 1] = 0x64; // a different byte in the same place
      sendChunks(probe, [first, { ...first, data: b64u(altered) }, ...chunks.slice(1)]);
      await probe.expectError("CHUNK_ERROR", { timeoutMs: 5000, checkConnection: false });
      // PP-CHK-016: the receiver either discards the message or keeps it as first received, so the
      // rest of the chunks complete it; never the altered chunk's version. PP-CHK-019: later chunks
      // of a discarded message may each be answered with CHUNK_ERROR.
      const skipBackground = (item: Inbound | null) => item?.kind === "message" && ["ACK", "PING", "PONG"].includes(String(item.envelope.type));
      let next = await probe.next(Math.max(1000, quietMs(ctx)));
      while (skipBackground(next) || (next?.kind === "message" && isChunkError(next))) next = await probe.next(Math.max(1000, quietMs(ctx)));
      if (next !== null) {
        if (next.kind !== "message" || !["CHUNKED_MESSAGE", "TASK_RESPONSE"].includes(String(next.envelope.type))) return ctx.fail("nothing more (the message discarded), or the TASK_RESPONSE of the message as first received (PP-CHK-016)", describeInbound(next));
        const whole = await receiveWhole(ctx, probe, (type, p) => type === "TASK_RESPONSE" && p.task_id === taskId, `the TASK_RESPONSE for ${taskId}`, next);
        ctx.check(jcsEqual(whole.payload.result, params), "the message as first received, chunk 0 before its altered duplicate (PP-CHK-016)", "a different message");
        ctx.note("the target kept the message after the conflicting duplicate (allowed by PP-CHK-016)");
      }
      await probe.expectOpen("after CHUNK_ERROR the connection stays open (PP-ERR-004)");
    },
  },
  {
    id: "identical-duplicate",
    title: "A receiver ignores an identical duplicate chunk and delivers the message once",
    requirements: ["PP-CHK-008", "PP-CHK-004"],
    level: "MUST",
    requires: CHUNKING,
    async run(ctx) {
      const probe = await ctx.session();
      const { chunks, taskId } = bigEcho(ctx, probe);
      sendChunks(probe, [chunks[0] as Chunk, chunks[0] as Chunk, ...chunks.slice(1)]);
      await receiveWhole(ctx, probe, (type, p) => type === "TASK_RESPONSE" && p.task_id === taskId, `the TASK_RESPONSE for ${taskId} despite the duplicate chunk`);
      await probe.expectSilence(500, "one TASK_RESPONSE and no CHUNK_ERROR");
    },
  },
  {
    id: "inconsistent-chunks",
    title: "A receiver answers CHUNK_ERROR when the chunks of one message disagree on total_size, digest or inner_type",
    requirements: ["PP-CHK-009"],
    level: "MUST",
    requires: CHUNKING,
    async run(ctx) {
      const variants: [string, (c: Chunk) => Chunk][] = [
        ["total_size", (c) => ({ ...c, total_size: c.total_size + 1 })],
        ["digest", (c) => ({ ...c, digest: b64u(hash(new TextEncoder().encode("other"))) })],
        ["inner_type", (c) => ({ ...c, inner_type: "PEER_MESSAGE" })],
      ];
      await ctx.property(ctx.fc.constantFrom(...variants), async ([member, change]) => {
        const probe = await ctx.session();
        const { chunks } = bigEcho(ctx, probe);
        sendChunks(probe, [chunks[0] as Chunk, change(chunks[1] as Chunk), ...chunks.slice(2)]);
        await expectChunkError(ctx, probe, `the second chunk has another ${member}`);
      }, { numRuns: 6 });
    },
  },
  {
    id: "chunk-after-last",
    title: "A receiver answers CHUNK_ERROR at once when a chunk arrives after the last one with a higher sequence_number",
    requirements: ["PP-CHK-009"],
    level: "MUST",
    requires: CHUNKING,
    async run(ctx) {
      const probe = await ctx.session();
      // The valid neighbour: the chunks of one message, consistent and in order, are delivered.
      await expectDelivered(ctx, probe, bigEcho(ctx, probe, maxChunk(ctx) + 500), "consistent chunks in order (PP-CHK-009)");
      // Three chunks; the last (2) comes first, then a chunk 3 of 10 bytes, consistent in every other
      // member and within total_size. Chunks 0 and 1 are still missing, so nothing completes: only
      // the check under test answers before chunk_timeout_ms. A target that refuses chunks out of
      // order (PP-CHK-012) answers CHUNK_ERROR for chunk 2 already, which is as right.
      const { chunks } = echoInChunks(ctx, probe, 3);
      ctx.check(chunks.length === 3, "a message of three chunks", `${chunks.length} chunks`);
      const last = chunks[2] as Chunk;
      ctx.check(last.is_last && (unb64u(last.data)?.length ?? 0) + 10 <= last.total_size, "chunk 2 is the last, and 10 more bytes stay within total_size", `is_last ${String(last.is_last)}, total_size ${last.total_size}`);
      sendChunks(probe, [last, { ...last, sequence_number: 3, is_last: false, data: b64u(Buffer.alloc(10, 0x20)) }]);
      const timeout = ctx.limits.chunk_timeout_ms ?? 30_000;
      const started = Date.now();
      await probe.expectError("CHUNK_ERROR", { timeoutMs: Math.min(5000, Math.floor(timeout / 2)), checkConnection: false });
      ctx.note(`CHUNK_ERROR after ${Date.now() - started} ms (chunk_timeout_ms ${timeout})`);
      await probe.expectSilence(300, "nothing delivered: a chunk after the last one", { allow: isChunkError });
      await probe.expectOpen("after CHUNK_ERROR the connection stays open (PP-ERR-004)");
    },
  },
  {
    id: "missing-first-chunk",
    title: "A receiver does not deliver a chunked message without its chunk 0, even when size and digest match",
    requirements: ["PP-CHK-004"],
    level: "MUST",
    requires: CHUNKING,
    async run(ctx) {
      const probe = await ctx.session();
      // The valid neighbour: the same shape of message with its chunk 0 is delivered.
      await expectDelivered(ctx, probe, bigEcho(ctx, probe), "chunks 0 and 1 (PP-CHK-004)");
      // The two pieces of B travel as chunks 1 (is_last) and 2, chunk 2 first: their bytes in
      // sequence_number order are B, total_size and digest match, but chunk 0 never comes and the
      // last one is below a chunk already received. Delivering would be wrong; CHUNK_ERROR or
      // waiting (for chunk_timeout_ms) are right.
      const { chunks, taskId } = echoInChunks(ctx, probe, 2);
      ctx.check(chunks.length === 2, "a message of two chunks", `${chunks.length} chunks`);
      const [a, b] = chunks as [Chunk, Chunk];
      sendChunks(probe, [{ ...b, sequence_number: 2, is_last: false }, { ...a, sequence_number: 1, is_last: true }]);
      await probe.expectSilence(quietMs(ctx) + 500, `nothing but CHUNK_ERROR, no TASK_RESPONSE for ${taskId}: chunk 0 never arrived (PP-CHK-004)`, {
        allow: (m) => m.envelope.type === "ERROR" && ProbePeer.payloadOf(m).code === "CHUNK_ERROR",
      });
    },
  },
  {
    id: "bytes-exceed-total",
    title: "A receiver answers CHUNK_ERROR when the bytes received for one chunk_id exceed its total_size",
    requirements: ["PP-CHK-011", "PP-CHK-017", "PP-CHK-019"],
    level: "MUST",
    requires: CHUNKING,
    async run(ctx) {
      const probe = await ctx.session();
      // The boundary: bytes that add up to exactly total_size are the whole message, delivered.
      await expectDelivered(ctx, probe, bigEcho(ctx, probe), "bytes equal to total_size (PP-CHK-011)");
      const { chunks } = bigEcho(ctx, probe);
      const first = chunks[0] as Chunk;
      // One chunk, not the last, whose bytes alone are 10 over its total_size; nothing else follows,
      // so the only ERROR can be about that.
      sendChunks(probe, [{ ...first, total_size: (unb64u(first.data)?.length ?? 0) - 10 }]);
      await expectChunkError(ctx, probe, "the first chunk alone is 10 bytes over total_size");
    },
  },
  {
    id: "out-of-order",
    title: "A receiver either reassembles chunks sent out of order or refuses them with CHUNK_ERROR, never a wrong message",
    requirements: ["PP-CHK-012", "PP-CHK-020", "PP-CHK-004"],
    level: "MUST",
    requires: CHUNKING,
    async run(ctx) {
      const probe = await ctx.session();
      const { chunks, taskId, params } = bigEcho(ctx, probe, maxChunk(ctx) + 500);
      sendChunks(probe, [...chunks].reverse());
      const whole = await receiveWhole(ctx, probe, (type, p) => type === "ERROR" || (type === "TASK_RESPONSE" && p.task_id === taskId), "the TASK_RESPONSE, or CHUNK_ERROR");
      if (!whole.chunked && whole.payload.code !== undefined) {
        ctx.check(whole.payload.code === "CHUNK_ERROR", "CHUNK_ERROR for chunks out of order", `ERROR ${String(whole.payload.code)}`);
        ctx.note("the target refused chunks out of order (allowed by PP-CHK-012)");
        return;
      }
      ctx.check(jcsEqual(whole.payload.result, params), "the reassembled message equal to the one sent", "a different message");
    },
  },
  {
    id: "route-whole",
    title: "A server routes a chunked message to its recipient whole, and an incomplete one not at all",
    requirements: ["PP-CHK-013", "PP-DLV-006"],
    level: "MUST",
    requires: CHUNKING,
    async run(ctx) {
      const alice = await ctx.session();
      const bob = await ctx.session();
      const content = { text: "r".repeat(maxChunk(ctx) + 2000) };
      const chunkId = alice.newId("big");
      const chunks = chunksOf(chunkId, "PEER_MESSAGE", { content }, maxChunk(ctx));
      sendChunks(alice, chunks, bob.identity.entityId);
      const whole = await receiveWhole(ctx, bob, (type) => type === "PEER_MESSAGE", "the routed PEER_MESSAGE at the recipient");
      ctx.check(jcsEqual(whole.payload.content, content), "the whole content", "different content");
      ctx.check(whole.messageId === chunkId, `message_id ${chunkId} (the chunk_id)`, whole.messageId);
      // An incomplete message (no last chunk) must not reach the recipient at all.
      const partial = chunksOf(alice.newId("part"), "PEER_MESSAGE", { content }, maxChunk(ctx)).slice(0, -1);
      sendChunks(alice, partial, bob.identity.entityId);
      await bob.expectSilence(700, "nothing of an incomplete chunked message delivered");
    },
  },
  {
    id: "refused-last-chunk-resent",
    title: "A chunked message whose last chunk is refused with BUFFER_OVERFLOW is delivered whole once the sender resumes and sends it again",
    requirements: ["PP-DLV-013", "PP-CHK-013", "PP-SES-010"],
    level: "MUST",
    requires: [...CHUNKING, "resume"],
    async run(ctx) {
      const bound = ctx.limits.retransmit_buffer ?? 1024;
      const rate = ctx.limits.rate_limit_per_minute ?? 100;
      if (bound > 200) ctx.skip(`retransmit_buffer is ${bound}: too many records to send`);
      if (rate !== 0 && rate < bound + 4) ctx.skip(`filling retransmit_buffer ${bound} needs rate_limit_per_minute >= ${bound + 4} (or 0); the target allows ${rate}`);
      const alice = await ctx.session({ identityIndex: 0 });
      const bob = await ctx.session({ identityIndex: 1 });
      // Bob holds bound - 1 unacknowledged records, so the two chunks of the message do not fit.
      for (let i = 0; i < bound - 1; i++) alice.sendRecord("PEER_MESSAGE", { content: { filler: i } }, { envelope: { recipient_id: bob.identity.entityId } });
      for (let held = 0; held < bound - 1; held++) await bob.expectMessage("PEER_MESSAGE", { describe: `filler ${held + 1} of ${bound - 1} at the recipient` });
      const content = { text: "q".repeat(maxChunk(ctx) + 100) };
      const chunkId = alice.newId("big");
      const chunks = chunksOf(chunkId, "PEER_MESSAGE", { content }, maxChunk(ctx));
      const sent = sendChunks(alice, chunks, bob.identity.entityId);
      // The registry row closes the connection (1013); the refused record stays with the sender.
      await alice.expectError("BUFFER_OVERFLOW", { timeoutMs: 5000 });
      const ticket = alice.ticket();
      alice.close();
      bob.ack();
      await ctx.sleep(200);
      const again = await ctx.probe({ identityIndex: 0, query: { session_id: ticket.sessionId } });
      again.sendJson(again.buildResume(ticket));
      const answer = await again.receiveResumeAck();
      ctx.check(answer.status === "READY", "the sender's session resumes", `status ${String(answer.status)}`);
      // PP-SES-010: every chunk record the server's last_rx_seq does not cover goes again, as new records.
      const covered = typeof answer.last_rx_seq === "number" ? answer.last_rx_seq : -1;
      const unacknowledged = chunks.filter((_, i) => (sent[i]?.seq as number) > covered);
      ctx.check(unacknowledged.length > 0, "the refused last chunk not covered by last_rx_seq (PP-DLV-013: not acknowledged)", `last_rx_seq ${covered} covers every chunk`);
      sendChunks(again, unacknowledged, bob.identity.entityId);
      const whole = await receiveWhole(ctx, bob, (type) => type === "PEER_MESSAGE", "the chunked PEER_MESSAGE after its refused chunk was sent again");
      ctx.check(jcsEqual(whole.payload.content, content), "the whole content", "different content");
      ctx.check(whole.messageId === chunkId, `message_id ${chunkId} (the chunk_id)`, whole.messageId);
      bob.ack();
      await bob.expectSilence(500, "the message delivered once", { allow: (m) => m.envelope.type !== "PEER_MESSAGE" && m.envelope.type !== "CHUNKED_MESSAGE" });
    },
  },
  {
    id: "reassembly-bound",
    title: "A server takes new chunked messages of a session while their total_size adds up to at most max_message_bytes, refuses the next with BUFFER_OVERFLOW, completes those it took, and takes a new one once one completed",
    requirements: ["PP-CHK-015", "PP-DLV-013", "PP-DLV-018", "PP-LIM-013", "PP-TRN-015"],
    level: "MUST",
    requires: CHUNKING,
    async run(ctx) {
      const limit = ctx.limits.max_message_bytes ?? 16_777_216;
      const piece = maxChunk(ctx);
      const rate = ctx.limits.rate_limit_per_minute ?? 100;
      const budget = ctx.limits.max_buffered_bytes ?? 134_217_728;
      // Messages of two to three chunks each (so chunking them is required, PP-CHK-001) whose
      // total_size adds up to exactly max_message_bytes; only chunk 0 of each is sent.
      const sets = Math.max(1, Math.floor(limit / (2 * piece + 1)));
      if (rate !== 0 && rate < sets + 12) ctx.skip(`reserving max_message_bytes ${limit} in messages of about ${2 * piece} bytes needs ${sets + 12} records a minute; the target allows ${rate}`);
      if (sets > 200) ctx.skip(`max_message_bytes ${limit} needs ${sets} messages`);
      if (budget !== 0 && budget < limit) ctx.skip(`max_buffered_bytes ${budget} is under max_message_bytes: the server-wide bound (PP-LIM-012) could refuse first`);
      const alice = await ctx.session({ identityIndex: 0 });
      const bob = await ctx.session({ identityIndex: 1 });
      const sizes = Array.from({ length: sets }, (_, i) => Math.floor(limit / sets) + (i < limit % sets ? 1 : 0));
      const message = (size: number) => {
        const payload = payloadOfSize(size);
        return { payload, chunks: chunksOf(alice.newId("held"), "PEER_MESSAGE", payload, piece) };
      };
      const held = sizes.map(message);
      const firsts = held.map((m) => sendChunks(alice, m.chunks.slice(0, 1), bob.identity.entityId)[0] as Envelope);
      // Every byte up to the bound is taken, not less (PP-TRN-015).
      await alice.expectAck(firsts.at(-1)?.seq as number, 10_000);
      // At the bound, the rest of a message taken completes it (never refused for this bound).
      const done = held[0] as (typeof held)[number];
      const rest = sendChunks(alice, done.chunks.slice(1), bob.identity.entityId);
      await alice.expectAck(rest.at(-1)?.seq as number, 10_000);
      const whole = await receiveWhole(ctx, bob, (type) => type === "PEER_MESSAGE", "the first message taken, completed at the bound");
      ctx.check(jcsEqual(whole.payload, done.payload), "the completed message whole", "a different payload");
      // Its total_size is free again (PP-LIM-013): a new message of that size is taken, and one more byte is not.
      const [refill] = sendChunks(alice, message(sizes[0] as number).chunks.slice(0, 1), bob.identity.entityId);
      await alice.expectAck(refill?.seq as number, 10_000);
      const [over] = sendChunks(alice, message(piece + 1).chunks.slice(0, 1), bob.identity.entityId);
      await alice.expectError("BUFFER_OVERFLOW", { relatedMessageId: String(over?.message_id), timeoutMs: 10_000 });
      await endSessions(ctx, [[alice, 0]]);
    },
  },
  {
    id: "incomplete-timeout",
    title: "A receiver discards an incomplete chunked message chunk_timeout_ms after its first chunk and answers CHUNK_ERROR",
    requirements: ["PP-CHK-010", "PP-CHK-023"],
    level: "MUST",
    requires: CHUNKING,
    async run(ctx) {
      const timeout = ctx.limits.chunk_timeout_ms ?? 30_000;
      if (timeout > 10_000 && !ctx.slow) ctx.skip(`chunk_timeout_ms is ${timeout}: run with --slow`);
      const probe = await ctx.session({ stepTimeoutMs: timeout + 5000 });
      const { chunks } = bigEcho(ctx, probe);
      sendChunks(probe, chunks.slice(0, 1));
      const started = Date.now();
      const item = await probe.expectMessage("ERROR", { timeoutMs: timeout + 5000, describe: `CHUNK_ERROR about ${timeout} ms after the first chunk` });
      await probe.checkError(item, "CHUNK_ERROR", { relatedMessageId: (chunks[0] as Chunk).chunk_id }); // PP-CHK-023: the chunk_id, not a record's message_id
      ctx.note(`CHUNK_ERROR after ${Date.now() - started} ms (chunk_timeout_ms ${timeout})`);
    },
  },
  {
    id: "reassembled-schema-violation",
    title: "A receiver answers a reassembled message that violates the schema of its inner_type with INVALID_MESSAGE naming the chunk_id, and delivers nothing",
    requirements: ["PP-CHK-021", "PP-KS-010", "PP-DLV-016"],
    level: "MUST",
    requires: CHUNKING,
    async run(ctx) {
      const probe = await ctx.session();
      // Consistent chunks, right size and digest, of a TASK_REQUEST without `action`: only the schema check of the whole can refuse it.
      const taskId = probe.newId("task");
      const chunks = chunksOf(probe.newId("big"), "TASK_REQUEST", { task_id: taskId, params: { blob: "s".repeat(maxChunk(ctx) + 1000) } }, maxChunk(ctx));
      const sent = sendChunks(probe, chunks);
      await probe.expectError("INVALID_MESSAGE", { relatedMessageId: (chunks[0] as Chunk).chunk_id, checkConnection: false });
      await expectRefusedAcknowledged(probe, (sent.at(-1) as Envelope).seq as number, "a reassembled message refused for its schema");
      await probe.expectSilence(300, "no TASK_RESPONSE to a message that violates its schema", { allow: (m) => m.envelope.type !== "TASK_RESPONSE" && m.envelope.type !== "CHUNKED_MESSAGE" });
      // The boundary: the same message with its action is delivered.
      await expectDelivered(ctx, probe, bigEcho(ctx, probe), "a reassembled message that follows its schema");
    },
  },
  {
    id: "recipient-differs",
    title: "A receiver answers CHUNK_ERROR when the chunks of one message name different recipient_id values, and routes nothing",
    requirements: ["PP-CHK-022", "PP-CHK-017", "PP-CHK-013"],
    level: "MUST",
    requires: CHUNKING,
    async run(ctx) {
      const alice = await ctx.session();
      const bob = await ctx.session();
      const carol = await ctx.session();
      const chunks = chunksOf(alice.newId("big"), "PEER_MESSAGE", { content: "d".repeat(maxChunk(ctx) + 1000) }, maxChunk(ctx));
      ctx.check(chunks.length === 2, "a message of two chunks", `${chunks.length}`);
      sendChunks(alice, chunks.slice(0, 1), bob.identity.entityId);
      sendChunks(alice, chunks.slice(1), carol.identity.entityId);
      await alice.expectError("CHUNK_ERROR", { relatedMessageId: (chunks[0] as Chunk).chunk_id, checkConnection: false });
      await alice.expectOpen("after CHUNK_ERROR the connection stays open (PP-ERR-004)");
      for (const [name, peer] of [["bob", bob], ["carol", carol]] as const) await peer.expectSilence(300, `nothing routed to ${name} from chunks that disagree on recipient_id`, { allow: (m) => m.envelope.type !== "PEER_MESSAGE" && m.envelope.type !== "CHUNKED_MESSAGE" });
    },
  },
]);
