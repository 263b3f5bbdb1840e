/**
 * Spec §10 (chunking): messages over max_chunk_bytes travel as CHUNKED_MESSAGE records that the
 * receiver reassembles whole or not at all. Every message here is larger than the target's
 * max_chunk_bytes, so that chunking it is what the spec requires (PP-CHK-001, PP-CHK-014) and a
 * CHUNK_ERROR can only be about the defect under test.
 */
import { suite, type CaseContext } from "../case.ts";
import { chunksOf, type Chunk } from "../probe/chunks.ts";
import { hash } from "../probe/crypto.ts";
import { ProbePeer, type Envelope, type Inbound } from "../probe/peer.ts";
import { b64u, canonical, unb64u } from "../probe/wire.ts";
import { jcsEqual } from "./support.ts";

const maxChunk = (ctx: CaseContext) => ctx.limits.max_chunk_bytes ?? 262_144;

/** An echo request whose JCS form is a little over max_chunk_bytes: two chunks. */
function bigEcho(ctx: CaseContext, probe: ProbePeer, extra = 1000) {
  const taskId = probe.newId("task");
  const params = { blob: "c".repeat(maxChunk(ctx) + extra) };
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
async function receiveWhole(ctx: CaseContext, probe: ProbePeer, accept: (type: string, payload: Record<string, unknown>) => boolean, describe: string): Promise<{ chunked: boolean; payload: Record<string, unknown>; messageId: string }> {
  const parts = new Map<string, Chunk[]>();
  while (true) {
    const item = await probe.expectMessage((m) => m.envelope.type === "CHUNKED_MESSAGE" || accept(String(m.envelope.type), ProbePeer.payloadOf(m)), { describe, timeoutMs: 10_000 });
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

async function expectChunkError(ctx: CaseContext, probe: ProbePeer, why: string): Promise<void> {
  await probe.expectError("CHUNK_ERROR", { timeoutMs: 5000 });
  await probe.expectSilence(300, `no TASK_RESPONSE: ${why}`, { allow: (m: Inbound & { kind: "message" }) => m.envelope.type !== "TASK_RESPONSE" && m.envelope.type !== "CHUNKED_MESSAGE" });
  ctx.check(!probe.history.some((i) => i.kind === "message" && (i.envelope.type === "TASK_RESPONSE" || i.envelope.type === "CHUNKED_MESSAGE")), `nothing delivered: ${why} (PP-CHK-005)`, "a TASK_RESPONSE");
}

const CHUNKING = ["chunking"];

export const chunkingCases = suite("chunking", "10. Chunking", [
  {
    id: "echo-large",
    title: "A server reassembles a chunked TASK_REQUEST and sends its large TASK_RESPONSE in consistent chunks",
    requirements: ["PP-CHK-001", "PP-CHK-002", "PP-CHK-003", "PP-CHK-004", "PP-DLV-009"],
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
    requirements: ["PP-CHK-005", "PP-CHK-004"],
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
      const probe = await ctx.session();
      const { chunks } = bigEcho(ctx, probe);
      const first = chunks[0] as Chunk;
      sendChunks(probe, [{ ...first, total_size: (ctx.limits.max_message_bytes ?? 16_777_216) + 1 }]);
      await expectChunkError(ctx, probe, "total_size over max_message_bytes");
    },
  },
  {
    id: "conflicting-duplicate",
    title: "A receiver answers CHUNK_ERROR when a chunk number arrives again with different content",
    requirements: ["PP-CHK-007"],
    level: "MUST",
    requires: CHUNKING,
    async run(ctx) {
      const probe = await ctx.session();
      const { chunks } = bigEcho(ctx, probe);
      const first = chunks[0] as Chunk;
      const altered = Buffer.from(unb64u(first.data) as Uint8Array);
      altered[altered.length - 1] = 0x64; // a different byte in the same place
      sendChunks(probe, [first, { ...first, data: b64u(altered) }, ...chunks.slice(1)]);
      await expectChunkError(ctx, probe, "chunk 0 twice with different data");
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
    id: "bytes-exceed-total",
    title: "A receiver answers CHUNK_ERROR when the bytes received for one chunk_id exceed its total_size",
    requirements: ["PP-CHK-011"],
    level: "MUST",
    requires: CHUNKING,
    async run(ctx) {
      const probe = await ctx.session();
      const { chunks } = bigEcho(ctx, probe);
      const first = chunks[0] as Chunk;
      const shrunk = { ...first, total_size: (unb64u(first.data)?.length ?? 0) - 10 };
      const second = { ...(chunks[1] as Chunk), total_size: shrunk.total_size, is_last: false };
      sendChunks(probe, [shrunk, second]);
      await probe.expectError("CHUNK_ERROR", { timeoutMs: 5000 });
    },
  },
  {
    id: "out-of-order",
    title: "A receiver either reassembles chunks sent out of order or refuses them with CHUNK_ERROR, never a wrong message",
    requirements: ["PP-CHK-012", "PP-CHK-004"],
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
    id: "incomplete-timeout",
    title: "A receiver discards an incomplete chunked message chunk_timeout_ms after its first chunk and answers CHUNK_ERROR",
    requirements: ["PP-CHK-010"],
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
      await probe.checkError(item, "CHUNK_ERROR");
      ctx.note(`CHUNK_ERROR after ${Date.now() - started} ms (chunk_timeout_ms ${timeout})`);
    },
  },
]);
