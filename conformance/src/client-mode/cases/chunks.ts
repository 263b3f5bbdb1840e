/**
 * Client cases of spec §10, Chunking (issue 14). The runner is the server.
 *
 * As a RECEIVER (scenario `receive`, spec §18.1): the responder routes the client chunked
 * PEER_MESSAGEs from another entity, broken in one place at a time, and sees what the client
 * delivered through the reflections the scenario sends back, and what it refused through its ERROR
 * records. A chunked message is delivered as one message whose message_id is its chunk_id (spec
 * §10), so its reflection names the chunk_id. After each refusal a plain message follows: the
 * client delivers it, since CHUNK_ERROR keeps the connection open (PP-ERR-004), and it delivers one
 * sender's messages in order (PP-DLV-005), so whatever it delivered of the refused message comes
 * back before it.
 *
 * A client advertises no limits: the limits of the session are those the server advertised in
 * HANDSHAKE_INIT_ACK, its max_chunk_bytes in both directions (PP-CHK-018), and so its
 * max_message_bytes (PP-CHK-006) and chunk_timeout_ms (PP-CHK-010), the only ones both sides know.
 *
 * As a SENDER (scenarios `receive` and `large`): the responder advertises a max_chunk_bytes other
 * than the default, and reassembles what the client sends as spec §10 says (chunk-exchange.ts).
 */
import { isDeepStrictEqual } from "node:util";
import { hash, utf8 } from "../../probe/crypto.ts";
import { chunksOf, type Chunk } from "../../probe/chunks.ts";
import { b64u, canonical } from "../../probe/wire.ts";
import { VALIDATORS } from "../../schemas.ts";
import { ChunkExchange, freshId, OTHER_PEER } from "../chunk-exchange.ts";
import { clientSuite, type ClientCaseContext } from "../client-case.ts";
import { ProbeResponder } from "../responder.ts";

/** Small chunks, so that a message of a few hundred bytes travels in several. */
const CHUNK_LIMITS = { max_chunk_bytes: 200 };
const STEP_MS = 5000;
/** What every case checks of what the client sends (chunk-exchange.ts). */
const SENDS_AS_SPEC = "what the client sends follows spec §10 and §12: chunks as PP-CHK-001 to PP-CHK-003, PP-CHK-014 and PP-CHK-018 say, and ERRORs with the registry's code and retryable (PP-ERR-001, PP-ERR-002)";

/** `n` printable ASCII characters: its JSON string is n + 2 bytes. */
function text(n: number): string {
  const unit = "chunked message 0123456789 ";
  return unit.repeat(Math.ceil(n / unit.length)).slice(0, n);
}

/** A PEER_MESSAGE content whose chunks number four at 200 bytes: JCS({"content": …}) is 614 bytes. */
const CONTENT = text(600);

async function receiving(ctx: ClientCaseContext): Promise<ChunkExchange> {
  const { transport } = await ctx.accept();
  const r = new ProbeResponder(transport, { identity: ctx.serverIdentity, trace: ctx.trace, validators: VALIDATORS, limits: ctx.limits, stepTimeoutMs: STEP_MS });
  await r.handshake();
  return new ChunkExchange(r, r.limits.max_chunk_bytes as number);
}

function describeErrors(x: ChunkExchange): string {
  return x.errors.length === 0 ? "no ERROR" : x.errors.map((e) => `ERROR ${String(e.code)} about ${String(e.related)}`).join(", ");
}

function describeReflections(x: ChunkExchange, id: string): string {
  const mine = x.reflectionsOf(id);
  if (mine.length === 0) return `nothing delivered as ${id}; delivered: ${x.reflections.map((r) => String(r.reflects)).join(", ") || "nothing"}; ${describeErrors(x)}`;
  return `delivered ${mine.length} time(s), content ${mine.map((r) => (isDeepStrictEqual(r.content, mine[0]?.content) ? JSON.stringify(r.content).slice(0, 60) : "differing")).join(" / ")}`;
}

/** The chunked message `id` was delivered exactly once, with `content`, to the application. */
function checkDeliveredOnce(ctx: ClientCaseContext, x: ChunkExchange, id: string, content: unknown, why: string): void {
  const mine = x.reflectionsOf(id);
  ctx.check(mine.length === 1 && isDeepStrictEqual(mine[0]?.content, content), `the client delivers the chunked message once, whole, as message_id ${id} (its chunk_id, spec §10)${why}`, () => describeReflections(x, id));
  ctx.check(mine[0]?.recipientId === OTHER_PEER, `the delivered message came from ${OTHER_PEER} (the reflection goes to its sender, spec §18.1)`, `the reflection went to ${String(mine[0]?.recipientId)}`);
}

/**
 * A plain message after the others: the client delivers it (the connection stays open after a
 * CHUNK_ERROR, PP-ERR-004), and, delivering in order (PP-DLV-005), delivered whatever it delivered
 * of the earlier ones before it.
 */
async function stillDelivering(ctx: ClientCaseContext, x: ChunkExchange): Promise<void> {
  const id = freshId("m");
  x.sendPlain(id, { after: "the chunked messages" });
  const reflection = await x.reflectionOf(id, STEP_MS);
  ctx.check(reflection !== null && isDeepStrictEqual(reflection.content, { after: "the chunked messages" }), "the client goes on delivering: the plain message sent next comes back (PP-ERR-004)", x.closed ? `the connection closed with ${x.closed.code}` : `nothing within ${STEP_MS} ms; ${describeErrors(x)}`);
}

/** Waits for the client's ERROR `code` naming `chunkId` (PP-CHK-023); fails when none comes. */
async function expectError(ctx: ClientCaseContext, x: ChunkExchange, chunkId: string, why: string, code = "CHUNK_ERROR", ms = STEP_MS): Promise<void> {
  await x.read(ms, () => x.errorsAbout(chunkId, code).length > 0);
  ctx.check(x.errorsAbout(chunkId, code).length > 0, `the client answers ${code} naming the chunk_id ${chunkId} in related_message_id (PP-CHK-023)${why}`, () => describeErrors(x));
}

function checkNothingDelivered(ctx: ClientCaseContext, x: ChunkExchange, id: string, why: string): void {
  ctx.check(x.reflectionsOf(id).length === 0, `the client delivers nothing of the refused message${why}`, () => describeReflections(x, id));
}

/** Ends the case: what the client sent follows the spec, and the scenario exits 0 on the server's BYE. */
async function finish(ctx: ClientCaseContext, x: ChunkExchange): Promise<void> {
  ctx.check(x.problems.length === 0, SENDS_AS_SPEC, x.problems.join("; "));
  ctx.check(x.closed === null, "the client keeps the connection open", `it closed with ${x.closed?.code}`);
  x.bye();
  const exit = await ctx.exit(10_000);
  ctx.check(exit.code === 0, "the receive scenario ends with exit 0 on the server's BYE (spec §18.1)", `exit ${exit.code}`);
  ctx.check(x.r.violations.length === 0, "everything the client sent follows the spec", x.r.violations.join("; "));
}

/** Sends every chunk, each in a record of its own. */
function sendAll(x: ChunkExchange, chunks: Chunk[]): void {
  for (const chunk of chunks) x.sendChunk(chunk);
}

/** The chunks of `CONTENT` with `change` applied to the chunk at `index` (every chunk when index is null). */
function altered(x: ChunkExchange, id: string, index: number | null, change: (c: Chunk) => Partial<Chunk>): Chunk[] {
  return x.chunksOf(id, CONTENT).map((c, i) => (index === null || i === index ? { ...c, ...change(c) } : c));
}

/**
 * A refused chunked message: `send` sends it broken in one place, the rest of its chunks after the
 * point of refusal included (PP-CHK-017); the client answers `code` naming the chunk_id and
 * delivers nothing of it.
 */
async function expectRefused(ctx: ClientCaseContext, send: (x: ChunkExchange, id: string) => void | Promise<void>, why: string, code = "CHUNK_ERROR"): Promise<void> {
  const x = await receiving(ctx);
  const id = freshId("c");
  await send(x, id);
  await stillDelivering(ctx, x);
  await expectError(ctx, x, id, why, code);
  checkNothingDelivered(ctx, x, id, ` (${code === "CHUNK_ERROR" ? "PP-CHK-017" : "PP-CHK-021"})`);
  await finish(ctx, x);
}

const ERRORS = ["PP-ERR-001", "PP-ERR-002", "PP-ERR-004"];

export const clientChunkCases = clientSuite("chunks", "10. Chunking", [
  {
    id: "delivered-whole-after-last",
    title: "A client delivers a chunked message once, whole, as one message whose message_id is its chunk_id, and only once its last chunk has arrived",
    requirements: ["PP-CHK-004"],
    level: "MUST",
    scenario: "receive",
    limits: CHUNK_LIMITS,
    async run(ctx) {
      const x = await receiving(ctx);
      const id = freshId("c");
      const chunks = x.chunksOf(id, CONTENT);
      sendAll(x, chunks.slice(0, -1));
      await x.read(500);
      ctx.check(x.reflectionsOf(id).length === 0 && x.errors.length === 0, "the client delivers nothing and refuses nothing before the last chunk (PP-CHK-004)", () => describeReflections(x, id));
      x.sendChunk(chunks.at(-1) as Chunk);
      await x.reflectionOf(id, STEP_MS);
      await stillDelivering(ctx, x);
      checkDeliveredOnce(ctx, x, id, CONTENT, " (PP-CHK-004)");
      ctx.check(x.errors.length === 0, "the client refuses nothing of a good chunked message", () => describeErrors(x));
      await finish(ctx, x);
    },
  },
  {
    id: "identical-duplicate-ignored",
    title: "A client ignores a chunk that arrives again identical, in a record of its own, and delivers the message once",
    requirements: ["PP-CHK-008", "PP-CHK-004"],
    level: "MUST",
    scenario: "receive",
    limits: CHUNK_LIMITS,
    async run(ctx) {
      const x = await receiving(ctx);
      const id = freshId("c");
      const chunks = x.chunksOf(id, CONTENT);
      sendAll(x, [chunks[0], chunks[1], chunks[1], ...chunks.slice(2)] as Chunk[]);
      await x.reflectionOf(id, STEP_MS);
      await stillDelivering(ctx, x);
      checkDeliveredOnce(ctx, x, id, CONTENT, ", the identical duplicate chunk ignored (PP-CHK-008)");
      ctx.check(x.errors.length === 0, "the client answers an identical duplicate chunk with nothing (PP-CHK-008)", () => describeErrors(x));
      await finish(ctx, x);
    },
  },
  {
    id: "digest-mismatch",
    title: "A client refuses a chunked message whose digest does not match its bytes with CHUNK_ERROR naming the chunk_id, delivers nothing of it, and goes on",
    requirements: ["PP-CHK-005", "PP-CHK-017", "PP-CHK-023", ...ERRORS],
    level: "MUST",
    scenario: "receive",
    limits: CHUNK_LIMITS,
    run: (ctx) => expectRefused(ctx, (x, id) => sendAll(x, altered(x, id, null, () => ({ digest: b64u(hash(utf8("other bytes"))) }))), " for a digest that does not match (PP-CHK-005)"),
  },
  {
    id: "total-size-mismatch",
    title: "A client refuses a chunked message whose chunks, all alike, say a total_size one byte larger than their bytes, with CHUNK_ERROR naming the chunk_id",
    requirements: ["PP-CHK-005", "PP-CHK-017", "PP-CHK-023", ...ERRORS],
    level: "MUST",
    scenario: "receive",
    limits: CHUNK_LIMITS,
    run: (ctx) => expectRefused(ctx, (x, id) => sendAll(x, altered(x, id, null, (c) => ({ total_size: c.total_size + 1 }))), " for a total_size that does not match (PP-CHK-005)"),
  },
  {
    id: "over-max-message-bytes",
    title: "A client delivers a chunked message of exactly the server's max_message_bytes, and answers the first chunk of one a byte larger with CHUNK_ERROR, delivering nothing of it",
    requirements: ["PP-CHK-006", "PP-CHK-017", "PP-CHK-023", ...ERRORS],
    level: "MUST",
    scenario: "receive",
    limits: { ...CHUNK_LIMITS, max_message_bytes: 1024 },
    async run(ctx) {
      const x = await receiving(ctx);
      const limit = x.r.limits.max_message_bytes as number;
      // JCS({"content": s}) is 14 bytes more than s.
      const atLimit = text(limit - 14);
      const fits = freshId("c");
      const fitting = x.chunksOf(fits, atLimit);
      ctx.check(fitting[0]?.total_size === limit, `a message of total_size ${limit}`, `total_size ${fitting[0]?.total_size}`);
      sendAll(x, fitting);
      await x.reflectionOf(fits, STEP_MS);
      checkDeliveredOnce(ctx, x, fits, atLimit, `: its total_size equals max_message_bytes ${limit}, which is not over it (PP-CHK-006)`);
      const over = freshId("c");
      const oversize = x.chunksOf(over, text(limit - 13));
      x.sendChunk(oversize[0] as Chunk);
      // Refused on its first chunk, without buffering it: before any other chunk is sent.
      await expectError(ctx, x, over, ` for the first chunk of a message whose total_size ${limit + 1} exceeds max_message_bytes ${limit} (PP-CHK-006)`);
      sendAll(x, oversize.slice(1));
      await stillDelivering(ctx, x);
      checkNothingDelivered(ctx, x, over, " (PP-CHK-006, PP-CHK-017)");
      await finish(ctx, x);
    },
  },
  {
    id: "conflicting-duplicate",
    title: "A client answers a chunk whose sequence_number it already received with different content with CHUNK_ERROR, and delivers either the message as first received or nothing, never the conflicting content",
    requirements: ["PP-CHK-007", "PP-CHK-023", ...ERRORS],
    level: "MUST",
    scenario: "receive",
    limits: CHUNK_LIMITS,
    async run(ctx) {
      const x = await receiving(ctx);
      const id = freshId("c");
      const chunks = x.chunksOf(id, CONTENT);
      const chunk1 = chunks[1] as Chunk;
      // The same number of bytes, other content: only the conflict is wrong.
      const conflicting = { ...chunk1, data: b64u(utf8(text(200).toUpperCase())) };
      sendAll(x, [chunks[0], chunk1, conflicting, ...chunks.slice(2)] as Chunk[]);
      await stillDelivering(ctx, x);
      await expectError(ctx, x, id, " for a chunk that repeats sequence_number 1 with different content (PP-CHK-007)");
      // PP-CHK-016: kept as first received (then completed by the chunks that follow) or discarded.
      const mine = x.reflectionsOf(id);
      ctx.check(mine.length === 0 || (mine.length === 1 && isDeepStrictEqual(mine[0]?.content, CONTENT)), "the client delivers the message as first received, once, or nothing of it (PP-CHK-016)", () => describeReflections(x, id));
      await finish(ctx, x);
    },
  },
  {
    id: "chunks-disagree",
    title: "A client answers CHUNK_ERROR and discards the message when its chunks disagree on total_size, digest or inner_type, or one arrives after the last with a higher sequence_number",
    requirements: ["PP-CHK-009", "PP-CHK-017", "PP-CHK-023", ...ERRORS],
    level: "MUST",
    scenario: "receive",
    limits: CHUNK_LIMITS,
    async run(ctx) {
      const x = await receiving(ctx);
      const variants: { what: string; chunks: (id: string) => Chunk[] }[] = [
        { what: "chunk 1 says another total_size", chunks: (id) => altered(x, id, 1, (c) => ({ total_size: c.total_size + 200 })) },
        { what: "chunk 1 says another digest", chunks: (id) => altered(x, id, 1, () => ({ digest: b64u(hash(utf8("other bytes"))) })) },
        { what: "chunk 1 says another inner_type", chunks: (id) => altered(x, id, 1, () => ({ inner_type: "TASK_REQUEST" })) },
        {
          what: "chunk 3 arrives after chunk 2 marked last",
          chunks: (id) => {
            const [c0, c1, c2, c3] = x.chunksOf(id, CONTENT) as [Chunk, Chunk, Chunk, Chunk];
            return [c0, { ...c2, is_last: true }, c3, c1];
          },
        },
      ];
      const ids = variants.map(() => freshId("c"));
      for (const [i, variant] of variants.entries()) sendAll(x, variant.chunks(ids[i] as string));
      await stillDelivering(ctx, x);
      for (const [i, variant] of variants.entries()) {
        const id = ids[i] as string;
        await expectError(ctx, x, id, `: ${variant.what} (PP-CHK-009)`);
        checkNothingDelivered(ctx, x, id, `: ${variant.what}, the others sent after the error (PP-CHK-009, PP-CHK-017)`);
      }
      await finish(ctx, x);
    },
  },
  {
    id: "recipient-disagrees",
    title: "A client answers CHUNK_ERROR when the records of one chunk_id name different recipient_id values, and delivers nothing of the message",
    requirements: ["PP-CHK-022", "PP-CHK-017", "PP-CHK-023", ...ERRORS],
    level: "MUST",
    scenario: "receive",
    limits: CHUNK_LIMITS,
    run: (ctx) =>
      expectRefused(
        ctx,
        (x, id) => {
          const chunks = x.chunksOf(id, CONTENT);
          for (const [i, chunk] of chunks.entries()) x.sendChunk(chunk, i === 1 ? { recipient_id: "peer.someone-else" } : {});
        },
        " for chunk 1 in a record to another recipient_id (PP-CHK-022)",
      ),
  },
  {
    id: "bytes-exceed-total-size",
    title: "A client answers CHUNK_ERROR as soon as the bytes received for a chunk_id exceed its total_size, before the last chunk",
    requirements: ["PP-CHK-011", "PP-CHK-017", "PP-CHK-023", ...ERRORS],
    level: "MUST",
    scenario: "receive",
    limits: CHUNK_LIMITS,
    async run(ctx) {
      const x = await receiving(ctx);
      const id = freshId("c");
      // 200-byte pieces under a total_size of 300: chunk 1 takes the bytes to 400.
      const chunks = altered(x, id, null, () => ({ total_size: 300 }));
      sendAll(x, chunks.slice(0, 2));
      await expectError(ctx, x, id, " once chunks 0 and 1 carry 400 bytes of a total_size of 300, before the last chunk (PP-CHK-011)");
      sendAll(x, chunks.slice(2));
      await stillDelivering(ctx, x);
      checkNothingDelivered(ctx, x, id, " (PP-CHK-011, PP-CHK-017)");
      await finish(ctx, x);
    },
  },
  {
    id: "incomplete-times-out",
    title: "A client discards an incomplete chunked message chunk_timeout_ms (the server's) after its first chunk, with CHUNK_ERROR naming the chunk_id, and delivers nothing of it when its last chunk comes later",
    requirements: ["PP-CHK-010", "PP-CHK-017", "PP-CHK-023", ...ERRORS],
    level: "MUST",
    scenario: "receive",
    limits: { ...CHUNK_LIMITS, chunk_timeout_ms: 2500 },
    async run(ctx) {
      const x = await receiving(ctx);
      const timeout = x.r.limits.chunk_timeout_ms as number;
      const id = freshId("c");
      const chunks = x.chunksOf(id, CONTENT);
      const first = Date.now();
      x.sendChunk(chunks[0] as Chunk);
      // A second chunk before the timeout: the timer runs from the first chunk, not the latest.
      await x.read(timeout - 500);
      x.sendChunk(chunks[1] as Chunk);
      await expectError(ctx, x, id, ` for a message incomplete ${timeout} ms after its first chunk (PP-CHK-010)`, "CHUNK_ERROR", 4000);
      const at = (x.errorsAbout(id, "CHUNK_ERROR")[0]?.at as number) - first;
      // Generous slack: a client's timer and a loaded machine; never before the timeout.
      ctx.check(at >= timeout - 50 && at <= timeout + 1500, `the CHUNK_ERROR comes chunk_timeout_ms (${timeout} ms) after the first chunk, not before and not ${timeout} ms after a later chunk (PP-CHK-010)`, `it came ${at} ms after the first chunk`);
      sendAll(x, chunks.slice(2));
      await stillDelivering(ctx, x);
      checkNothingDelivered(ctx, x, id, ": discarded at the timeout, its last chunks sent after (PP-CHK-010, PP-CHK-017)");
      await finish(ctx, x);
    },
  },
  {
    id: "out-of-order",
    title: "A client given chunks 0, 2, 1, 3 either delivers the message once, whole (PP-CHK-012), or answers CHUNK_ERROR naming the chunk_id and delivers nothing of it (PP-CHK-020)",
    requirements: ["PP-CHK-020", "PP-CHK-017", "PP-CHK-023", "PP-CHK-004"],
    level: "MUST",
    scenario: "receive",
    limits: CHUNK_LIMITS,
    async run(ctx) {
      const x = await receiving(ctx);
      const id = freshId("c");
      const [c0, c1, c2, c3] = x.chunksOf(id, CONTENT) as [Chunk, Chunk, Chunk, Chunk];
      sendAll(x, [c0, c2, c1, c3]);
      await stillDelivering(ctx, x);
      await x.read(x.reflectionsOf(id).length > 0 ? 300 : 2000, () => x.errorsAbout(id).length > 0);
      const delivered = x.reflectionsOf(id);
      const refused = x.errorsAbout(id, "CHUNK_ERROR").length > 0;
      const taken = !refused && delivered.length === 1 && isDeepStrictEqual(delivered[0]?.content, CONTENT) && x.errors.length === 0;
      ctx.check(taken || (refused && delivered.length === 0), "the client either delivers the message once, whole, with no ERROR (PP-CHK-012), or answers CHUNK_ERROR naming the chunk_id and delivers nothing of it (PP-CHK-020, PP-CHK-017)", () => describeReflections(x, id));
      await finish(ctx, x);
    },
  },
  {
    id: "reassembled-schema-violation",
    title: "A client checks a reassembled message against the schema of its inner_type and answers a violation with INVALID_MESSAGE naming the chunk_id, delivering nothing",
    requirements: ["PP-CHK-021", ...ERRORS],
    level: "MUST",
    scenario: "receive",
    limits: CHUNK_LIMITS,
    run: (ctx) =>
      expectRefused(
        ctx,
        // PEER_MESSAGE carries exactly one of content and sealed (spec §9, its schema): this one has both.
        (x, id) => sendAll(x, chunksOf(id, "PEER_MESSAGE", { content: CONTENT, sealed: "AAAA" }, x.maxChunkBytes)),
        " for a reassembled PEER_MESSAGE with both content and sealed (PP-CHK-021)",
        "INVALID_MESSAGE",
      ),
  },
  {
    id: "sender-chunks-over-server-limit",
    title: "A client chunks a message whose JCS(payload) is one byte over the server's advertised max_chunk_bytes, in pieces within it, and sends one of exactly max_chunk_bytes whole",
    requirements: ["PP-CHK-001", "PP-CHK-014", "PP-CHK-018", "PP-CHK-002", "PP-CHK-003"],
    level: "MUST",
    scenario: "receive",
    limits: { max_chunk_bytes: 300 },
    async run(ctx) {
      const x = await receiving(ctx);
      const limit = x.maxChunkBytes;
      // The reflection's payload is {"content": {"content": s, "reflects": id}} (spec §18.1): sized by s.
      const reflectionOf = (id: string, n: number) => canonical({ content: { content: text(n), reflects: id } }).length;
      const sizes: [string, number][] = [
        [freshId("m"), limit],
        [freshId("m"), limit + 1],
      ];
      for (const [id, size] of sizes) {
        const n = size - reflectionOf(id, 0);
        ctx.check(reflectionOf(id, n) === size, `a reflection of ${size} bytes`, `${reflectionOf(id, n)} bytes`);
        x.sendPlain(id, text(n));
        await x.reflectionOf(id, STEP_MS);
        ctx.check(x.reflectionsOf(id).length === 1, `the client delivers and reflects message ${id}`, () => describeReflections(x, id));
      }
      await finish(ctx, x);
      const [fits, over] = sizes.map(([id]) => x.messages.find((m) => (m.payload as { content?: { reflects?: unknown } }).content?.reflects === id));
      ctx.check(fits?.chunks === null, `the reflection of exactly max_chunk_bytes (${limit}) goes whole (PP-CHK-014)`, `it went in ${fits?.chunks?.length} chunks`);
      ctx.check((over?.chunks?.length ?? 0) >= 2, `the reflection of max_chunk_bytes + 1 (${limit + 1}) goes in chunks (PP-CHK-001, PP-CHK-018)`, "it went whole");
    },
  },
  {
    id: "large-echo-in-chunks",
    title: "A client sends an echo request larger than the server's max_chunk_bytes in chunks that reassemble to it, and reassembles the chunked answer",
    requirements: ["PP-CHK-001", "PP-CHK-002", "PP-CHK-003", "PP-CHK-018", "PP-CHK-004"],
    level: "MUST",
    scenario: "large",
    env: { PEER_PAYLOAD_BYTES: "3000" },
    limits: { max_chunk_bytes: 1000 },
    async run(ctx) {
      const { transport } = await ctx.accept();
      const r = new ProbeResponder(transport, { identity: ctx.serverIdentity, trace: ctx.trace, validators: VALIDATORS, limits: ctx.limits, stepTimeoutMs: STEP_MS });
      await r.handshake();
      const x = new ChunkExchange(r, r.limits.max_chunk_bytes as number);
      await x.read(15_000, () => x.closed !== null || x.problems.length > 0);
      ctx.check(x.problems.length === 0, SENDS_AS_SPEC, x.problems.join("; "));
      const request = x.messages.find((m) => m.type === "TASK_REQUEST");
      ctx.check((request?.chunks?.length ?? 0) >= 3, `the echo request of over 3000 bytes goes in chunks of at most ${x.maxChunkBytes} bytes (PP-CHK-001, PP-CHK-018)`, request ? `it went in ${request.chunks?.length ?? "one record"}` : "no echo request");
      const exit = await ctx.exit(10_000);
      ctx.check(exit.code === 0, "the client reassembles the chunked echo answer and completes: exit 0", `exit ${exit.code}`);
      ctx.check(r.violations.length === 0, "everything the client sent follows the spec", r.violations.join("; "));
    },
  },
]);
