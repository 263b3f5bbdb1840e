/**
 * Chunked transfer as the probe reads it from spec §10: B = JCS(payload) split into consecutive
 * pieces of at most `size` bytes, each carried by one CHUNKED_MESSAGE inner payload.
 */
import { hash } from "./crypto.ts";
import { b64u, canonical } from "./wire.ts";

/** A CHUNKED_MESSAGE inner payload (spec §10). */
export interface Chunk {
  chunk_id: string;
  sequence_number: number;
  is_last: boolean;
  total_size: number;
  digest: string;
  inner_type: string;
  data: string;
}

/** Spec §10: B = JCS(payload) split into pieces of at most `size` bytes. */
export function chunksOf(chunkId: string, innerType: string, payload: unknown, size: number): Chunk[] {
  const bytes = canonical(payload);
  const digest = b64u(hash(bytes));
  const chunks: Chunk[] = [];
  for (let offset = 0, i = 0; offset < bytes.length; offset += size, i++) {
    chunks.push({ chunk_id: chunkId, sequence_number: i, is_last: offset + size >= bytes.length, total_size: bytes.length, digest, inner_type: innerType, data: b64u(bytes.subarray(offset, offset + size)) });
  }
  return chunks;
}
