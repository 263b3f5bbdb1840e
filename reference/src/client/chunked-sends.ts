/**
 * The chunked messages the client sent and the server has not yet acknowledged whole, and why they
 * go out again whole after a resume or a new handshake.
 *
 * A chunked message is one data message (spec §10), delivered whole or not at all (PP-CHK-004):
 * its receiver may not hold the chunks it acknowledged once the connection is gone. A new session
 * (after a resume answered EXPIRED, ERROR or NOT_FOUND) starts without reassembly state, and a
 * server that refused the completing chunk with BUFFER_OVERFLOW (PP-DLV-013) may have dropped the
 * rest. So after a resume or a new handshake, every chunk of a message whose last chunk is not
 * acknowledged goes out again, in place, before the chunks still unacknowledged; the receiver
 * ignores the identical duplicates it still holds (PP-CHK-008) and delivers the message once
 * (PP-DLV-003).
 */
import type { ChunkPayload } from "../chunking.ts";
import type { OutboundEntry, Session } from "../session/session.ts";

export class ChunkedSends {
  /** Every chunk of each chunked message sent whose last chunk is not yet acknowledged, by chunk_id. */
  private readonly byChunkId = new Map<string, OutboundEntry[]>();

  /** Remembers the chunks of a message just split (its message_id is their chunk_id). */
  add(chunkId: string, chunks: OutboundEntry[]): void {
    this.byChunkId.set(chunkId, chunks);
  }

  /** Puts every chunk of each message not yet acknowledged whole back into the session's queue, in place. */
  resendWhole(session: Session, waiting: readonly OutboundEntry[]): void {
    this.forgetDelivered(session, waiting);
    if (this.byChunkId.size === 0) return;
    const queue = session.queued;
    const resent = new Set<string>();
    const entries: OutboundEntry[] = [];
    for (const entry of queue) {
      const chunkId = entry.type === "CHUNKED_MESSAGE" ? (entry.inner as ChunkPayload).chunk_id : undefined;
      const chunks = chunkId === undefined ? undefined : this.byChunkId.get(chunkId);
      if (chunkId === undefined || !chunks) entries.push(entry);
      else if (!resent.has(chunkId)) {
        resent.add(chunkId); // the chunks of one message are queued together, in order
        entries.push(...chunks);
      }
    }
    queue.splice(0, queue.length, ...entries);
  }

  /**
   * A chunked message whose last chunk an ACK covered was delivered (PP-DLV-012): its chunks are
   * released. `waiting` holds what is not yet in a session.
   */
  forgetDelivered(session: Session, waiting: readonly OutboundEntry[]): void {
    if (this.byChunkId.size === 0) return;
    const pending = new Set([...session.unacked.values(), ...session.queued, ...waiting].map((entry) => entry.message_id));
    for (const [chunkId, chunks] of this.byChunkId) if (!pending.has((chunks.at(-1) as OutboundEntry).message_id)) this.byChunkId.delete(chunkId);
  }
}
