/**
 * The runner's side of chunked transfer (spec §10) in client mode. Over a ProbeResponder that has
 * completed its handshake, a ChunkExchange sends the client plain and chunked PEER_MESSAGEs as a
 * server routes them from another entity, reads everything the client sends, and keeps what a case
 * judges:
 *
 * - the client's data messages, whole: its chunked ones reassembled as a receiver must, each chunk
 *   checked as a sender must make it (same chunk_id, total_size, digest, inner_type: PP-CHK-002;
 *   numbered from 0 with is_last only on the last: PP-CHK-003; a piece within the server's
 *   max_chunk_bytes: PP-CHK-001, PP-CHK-018), and a whole one checked to fit (PP-CHK-001), a chunked
 *   one not to (PP-CHK-014);
 * - the messages the client delivered, as the `receive` scenario reflects them (spec §18.1);
 * - the ERRORs it sent, each checked against the registry (PP-ERR-001, PP-ERR-002).
 *
 * It answers an echo TASK_REQUEST that came in chunks, in chunks when the answer is larger than
 * max_chunk_bytes (the responder answers a whole one itself: ProbeResponder.serveRecord).
 */
import type { Inbound } from "../probe/peer.ts";
import { hash, randomBytes } from "../probe/crypto.ts";
import { chunksOf, type Chunk } from "../probe/chunks.ts";
import { b64u, canonical, unb64u } from "../probe/wire.ts";
import { errorRow } from "../schemas.ts";
import type { ProbeResponder } from "./responder.ts";

/** The entity the messages the runner sends come from: another client of the server, routed to this one. */
export const OTHER_PEER = "peer.chunk-sender";

export interface ClientError {
  code: unknown;
  retryable: unknown;
  related: unknown;
  at: number;
}

/** A data message of the client, whole: reassembled when it came in chunks. */
export interface ClientMessage {
  type: string;
  messageId: string;
  recipientId: unknown;
  payload: unknown;
  /** Its chunks in arrival order; null when it came as one record. */
  chunks: Chunk[] | null;
  at: number;
}

/** A message the client delivered to its application, as the `receive` scenario sends it back. */
export interface Reflection {
  reflects: unknown;
  content: unknown;
  /** The recipient_id of the reflection: the delivered message's sender (spec §18.1). */
  recipientId: unknown;
  at: number;
}

interface Incoming {
  chunks: Chunk[];
  recipientId: unknown;
}

export const freshId = (prefix: string): string => `${prefix}${b64u(randomBytes(12))}`;

export class ChunkExchange {
  readonly errors: ClientError[] = [];
  readonly messages: ClientMessage[] = [];
  readonly reflections: Reflection[] = [];
  /** What the client sent against spec §10 and §12: not thrown, a case reports them. */
  readonly problems: string[] = [];
  closed: { code: number; reason: string } | null = null;
  private readonly incoming = new Map<string, Incoming>();

  constructor(
    readonly r: ProbeResponder,
    /** The max_chunk_bytes the responder advertised: the client's bound in both directions (PP-CHK-018). */
    readonly maxChunkBytes: number,
  ) {}

  // -------------------------------------------------------------------------------------------
  // Sending to the client

  /** A PEER_MESSAGE from OTHER_PEER, as one record. */
  sendPlain(messageId: string, content: unknown): void {
    this.r.sendRecord("PEER_MESSAGE", { content }, { envelope: { message_id: messageId, sender_id: OTHER_PEER } });
  }

  /** The chunks of a PEER_MESSAGE from OTHER_PEER with `content`, split at `size` bytes (spec §10); not sent. */
  chunksOf(chunkId: string, content: unknown, size = this.maxChunkBytes): Chunk[] {
    return chunksOf(chunkId, "PEER_MESSAGE", { content }, size);
  }

  /** One chunk in a CHUNKED_MESSAGE record of its own message_id; `envelope` overrides members of the record. */
  sendChunk(chunk: Chunk, envelope: Record<string, unknown> = {}): void {
    this.r.sendRecord("CHUNKED_MESSAGE", chunk, { envelope: { message_id: freshId("k"), sender_id: OTHER_PEER, ...envelope } });
  }

  /** Ends the session with BYE: the `receive` scenario then exits 0 (spec §18.1). */
  bye(): void {
    this.r.sendRecord("BYE", { reason: "case over" });
  }

  // -------------------------------------------------------------------------------------------
  // Reading the client

  /** Reads what the client sends for up to `ms`, or until `until` holds; true when it held. */
  async read(ms: number, until: () => boolean = () => false): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (!until()) {
      const left = deadline - Date.now();
      if (left <= 0 || this.closed) return until();
      const item = await this.r.next(left);
      if (item) this.take(item);
    }
    return true;
  }

  /** The reflection of the message `messageId`, waiting up to `ms` for it; null when none came. */
  async reflectionOf(messageId: string, ms: number): Promise<Reflection | null> {
    await this.read(ms, () => this.reflectionsOf(messageId).length > 0);
    return this.reflectionsOf(messageId)[0] ?? null;
  }

  reflectionsOf(messageId: string): Reflection[] {
    return this.reflections.filter((x) => x.reflects === messageId);
  }

  errorsAbout(relatedId: string, code?: string): ClientError[] {
    return this.errors.filter((e) => e.related === relatedId && (code === undefined || e.code === code));
  }

  private take(item: Inbound): void {
    if (item.kind === "close") {
      this.closed = { code: item.code, reason: item.reason };
      return;
    }
    if (item.kind !== "message" || !item.record || item.inner === undefined) return; // the responder records what is wrong with it
    const type = String(item.envelope.type);
    const inner = item.inner as Record<string, unknown>;
    if (type === "ERROR") this.takeError(inner, item.at);
    else if (type === "CHUNKED_MESSAGE") this.takeChunk(inner as unknown as Chunk, item.envelope.recipient_id, item.at);
    else if (["PEER_MESSAGE", "BROADCAST", "TASK_REQUEST", "TASK_RESPONSE"].includes(type)) {
      const size = canonical(inner).length;
      if (size > this.maxChunkBytes) this.problems.push(`a ${type} of ${size} bytes went as one record, over max_chunk_bytes ${this.maxChunkBytes} (PP-CHK-001, PP-CHK-018)`);
      this.takeWhole({ type, messageId: String(item.envelope.message_id), recipientId: item.envelope.recipient_id, payload: inner, chunks: null, at: item.at });
    }
  }

  /** PP-ERR-001, PP-ERR-002: a registry code with the registry's retryable. */
  private takeError(payload: Record<string, unknown>, at: number): void {
    const row = errorRow(String(payload.code));
    if (!row) this.problems.push(`ERROR code ${JSON.stringify(payload.code)} is not in the registry (PP-ERR-001)`);
    else if (payload.retryable !== row.retryable) this.problems.push(`ERROR ${String(payload.code)} has retryable ${JSON.stringify(payload.retryable)}, the registry says ${String(row.retryable)} (PP-ERR-002)`);
    this.errors.push({ code: payload.code, retryable: payload.retryable, related: payload.related_message_id, at });
  }

  /** Collects one chunk of the client's; reassembles its message once chunks 0 to the last are in. */
  private takeChunk(chunk: Chunk, recipientId: unknown, at: number): void {
    const id = chunk.chunk_id;
    const piece = unb64u(chunk.data) ?? new Uint8Array(0);
    if (piece.length > this.maxChunkBytes) this.problems.push(`chunk ${chunk.sequence_number} of ${id} carries ${piece.length} bytes, over max_chunk_bytes ${this.maxChunkBytes} (PP-CHK-001, PP-CHK-018)`);
    let message = this.incoming.get(id);
    if (!message) this.incoming.set(id, (message = { chunks: [], recipientId }));
    const first = message.chunks[0];
    if (first && (first.total_size !== chunk.total_size || first.digest !== chunk.digest || first.inner_type !== chunk.inner_type))
      this.problems.push(`chunk ${chunk.sequence_number} of ${id} differs from chunk ${first.sequence_number} in total_size, digest or inner_type (PP-CHK-002)`);
    if (message.recipientId !== recipientId) this.problems.push(`the chunks of ${id} name recipient_id ${String(message.recipientId)} and ${String(recipientId)}`);
    message.chunks.push(chunk);
    const last = message.chunks.find((c) => c.is_last);
    if (!last || message.chunks.length < last.sequence_number + 1) return;
    this.incoming.delete(id);
    const sorted = [...message.chunks].sort((a, b) => a.sequence_number - b.sequence_number);
    // PP-CHK-003: 0, 1, … with is_last on the highest alone.
    if (sorted.some((c, i) => c.sequence_number !== i)) this.problems.push(`the chunks of ${id} are numbered ${message.chunks.map((c) => c.sequence_number).join(", ")}, not from 0 one by one (PP-CHK-003)`);
    if (message.chunks.filter((c) => c.is_last).length !== 1 || sorted.at(-1) !== last) this.problems.push(`is_last is not on the highest sequence_number alone among the chunks of ${id} (PP-CHK-003)`);
    const bytes = Buffer.concat(sorted.map((c) => unb64u(c.data) ?? new Uint8Array(0)));
    if (bytes.length !== last.total_size) this.problems.push(`the chunks of ${id} carry ${bytes.length} bytes, total_size says ${last.total_size} (spec §10)`);
    if (b64u(hash(bytes)) !== last.digest) this.problems.push(`the chunks of ${id} do not match their digest (spec §10)`);
    if (bytes.length <= this.maxChunkBytes) this.problems.push(`a ${last.inner_type} of ${bytes.length} bytes was chunked, though it fits in max_chunk_bytes ${this.maxChunkBytes} (PP-CHK-014)`);
    let payload: unknown;
    try {
      payload = JSON.parse(bytes.toString("utf8"));
    } catch {
      this.problems.push(`the chunks of ${id} do not reassemble to JSON`);
      return;
    }
    if (!canonical(payload).every((b, i) => b === bytes[i])) this.problems.push(`the chunks of ${id} reassemble to JSON that is not JCS(payload) (spec §10)`);
    this.takeWhole({ type: last.inner_type, messageId: id, recipientId: message.recipientId, payload, chunks: message.chunks, at });
  }

  private takeWhole(message: ClientMessage): void {
    this.messages.push(message);
    const payload = message.payload as { content?: unknown; task_id?: unknown; action?: unknown; params?: unknown };
    const content = payload?.content as { reflects?: unknown; content?: unknown } | undefined;
    if (message.type === "PEER_MESSAGE" && content && typeof content === "object" && "reflects" in content) this.reflections.push({ reflects: content.reflects, content: content.content, recipientId: message.recipientId, at: message.at });
    // PP-DLV-009 for a request that came in chunks; the responder answers a whole one.
    if (message.chunks && message.type === "TASK_REQUEST" && message.recipientId === this.r.serverId && payload.action === "echo") this.answer({ task_id: payload.task_id, status: "ok", result: payload.params });
  }

  /** A TASK_RESPONSE from the server: in chunks when JCS(payload) exceeds max_chunk_bytes (PP-CHK-001), else whole (PP-CHK-014). */
  private answer(payload: Record<string, unknown>): void {
    if (canonical(payload).length <= this.maxChunkBytes) {
      this.r.sendRecord("TASK_RESPONSE", payload);
      return;
    }
    for (const chunk of chunksOf(freshId("r"), "TASK_RESPONSE", payload, this.maxChunkBytes)) this.r.sendRecord("CHUNKED_MESSAGE", chunk, { envelope: { message_id: freshId("k") } });
  }
}
