/**
 * Where a whole data message goes (spec §9, §15): to the events hub (BROADCAST), to the server
 * itself (the echo task), or into the queue of the recipient entity's session, split into chunks
 * for the wire where it is too large for one record.
 *
 * In a cluster (./cluster/cluster-node.ts) a recipient may be on another node: the message goes
 * into its Redis stream, and the returned promise settles once it is there (or refused). A message
 * for a session on this node is queued at once; its stream append is the returned promise.
 */
import { splitMessage } from "../chunking.ts";
import { newMessageId } from "../envelope.ts";
import { ProtocolError } from "../errors.ts";
import type { Limits } from "../limits.ts";
import type { OutboundEntry } from "../session/session.ts";
import type { StoredMessage } from "./cluster/registry.ts";
import type { PeerService } from "./peer-service.ts";
import type { ServerSession } from "./server-session.ts";

export class Router {
  constructor(private readonly service: PeerService) {}

  private get limits(): Limits {
    return this.service.limits;
  }

  /**
   * Routes a whole data message from a session's peer (PP-DLV-006..009, PP-EVT-003). Returns a
   * promise only in a cluster, for what is still being stored; it rejects with the ProtocolError
   * that refuses the message.
   */
  route(from: ServerSession, message: OutboundEntry): Promise<void> | undefined {
    if (message.type === "BROADCAST") {
      if (from.session.version !== "1.2" || !from.session.capabilities.includes("events")) throw new ProtocolError("PERMISSION_DENIED", "BROADCAST needs the events capability", message.message_id); // PP-CAP-008
      const { channel, content } = message.inner as { channel: string; content: unknown };
      const eventId = newMessageId();
      this.service.hub.publish(channel, content, message.sender_id, eventId);
      this.service.cluster?.broadcast({ eventId, channel, content, publisherId: message.sender_id }); // every node's subscribers, one event_id
      return undefined;
    }
    const recipient = message.recipient_id;
    if (recipient === undefined) throw new ProtocolError("INVALID_MESSAGE", `${message.type} needs a recipient_id`, message.message_id);
    if (recipient === this.service.config.serverId) return this.serveLocally(from, message);
    let target = this.service.store.sessionOf(recipient);
    if (target && this.service.pastLifetime(target)) {
      this.service.expire(target); // PP-SES-012: its lifetime timer has not run yet; nothing is routed to it
      target = undefined;
    }
    if (!target && this.service.cluster) return this.forward(message, recipient);
    // PP-DLV-007, PP-DLV-017: never seen, or its session ended, expired or was forgotten: nothing to deliver to.
    if (!target) throw new ProtocolError("UNKNOWN_RECIPIENT", `${recipient} has no session on this server`, message.message_id);
    this.deliver(target, message);
    return this.persist(message, target.peerId);
  }

  /** A message another node stored for an entity whose session is here. */
  deliverStored(target: ServerSession, message: StoredMessage): void {
    const { streamId: _streamId, ...entry } = message;
    this.deliver(target, entry);
  }

  private bounds() {
    return { dedupeMemory: Math.max(1024, this.limits.retransmit_buffer * 4), maxQueued: this.limits.retransmit_buffer, resumeWindowMs: this.limits.resume_window_ms };
  }

  /**
   * In a cluster, the stream copy of a message queued here, so that it outlives this node: the
   * sender's ACK waits for it. The recipient has it already, so a duplicate or full answer changes nothing.
   */
  private persist(message: OutboundEntry, recipient: string): Promise<void> | undefined {
    const cluster = this.service.cluster;
    if (!cluster) return undefined;
    return cluster.store(message, recipient, this.bounds(), true).then(() => undefined);
  }

  /** In a cluster, a recipient with no session on this node: into its stream, and to its node. */
  private forward(message: OutboundEntry, recipient: string): Promise<void> {
    return (this.service.cluster as NonNullable<typeof this.service.cluster>).forward(message, recipient, this.bounds());
  }

  /**
   * Queues or sends a data message to a session, chunking it for the wire (PP-CHK-001, PP-CHK-013).
   * A full queue is BUFFER_OVERFLOW naming `causeId`, the message that caused this one (PP-ERR-006).
   */
  private deliver(target: ServerSession, message: OutboundEntry, causeId = message.message_id): void {
    // The plaintext of the record that carries the message whole (spec §7.3): made once, it sizes
    // the message for chunking and for the queue, and is what gets sealed.
    const plaintext = Buffer.from(JSON.stringify(message.inner), "utf8");
    const chunks = splitMessage({ message_id: message.message_id, type: message.type, payload: message.inner }, this.limits.max_chunk_bytes, plaintext.length); // PP-CHK-001, PP-CHK-014
    const entries: OutboundEntry[] = chunks
      ? chunks.map((chunk) => queueEntry(`${message.message_id.slice(0, 100)}-c${chunk.sequence_number}`, "CHUNKED_MESSAGE", chunk, message, Buffer.byteLength(JSON.stringify(chunk)), undefined))
      : [queueEntry(message.message_id, message.type, message.inner, message, message.size ?? plaintext.length, plaintext)];
    let bytes = 0;
    for (const entry of entries) bytes += entry.size ?? 0;
    // PP-DLV-011, PP-DLV-013: a client advertises no limits, so the server's own retransmit_buffer bounds what it holds for it.
    if (target.session.pendingCount + entries.length > this.limits.retransmit_buffer) {
      throw new ProtocolError("BUFFER_OVERFLOW", `the queue for ${target.peerId} is full (${this.limits.retransmit_buffer} records)`, causeId); // PP-DLV-013
    }
    // PP-DLV-014: full by size too, though a message always fits into an empty queue.
    const queued = target.queueBytes;
    if (target.session.pendingCount > 0 && queued + bytes > this.limits.max_send_queue_bytes) {
      throw new ProtocolError("BUFFER_OVERFLOW", `the queue for ${target.peerId} holds ${queued} bytes; ${bytes} more would pass max_send_queue_bytes ${this.limits.max_send_queue_bytes}`, causeId); // PP-DLV-013
    }
    if (!this.service.roomFor(target, bytes)) {
      throw new ProtocolError("BUFFER_OVERFLOW", `the server holds ${this.service.heldBytes} bytes for its sessions; ${bytes} more would pass max_buffered_bytes ${this.limits.max_buffered_bytes}`, causeId); // PP-LIM-012
    }
    for (const entry of entries) target.session.queued.push(entry);
    this.service.account(target);
    this.service.flush(target);
    // What waits in the queue keeps its inner payload only: it is sealed from that when its turn comes.
    for (const entry of entries) if (entry.plaintext !== undefined) entry.plaintext = undefined;
  }

  /** Messages addressed to the server itself: the echo task (PP-DLV-009), any other action refused (PP-DLV-020). */
  private serveLocally(from: ServerSession, message: OutboundEntry): Promise<void> | undefined {
    if (message.type !== "TASK_REQUEST") return undefined; // PP-DLV-021: a PEER_MESSAGE or TASK_RESPONSE to the server is acknowledged and dropped
    const request = message.inner as { task_id: string; action: string; params?: unknown };
    const response =
      request.action === "echo"
        ? { task_id: request.task_id, status: "ok", result: request.params ?? null }
        : { task_id: request.task_id, status: "error", error: `unknown action ${request.action}; this server serves "echo"` };
    const answer: OutboundEntry = { message_id: newMessageId(), type: "TASK_RESPONSE", inner: response, sender_id: this.service.config.serverId, recipient_id: from.peerId };
    this.deliver(from, answer, message.message_id);
    return this.persist(answer, from.peerId);
  }
}

/**
 * A queue entry of one shape for every message (the members in one order, recipient_id present
 * even when undefined): the record path creates one per message, and objects of one shape keep
 * V8's property accesses on them monomorphic.
 */
function queueEntry(messageId: string, type: string, inner: unknown, of: OutboundEntry, size: number, plaintext: Buffer | undefined): OutboundEntry {
  return { message_id: messageId, type, inner, sender_id: of.sender_id, recipient_id: of.recipient_id, seq: undefined, size, plaintext };
}
