/**
 * What the client does with the data messages it receives (spec §9, §10): it reassembles chunked
 * messages, delivers each message to the application once, by (sender, message_id) and across
 * sessions and resumes, and hands a TASK_RESPONSE to the `request` waiting for it.
 */
import { Reassembler, type ChunkPayload } from "../chunking.ts";
import { LocalError } from "../errors.ts";
import { DEFAULT_LIMITS } from "../limits.ts";
import type { RecordEnvelope } from "../record.ts";
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
  private readonly reassembler = new Reassembler(DEFAULT_LIMITS);
  private readonly tasks = new Map<string, PendingTask>();

  /** `onMessage` sees each message the inbox receives, as it receives it. */
  constructor(private readonly onMessage: (message: ReceivedMessage) => void) {}

  /** The TASK_RESPONSE with this task_id settles `task` instead of reaching the inbox. */
  expectTask(taskId: string, task: PendingTask): void {
    this.tasks.set(taskId, task);
  }

  /** A data record of the session, opened. */
  onData(record: RecordEnvelope, inner: unknown): void {
    let message: ReceivedMessage = { message_id: record.message_id, type: record.type, sender_id: record.sender_id, payload: inner };
    if (record.type === "CHUNKED_MESSAGE") {
      if (!this.firstDelivery(record.sender_id, record.message_id)) return;
      const whole = this.reassembler.add(inner as ChunkPayload, Date.now());
      if (!whole) return;
      this.reassembler.delivered(whole.message_id); // the application takes it now
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

  /** The client closed: every waiting request fails with `reason`, and the inbox ends. */
  end(reason: LocalError): void {
    for (const task of this.tasks.values()) task.reject(reason);
    this.tasks.clear();
    this.inbox.end();
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
