/**
 * What a generated scenario sends and receives, as the history check compares them: whole data
 * messages (spec §9), each carried by one record or by its chunks (spec §10).
 */
export type EntityName = "A" | "B" | "C";
export const ENTITY_NAMES: readonly EntityName[] = ["A", "B", "C"];

/** One record of a message as the sender keeps it in its retransmit buffer (PP-DLV-001). */
export interface OutRecord {
  message: OutMessage;
  type: string;
  inner: unknown;
  /** The record's own message_id: the message's, or `<chunk_id>-c<n>` for a chunk. */
  messageId: string;
  /** Position in the sender's send order, to re-send in that order (PP-DLV-005). */
  order: number;
  acked: boolean;
}

/** A whole data message a probe sent, and what became of it. */
export interface OutMessage {
  /** `m1`, `m2`, …: the message's name in the printed scenario. */
  name: string;
  id: string;
  from: EntityName;
  /** A probe, or the target itself (the echo task, PP-DLV-009). */
  to: EntityName | "server";
  /** The recipient's entity id; none for the target (its server_id). */
  recipientId?: string;
  type: "PEER_MESSAGE" | "TASK_REQUEST";
  inner: Record<string, unknown>;
  /** Length of JCS(inner). */
  size: number;
  records: OutRecord[];
  /** Chunk numbers in the order they were first sent, when not 0, 1, 2, … */
  chunkOrder?: number[];
  /** The last ERROR code that refused the message, while it waits to be sent again. */
  refusedWith?: string;
  /** The seq of the refused record, in the key epoch it was sent in. */
  refusedSeq?: number;
  /** Why the history check does not require delivery (the spec allows the loss). */
  excused?: string;
  /** Set when the recipient ended its session with BYE while the message was on its way. */
  recipientEnded?: boolean;
  /** Set when the message was re-sent in a new session, where the target's de-duplication need not reach. */
  resentInNewSession?: boolean;
}

export const isAcknowledged = (message: OutMessage): boolean => message.records.every((r) => r.acked);
export const isChunked = (message: OutMessage): boolean => message.records[0]?.type === "CHUNKED_MESSAGE";

/** A whole data message as a probe received it, after reassembly. */
export interface Delivery {
  /** Who received it. */
  to: EntityName;
  senderId: string;
  messageId: string;
  type: string;
  inner: unknown;
  chunks: number;
  at: number;
  /** The key epoch (connection) and seq of the record that completed it, to tell a re-send from a duplicate. */
  epoch: number;
  seq: number;
}

/** A chunked message received broken (PP-CHK-004, PP-CHK-013). */
export interface BrokenDelivery {
  to: EntityName;
  chunkId: string;
  why: string;
}

/** `612,345 bytes` style sizes for the printed scenario. */
export function bytesText(n: number): string {
  return n >= 10_000 ? `${Math.round(n / 1000).toLocaleString("en-US")} KB` : `${n.toLocaleString("en-US")} bytes`;
}
