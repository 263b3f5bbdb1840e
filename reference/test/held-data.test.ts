/**
 * What the server holds for its sessions is bounded by bytes, not only by records: a recipient's
 * queue by max_send_queue_bytes (PP-DLV-014), a session's incomplete chunked messages by
 * max_message_bytes (PP-CHK-015), and everything at once by max_buffered_bytes (PP-LIM-012), freed
 * again when messages are acknowledged or sessions end (PP-LIM-013).
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { splitMessage, type ChunkPayload } from "../src/chunking.ts";
import type { PeerServer } from "../src/server/server.ts";
import { RawPeer } from "./support/raw-peer.ts";
import { serversPerTest } from "./support/servers.ts";

const { server, peers } = serversPerTest();

async function session(s: PeerServer, entityId: string): Promise<RawPeer> {
  const peer = await RawPeer.open(s.wsUrl);
  peers.push(peer);
  await peer.handshake(entityId);
  return peer;
}

/** A PEER_MESSAGE payload whose plaintext, JSON.stringify of it, is exactly `size` bytes (the size of PP-DLV-014). */
function payloadOfSize(size: number): { content: string } {
  const overhead = JSON.stringify({ content: "" }).length;
  return { content: "x".repeat(size - overhead) };
}

/** The chunks of a message of exactly `totalBytes` (its total_size) carrying `chunkBytes` of data each. */
function chunksOf(id: string, chunkBytes: number, totalBytes = chunkBytes * 3): ChunkPayload[] {
  return splitMessage({ message_id: id, type: "PEER_MESSAGE", payload: payloadOfSize(totalBytes) }, chunkBytes) as ChunkPayload[];
}

/** The first chunk of such a message: never the last. */
function firstChunk(id: string, chunkBytes: number, totalBytes = chunkBytes * 3): ChunkPayload {
  return chunksOf(id, chunkBytes, totalBytes)[0] as ChunkPayload;
}

/** Waits for the first ERROR (skipping ACKs) or for the quiet that says none came. */
async function errorOrQuiet(peer: RawPeer, quietMs = 400): Promise<{ code: string; related_message_id?: string } | null> {
  for (;;) {
    try {
      const frame = await peer.next(quietMs);
      if (frame.type === "ERROR") return frame.payload as { code: string; related_message_id?: string };
    } catch {
      return null;
    }
  }
}

describe("a recipient's queue is bounded by max_send_queue_bytes (PP-DLV-014)", () => {
  test("messages to a disconnected recipient are queued while their sizes fit, and the first that does not is refused with BUFFER_OVERFLOW", async () => {
    const queue = 4096;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 20, max: 3000 }), { minLength: 1, maxLength: 8 }), async (sizes) => {
        const s = await server({ limits: { max_send_queue_bytes: queue, rate_limit_per_minute: 0 } });
        const bob = await session(s, "bob");
        bob.close();
        await bob.closed();
        const alice = await session(s, "alice");
        // The model: a message fits when the queue is empty or its size takes the queue to at most the bound.
        let held = 0;
        let refusedAt = -1;
        for (const [i, size] of sizes.entries()) {
          if (held > 0 && held + size > queue) {
            refusedAt = i;
            break;
          }
          held += size;
        }
        const sent = sizes.slice(0, refusedAt === -1 ? sizes.length : refusedAt + 1).map((size) => alice.sendRecord("PEER_MESSAGE", payloadOfSize(size), { recipient_id: "bob" }));
        const error = await errorOrQuiet(alice);
        if (refusedAt === -1) expect(error).toBeNull();
        else {
          expect(error).toMatchObject({ code: "BUFFER_OVERFLOW", related_message_id: sent[refusedAt]?.message_id });
          expect(await alice.closed()).toBe(1013);
        }
        await s.close();
      }),
      { numRuns: 12 },
    );
  });

  test("a message larger than max_send_queue_bytes still fits into an empty queue", async () => {
    const s = await server({ limits: { max_send_queue_bytes: 1000 } });
    const bob = await session(s, "bob");
    const alice = await session(s, "alice");
    alice.sendRecord("PEER_MESSAGE", payloadOfSize(5000), { recipient_id: "bob" });
    expect((await bob.nextOfType("PEER_MESSAGE")).payload).toEqual(payloadOfSize(5000));
    expect(await errorOrQuiet(alice)).toBeNull();
  });
});

describe("a session's incomplete chunked messages reserve at most max_message_bytes (PP-CHK-015)", () => {
  test("messages whose total_size adds up to exactly max_message_bytes are taken; the next new one is refused with BUFFER_OVERFLOW until one completes", async () => {
    const total = 1024;
    const s = await server({ limits: { max_message_bytes: 4 * total, max_chunk_bytes: total / 2, rate_limit_per_minute: 0 } });
    const mallory = await session(s, "mallory");
    const sets = [0, 1, 2, 3].map((i) => chunksOf(`open-chunk-${i}`, total / 2, total));
    for (const chunks of sets) mallory.sendRecord("CHUNKED_MESSAGE", chunks[0], { recipient_id: s.serverId });
    expect(await errorOrQuiet(mallory)).toBeNull();
    // At the bound, the later chunk of a message taken completes it: never refused for this bound.
    mallory.sendRecord("CHUNKED_MESSAGE", sets[0]?.[1], { recipient_id: s.serverId });
    expect(await errorOrQuiet(mallory)).toBeNull();
    // Its total_size is free again: one more message fits, and the one after it does not.
    mallory.sendRecord("CHUNKED_MESSAGE", firstChunk("open-chunk-4", total / 2, total), { recipient_id: s.serverId });
    expect(await errorOrQuiet(mallory)).toBeNull();
    const over = mallory.sendRecord("CHUNKED_MESSAGE", firstChunk("open-chunk-5", total / 2, total), { recipient_id: s.serverId });
    expect(await errorOrQuiet(mallory)).toMatchObject({ code: "BUFFER_OVERFLOW", related_message_id: over.message_id });
    expect(await mallory.closed()).toBe(1013);
  });
});

describe("the server holds at most max_buffered_bytes for all sessions (PP-LIM-012, PP-LIM-013)", () => {
  const chunkBytes = 1024;
  const limits = { max_buffered_bytes: 3 * chunkBytes, max_chunk_bytes: chunkBytes, rate_limit_per_minute: 0 };

  test("incomplete chunks of several sessions fill the budget exactly; past it a session holding more than max_chunk_bytes is refused, one holding less is not, and what ended sessions held is free", async () => {
    const s = await server({ limits });
    const holders = [await session(s, "h0"), await session(s, "h1"), await session(s, "h2")];
    for (const [i, holder] of holders.entries()) holder.sendRecord("CHUNKED_MESSAGE", firstChunk(`held-chunk-${i}`, chunkBytes), { recipient_id: s.serverId });
    for (const holder of holders) expect(await errorOrQuiet(holder)).toBeNull();
    // GET /metrics reports what the sessions hold: the three chunks' decoded bytes.
    const held = holders.length * Buffer.from(firstChunk("any", chunkBytes).data, "base64url").length;
    expect(await (await fetch(`${s.url}/metrics`)).text()).toMatch(new RegExp(`^pp_held_bytes ${held}$`, "m"));
    // The budget is full. A session's own first max_chunk_bytes still fit (each session has that
    // much room, PP-LIM-012); a byte more than that does not.
    const late = await session(s, "late");
    late.sendRecord("CHUNKED_MESSAGE", firstChunk("late-chunk-0", chunkBytes), { recipient_id: s.serverId });
    expect(await errorOrQuiet(late)).toBeNull();
    const refused = late.sendRecord("CHUNKED_MESSAGE", firstChunk("late-chunk-1", chunkBytes / 2), { recipient_id: s.serverId });
    expect(await errorOrQuiet(late)).toMatchObject({ code: "BUFFER_OVERFLOW", related_message_id: refused.message_id });
    // The holders end: what they held is free, more than the room every session has anyway.
    for (const ending of holders) {
      ending?.sendRecord("BYE", { reason: "done" });
      await ending?.closed();
    }
    const again = await session(s, "again");
    again.sendRecord("CHUNKED_MESSAGE", firstChunk("again-chunk-0", chunkBytes / 2), { recipient_id: s.serverId });
    again.sendRecord("CHUNKED_MESSAGE", firstChunk("again-chunk-1", chunkBytes / 2), { recipient_id: s.serverId });
    again.sendRecord("CHUNKED_MESSAGE", firstChunk("again-chunk-2", chunkBytes / 2), { recipient_id: s.serverId });
    expect(await errorOrQuiet(again)).toBeNull();
  });

  test("queued messages count too, and are free again once the recipient acknowledges them", async () => {
    const s = await server({ limits: { ...limits, max_send_queue_bytes: 1 << 20 } });
    const bob = await session(s, "bob");
    const alice = await session(s, "alice");
    // Bob reads but does not acknowledge: three messages of chunkBytes fill the budget.
    for (let i = 0; i < 3; i++) alice.sendRecord("PEER_MESSAGE", payloadOfSize(chunkBytes), { recipient_id: "bob" });
    for (let i = 0; i < 3; i++) await bob.nextOfType("PEER_MESSAGE");
    expect(await errorOrQuiet(alice)).toBeNull();
    const carol = await session(s, "carol");
    const refused = carol.sendRecord("PEER_MESSAGE", payloadOfSize(20), { recipient_id: "bob" });
    expect(await errorOrQuiet(carol)).toMatchObject({ code: "BUFFER_OVERFLOW", related_message_id: refused.message_id });
    bob.sendRecord("ACK", { ack: bob.session?.lastRecvSeq });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const dave = await session(s, "dave");
    dave.sendRecord("PEER_MESSAGE", payloadOfSize(chunkBytes), { recipient_id: "bob" });
    expect((await bob.nextOfType("PEER_MESSAGE")).payload).toEqual(payloadOfSize(chunkBytes));
    expect(await errorOrQuiet(dave)).toBeNull();
  });
});
