/**
 * Chunked transfer (spec §10): a data message whose JCS(payload) exceeds max_chunk_bytes travels as
 * CHUNKED_MESSAGE records; the receiver reassembles whole or not at all (PP-CHK-004).
 */
import { sha256 } from "./crypto.ts";
import { fromBase64Url, jcs, toBase64Url } from "./encoding.ts";
import { ProtocolError } from "./errors.ts";

export interface ChunkPayload {
  chunk_id: string;
  sequence_number: number;
  is_last: boolean;
  total_size: number;
  digest: string;
  inner_type: string;
  data: string;
}

export interface WholeMessage {
  message_id: string;
  type: string;
  payload: unknown;
}

/**
 * Null when the payload fits in one record (PP-CHK-014); otherwise its chunks (PP-CHK-001..003).
 * `jsonBytes` is the UTF-8 length of the payload's JSON.stringify text, when the caller has made it
 * anyway (as the plaintext of the record that carries the payload whole): JCS has the same
 * characters in another member order (RFC 8785 §3.2), so the same length, and JCS is computed
 * only for a payload that is split.
 */
export function splitMessage(message: WholeMessage, maxChunkBytes: number, jsonBytes = Buffer.byteLength(JSON.stringify(message.payload))): ChunkPayload[] | null {
  if (jsonBytes <= maxChunkBytes) return null;
  const bytes = jcs(message.payload);
  const digest = toBase64Url(sha256(bytes));
  const chunks: ChunkPayload[] = [];
  for (let offset = 0, sequence = 0; offset < bytes.length; offset += maxChunkBytes, sequence++) {
    chunks.push({
      chunk_id: message.message_id,
      sequence_number: sequence,
      is_last: offset + maxChunkBytes >= bytes.length,
      total_size: bytes.length,
      digest,
      inner_type: message.type,
      data: toBase64Url(bytes.subarray(offset, offset + maxChunkBytes)),
    });
  }
  return chunks;
}

interface Partial {
  total: number;
  digest: string;
  innerType: string;
  /** The recipient_id of the records that carry the chunks (PP-CHK-022). */
  recipientId: string | undefined;
  pieces: Map<number, Buffer>;
  received: number;
  lastSequence: number | null;
  startedAt: number;
}

export class Reassembler {
  /** Incomplete messages by chunk_id; made on the first chunk, since most sessions never chunk. */
  private partials: Map<string, Partial> | undefined;

  constructor(private readonly limits: { max_message_bytes: number; chunk_timeout_ms: number }) {}

  get inProgress(): number {
    return this.partials?.size ?? 0;
  }

  /** True while a message with this chunk_id is incomplete. */
  has(chunkId: string): boolean {
    return this.partials?.has(chunkId) === true;
  }

  /** The total_size of every incomplete message: what their chunks may still add up to (PP-CHK-015). */
  get reservedBytes(): number {
    let reserved = 0;
    for (const partial of this.partials?.values() ?? []) reserved += partial.total;
    return reserved;
  }

  /** The decoded bytes held for incomplete messages (PP-LIM-012). */
  get heldBytes(): number {
    let held = 0;
    for (const partial of this.partials?.values() ?? []) held += partial.received;
    return held;
  }

  /**
   * Adds one chunk; returns the whole message once complete and verified, else null. `recipientId`
   * is the `recipient_id` of the record that carried the chunk: every chunk of a message names the
   * same one (PP-CHK-022).
   */
  add(chunk: ChunkPayload, now: number, recipientId?: string): WholeMessage | null {
    const partials = (this.partials ??= new Map());
    const fail = (reason: string): never => {
      partials.delete(chunk.chunk_id);
      throw new ProtocolError("CHUNK_ERROR", `chunk ${chunk.sequence_number} of ${chunk.chunk_id}: ${reason}`, chunk.chunk_id);
    };
    if (chunk.total_size > this.limits.max_message_bytes) fail(`total_size ${chunk.total_size} exceeds max_message_bytes ${this.limits.max_message_bytes}`); // PP-CHK-006
    const data = fromBase64Url(chunk.data);
    if (!data) return fail("data is not base64url");
    let partial = partials.get(chunk.chunk_id);
    if (!partial) {
      partial = { total: chunk.total_size, digest: chunk.digest, innerType: chunk.inner_type, recipientId, pieces: new Map(), received: 0, lastSequence: null, startedAt: now };
      partials.set(chunk.chunk_id, partial);
    }
    // PP-CHK-009: chunks of one message agree on size, digest and type.
    if (partial.total !== chunk.total_size || partial.digest !== chunk.digest || partial.innerType !== chunk.inner_type) fail("total_size, digest or inner_type differs from earlier chunks");
    if (partial.recipientId !== recipientId) fail(`recipient_id ${String(recipientId)} differs from earlier chunks' ${String(partial.recipientId)}`); // PP-CHK-022
    const existing = partial.pieces.get(chunk.sequence_number);
    if (existing) {
      if (!existing.equals(data)) fail("a chunk with this sequence_number arrived before with different content"); // PP-CHK-007
      return null; // PP-CHK-008: an identical duplicate is ignored
    }
    if (partial.lastSequence !== null && chunk.sequence_number > partial.lastSequence) fail("arrives after the last chunk with a higher sequence_number"); // PP-CHK-009
    if (chunk.is_last) { // PP-CHK-004: the last chunk says how many chunks, 0 to it, make the message
      if ([...partial.pieces.keys()].some((seq) => seq > chunk.sequence_number)) fail("is_last, but a chunk with a higher sequence_number was received"); // PP-CHK-004: chunks 0 to this one can never be the whole message
      partial.lastSequence = chunk.sequence_number;
    }
    partial.received += data.length;
    if (partial.received > partial.total) fail(`received ${partial.received} bytes, more than total_size ${partial.total}`); // PP-CHK-011
    partial.pieces.set(chunk.sequence_number, data);
    if (partial.lastSequence === null || partial.pieces.size !== partial.lastSequence + 1) return null; // PP-CHK-004: complete once every chunk from 0 to the last is there, in any order (PP-CHK-012)
    const bytes = Buffer.concat([...partial.pieces.entries()].sort(([a], [b]) => a - b).map(([, piece]) => piece));
    // PP-CHK-004, PP-CHK-005: deliver only when size and digest match.
    if (bytes.length !== partial.total) fail(`reassembled ${bytes.length} bytes, total_size says ${partial.total}`);
    if (toBase64Url(sha256(bytes)) !== partial.digest) fail("digest does not match the reassembled bytes");
    let payload: unknown;
    try {
      payload = JSON.parse(bytes.toString("utf8"));
    } catch {
      return fail("reassembled bytes are not JSON");
    }
    // The pieces stay until the caller has delivered the message (`delivered`) or could not (`withdraw`).
    return { message_id: chunk.chunk_id, type: partial.innerType, payload };
  }

  /** The whole message returned by `add` was delivered: its pieces are no longer needed. */
  delivered(chunkId: string): void {
    this.partials?.delete(chunkId);
  }

  /**
   * The whole message could not be delivered (a full queue, PP-DLV-013): the chunk that completed it
   * is taken back, since it was not acknowledged and will come again; the chunks before it were
   * acknowledged and are kept.
   */
  withdraw(chunk: ChunkPayload): void {
    const partial = this.partials?.get(chunk.chunk_id);
    const piece = partial?.pieces.get(chunk.sequence_number);
    if (!partial || !piece) return;
    partial.pieces.delete(chunk.sequence_number);
    partial.received -= piece.length;
    if (partial.lastSequence === chunk.sequence_number) partial.lastSequence = null;
  }

  /** When the oldest incomplete message reaches chunk_timeout_ms (PP-CHK-010), or null when none is incomplete. */
  get nextExpiry(): number | null {
    let earliest: number | null = null;
    for (const partial of this.partials?.values() ?? []) if (earliest === null || partial.startedAt < earliest) earliest = partial.startedAt;
    return earliest === null ? null : earliest + this.limits.chunk_timeout_ms;
  }

  /** Drops incomplete messages older than chunk_timeout_ms (PP-CHK-010); returns their chunk ids. */
  expire(now: number): string[] {
    const expired: string[] = [];
    const partials = this.partials;
    if (!partials) return expired;
    for (const [id, partial] of partials) {
      if (now - partial.startedAt >= this.limits.chunk_timeout_ms) {
        partials.delete(id);
        expired.push(id);
      }
    }
    return expired;
  }
}
