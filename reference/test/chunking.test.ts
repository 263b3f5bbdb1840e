import fc from "fast-check";
import { describe, expect, test } from "vitest";
import chunkingVector from "../../spec/vectors/chunking.json" with { type: "json" };
import { Reassembler, splitMessage, type ChunkPayload } from "../src/chunking.ts";
import { jcs } from "../src/encoding.ts";

const limits = { max_message_bytes: 1 << 20, chunk_timeout_ms: 1000 };

describe("chunking", () => {
  test("splits the spec vector's payload into exactly its chunks", () => {
    expect(splitMessage({ message_id: chunkingVector.message_id, type: chunkingVector.inner_type, payload: chunkingVector.payload }, chunkingVector.max_chunk_bytes)).toEqual(chunkingVector.chunks);
  });

  test("does not chunk a payload that fits in one chunk (PP-CHK-014)", () => {
    expect(splitMessage({ message_id: "m-00000001", type: "PEER_MESSAGE", payload: { content: "x" } }, 64)).toBeNull();
  });

  test("reassembles any payload from its chunks in any order, whole (PP-CHK-004, PP-CHK-012)", () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.integer({ min: 1, max: 64 }), fc.array(fc.nat(), { minLength: 64, maxLength: 64 }), (content, size, shuffleKeys) => {
        const payload = { content };
        const chunks = splitMessage({ message_id: "m-property", type: "PEER_MESSAGE", payload }, size);
        if (!chunks) {
          expect(jcs(payload).length).toBeLessThanOrEqual(size);
          return;
        }
        // A random arrival order: sort by generated keys (ties keep sequence order).
        const order = chunks.map((chunk, i) => ({ chunk, key: shuffleKeys[i % 64] as number })).sort((a, b) => a.key - b.key).map(({ chunk }) => chunk);
        const reassembler = new Reassembler(limits);
        const results = order.map((chunk) => reassembler.add(chunk, 0));
        expect(results.slice(0, -1).every((r) => r === null)).toBe(true);
        expect(results.at(-1)).toEqual({ message_id: "m-property", type: "PEER_MESSAGE", payload: JSON.parse(jcs(payload).toString()) });
        reassembler.delivered("m-property");
        expect(reassembler.inProgress).toBe(0);
      }),
    );
  });

  test("when the whole message cannot be delivered, the completing chunk is taken back and its re-send completes the message (PP-DLV-013)", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 10, maxLength: 300 }), fc.integer({ min: 4, max: 40 }), (text, size) => {
        const payload = { content: text };
        const chunks = splitMessage({ message_id: "m-refused", type: "PEER_MESSAGE", payload }, size);
        if (!chunks) return;
        const reassembler = new Reassembler(limits);
        for (const chunk of chunks.slice(0, -1)) expect(reassembler.add(chunk, 0)).toBeNull();
        const last = chunks.at(-1)!;
        expect(reassembler.add(last, 0)).not.toBeNull();
        reassembler.withdraw(last); // the queue was full: BUFFER_OVERFLOW for this record only
        expect(reassembler.inProgress).toBe(1);
        expect(reassembler.add(last, 0)).toEqual({ message_id: "m-refused", type: "PEER_MESSAGE", payload: JSON.parse(jcs(payload).toString()) });
      }),
    );
  });

  test("ignores an identical duplicate chunk and rejects a different one (PP-CHK-007, PP-CHK-008)", () => {
    const chunks = chunkingVector.chunks as ChunkPayload[];
    const reassembler = new Reassembler(limits);
    expect(reassembler.add(chunks[0]!, 0)).toBeNull();
    expect(reassembler.add(chunks[0]!, 0)).toBeNull();
    expect(() => reassembler.add({ ...chunks[0]!, data: chunks[1]!.data }, 0)).toThrowError(expect.objectContaining({ code: "CHUNK_ERROR" }));
    expect(reassembler.inProgress).toBe(0);
  });

  test("rejects an oversize total before buffering (PP-CHK-006)", () => {
    const reassembler = new Reassembler({ ...limits, max_message_bytes: 10 });
    expect(() => reassembler.add(chunkingVector.chunks[0] as ChunkPayload, 0)).toThrowError(expect.objectContaining({ code: "CHUNK_ERROR" }));
    expect(reassembler.inProgress).toBe(0);
  });

  test("rejects a wrong digest and delivers nothing (PP-CHK-005)", () => {
    const reassembler = new Reassembler(limits);
    const chunks = (chunkingVector.chunks as ChunkPayload[]).map((c) => ({ ...c, digest: "A".repeat(43) }));
    expect(() => chunks.forEach((c) => reassembler.add(c, 0))).toThrowError(expect.objectContaining({ code: "CHUNK_ERROR" }));
  });

  test("rejects chunks that disagree on total_size (PP-CHK-009)", () => {
    const reassembler = new Reassembler(limits);
    const chunks = chunkingVector.chunks as ChunkPayload[];
    reassembler.add(chunks[0]!, 0);
    expect(() => reassembler.add({ ...chunks[1]!, total_size: chunks[1]!.total_size + 1 }, 0)).toThrowError(expect.objectContaining({ code: "CHUNK_ERROR" }));
  });

  test("expires an incomplete message after chunk_timeout_ms (PP-CHK-010)", () => {
    const reassembler = new Reassembler(limits);
    reassembler.add(chunkingVector.chunks[0] as ChunkPayload, 0);
    expect(reassembler.expire(999)).toEqual([]);
    expect(reassembler.expire(1000)).toEqual([chunkingVector.message_id]);
    expect(reassembler.inProgress).toBe(0);
  });
});
