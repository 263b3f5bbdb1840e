/**
 * What the client does with the data messages it receives (spec §9, §10): it reassembles chunked
 * messages, delivers each message to the application once, by (sender, message_id) and across
 * sessions and resumes, and hands a TASK_RESPONSE to the `request` waiting for it.
 *
 * A chunked message is reassembled under the limits the server advertised (`useLimits`): a client
 * advertises none, so the session's `max_message_bytes` and `chunk_timeout_ms` are the server's,
 * as its `max_chunk_bytes` is (PP-CHK-018). A chunk the reassembler refuses throws the
 * ProtocolError its caller answers; an incomplete message discarded by its timer is reported
 * through `onError` (PP-CHK-010), since no record is being handled then.
 */
import { validateInnerPayload } from "../../../schemas/src/index.ts";
import { Reassembler, type ChunkPayload } from "../chunking.ts";
import { LocalError, ProtocolError } from "../errors.ts";
import { DEFAULT_LIMITS } from "../limits.ts";
import type { RecordEnvelope } from "../record.ts";
import type { Version } from "../envelope.ts";
import { AsyncQueue } from "./async-queue.ts";

export interface ReceivedMessage {
  message_id: string;
  type: string;
  sender_id: string;
  payload: unknown;
}

interface PendingTask {
  resolve(result: unknown): void;
  reject(error: Error): void;
}

export class Receiver {
  /** Every data message delivered, once each and in order. */
  readonly inbox = new AsyncQueue<ReceivedMessage>();
  private readonly delivered = new Map<string, true>();
  /** The reassembler reads these on every chunk: `useLimits` changes them in place. */
  private readonly limits = { max_message_bytes: DEFAULT_LIMITS.max_message_bytes, chunk_timeout_ms: DEFAULT_LIMITS.chunk_timeout_ms };
  private readonly reassembler = new Reassembler(this.limits);
  private expiryTimer: NodeJS.Timeout | undefined;
  private readonly tasks = new Map<string, PendingTask>();

  /**
   * `onMessage` sees each message the inbox receives, as it receives it; `onError` each incomplete
   * chunked message discarded after chunk_timeout_ms (PP-CHK-010).
   */
  constructor(
    private readonly onMessage: (message: ReceivedMessage) => void,
    private readonly onError: (error: ProtocolError) => void,
  ) {}

  /** The limits the server advertised in HANDSHAKE_INIT_ACK; the defaults of spec §13 for those it left out. */
  useLimits(serverLimits: Record<string, number> | undefined): void {
    this.limits.max_message_bytes = serverLimits?.max_message_bytes ?? DEFAULT_LIMITS.max_message_bytes;
    this.limits.chunk_timeout_ms = serverLimits?.chunk_timeout_ms ?? DEFAULT_LIMITS.chunk_timeout_ms;
  }

  /** The TASK_RESPONSE with this task_id settles `task` instead of reaching the inbox. */
  expectTask(taskId: string, task: PendingTask): void {
    this.tasks.set(taskId, task);
  }

  /** A data record of the session, opened; `version` is the session's, for the schema of a reassembled message. */
  onData(record: RecordEnvelope, inner: unknown, version: Version): void {
    let message: ReceivedMessage = { message_id: record.message_id, type: record.type, sender_id: record.sender_id, payload: inner };
    if (record.type === "CHUNKED_MESSAGE") {
      const chunk = inner as ChunkPayload;
      if (!this.firstDelivery(record.sender_id, record.message_id)) return; // the same record again
      // A chunked message is one data message whose message_id is its chunk_id (spec §10): a chunk
      // of a message already delivered is a duplicate (PP-DLV-003).
      if (this.wasDelivered(record.sender_id, chunk.chunk_id)) return;
      let whole;
      try {
        whole = this.reassembler.add(chunk, Date.now(), record.recipient_id); // PP-CHK-022: the records' recipient_id
      } finally {
        this.scheduleExpiry();
      }
      if (!whole) return;
      this.reassembler.delivered(whole.message_id); // delivered or discarded below: its pieces go
      const check = validateInnerPayload(version, whole.type, whole.payload, { strict: false });
      if (!check.ok) throw new ProtocolError("INVALID_MESSAGE", `reassembled ${whole.type} payload ${check.path} ${check.error}`, whole.message_id); // PP-CHK-021: the chunk_id, nothing delivered
      message = { message_id: whole.message_id, type: whole.type, sender_id: record.sender_id, payload: whole.payload };
    }
    if (!this.firstDelivery(message.sender_id, message.message_id)) return; // PP-DLV-003
    if (message.type === "TASK_RESPONSE") {
      const response = message.payload as { task_id: string; status: string; result?: unknown; error?: string };
      const task = this.tasks.get(response.task_id);
      if (task) {
        this.tasks.delete(response.task_id);
        if (response.status === "ok") task.resolve(response.result);
        else task.reject(new LocalError("REMOTE_ERROR", response.error ?? "task failed"));
        return;
      }
    }
    this.inbox.push(message);
    this.onMessage(message);
  }

  /** PP-CHK-010: each incomplete message is discarded chunk_timeout_ms after its first chunk, with CHUNK_ERROR naming its chunk_id (PP-CHK-023). */
  private scheduleExpiry(): void {
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
    const due = this.reassembler.nextExpiry;
    if (due === null) return;
    this.expiryTimer = setTimeout(() => {
      this.expiryTimer = undefined;
      for (const chunkId of this.reassembler.expire(Date.now())) this.onError(new ProtocolError("CHUNK_ERROR", `chunked message ${chunkId} incomplete after ${this.limits.chunk_timeout_ms} ms; discarded`, chunkId));
      this.scheduleExpiry();
    }, Math.max(0, due - Date.now()));
    this.expiryTimer.unref();
  }

  /** The client closed: every waiting request fails with `reason`, and the inbox ends. */
  end(reason: LocalError): void {
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
    for (const task of this.tasks.values()) task.reject(reason);
    this.tasks.clear();
    this.inbox.end();
  }

  private wasDelivered(senderId: string, messageId: string): boolean {
    return this.delivered.has(`${senderId}\u0000${messageId}`);
  }

  /** De-duplication across sessions and resumes, by (sender, message_id). */
  private firstDelivery(senderId: string, messageId: string): boolean {
    const key = `${senderId}\u0000${messageId}`;
    if (this.delivered.has(key)) return false;
    this.delivered.set(key, true);
    if (this.delivered.size > 65_536) this.delivered.delete(this.delivered.keys().next().value as string);
    return true;
  }
}
