/**
 * `A sends m1 (600 KB, 3 chunks) to B`: a data message to another probe (PEER_MESSAGE, routed by
 * the target, PP-DLV-006) or the echo TASK_REQUEST to the target itself (PP-DLV-009). A message
 * larger than max_chunk_bytes goes as CHUNKED_MESSAGE records (PP-CHK-001), in a generated order
 * (PP-CHK-012), possibly with one chunk sent twice (PP-CHK-008).
 */
import { chunksOf } from "../../probe/chunks.ts";
import { bytesText, type EntityName, type OutMessage, type OutRecord } from "../messages.ts";
import type { ScenarioModel } from "../model.ts";
import { scenarioMessageId } from "../scenario-peer.ts";
import type { ScenarioWorld } from "../world.ts";
import type { ScenarioCommand } from "./command.ts";

/** Bytes of JCS(payload) around the content: ids, member names, braces. */
const OVERHEAD = 200;

export interface SendShape {
  /** Characters of content. */
  size: number;
  /** Messages sent back to back (small ones only; default 1). */
  count?: number;
  /** For a chunked message: chunks reversed, or rotated by `rotate`; none means in order. */
  reorder?: "reversed" | { rotate: number };
  /** For a chunked message: this chunk number is sent twice, identically. */
  duplicateChunk?: number;
  /**
   * A cut inside this message's bytes on the wire, as a fraction of them: on the sender's link
   * (`up`, as it goes to the server) or the recipient's (`down`, as the server delivers it).
   */
  cut?: { side: "up" | "down"; at: number };
}

export class SendCommand implements ScenarioCommand {
  /** The messages as sent in the last run (`m3`), for the printed scenario. */
  private sentAs: OutMessage[] = [];
  /** The byte offset of the cut in the last run. */
  private cutAfter = 0;

  constructor(
    readonly from: EntityName,
    readonly to: EntityName | "server",
    readonly shape: SendShape,
    /** Pieces of at most this many bytes (at most max_chunk_bytes, spec §10). */
    private readonly chunkSize: number,
  ) {}

  /** Records the messages take at most: their chunks and a repeated one. */
  get records(): number {
    const chunks = Math.max(1, Math.ceil((this.shape.size + OVERHEAD) / this.chunkSize));
    return (this.shape.count ?? 1) * (chunks + (chunks > 1 && this.shape.duplicateChunk !== undefined ? 1 : 0));
  }

  check(model: Readonly<ScenarioModel>): boolean {
    if (this.to !== "server" && (this.to === this.from || !model.reachable(this.to))) return false;
    return model.canSend(this.from, this.records);
  }

  async run(model: ScenarioModel, world: ScenarioWorld): Promise<void> {
    const entity = model.entities[this.from];
    entity.records += this.records;
    entity.hasSent = true;
    this.sentAs = [];
    const cut = this.shape.cut;
    const recipient = this.to === "server" ? this.from : this.to;
    const cutEntity = cut?.side === "up" ? this.from : recipient;
    // The proxy cuts WebSocket connections only (an HTTP entity has nothing to resume).
    this.cutAfter = 0;
    if (cut && model.entities[cutEntity].transport === "websocket") {
      // About 4/3 of the payload travels (base64url), plus each record's envelope.
      const count = this.shape.count ?? 1;
      const wire = count * (Math.ceil(((this.shape.size + OVERHEAD) * 4) / 3) + (400 * this.records) / count);
      this.cutAfter = Math.max(1, Math.floor(wire * cut.at));
      void (cut.side === "up" ? world.links[this.from] : world.links[recipient]).armCut(cut.side, this.cutAfter);
    }
    for (let i = 0; i < (this.shape.count ?? 1); i++) this.sentAs.push(this.sendOne(model.nextMessageName(), world));
  }

  private sendOne(name: string, world: ScenarioWorld): OutMessage {
    const peer = world.peers[this.from];
    const id = scenarioMessageId(world.runTag, name);
    const content = { n: name, text: "x".repeat(this.shape.size) };
    const type = this.to === "server" ? "TASK_REQUEST" : "PEER_MESSAGE";
    const inner: Record<string, unknown> = type === "TASK_REQUEST" ? { task_id: `task-${id}`, action: "echo", params: content } : { content };
    const message: OutMessage = { name, id, from: this.from, to: this.to, type, inner, size: 0, records: [] };
    if (this.to !== "server") message.recipientId = world.peers[this.to].entityId ?? undefined;
    const chunks = chunksOf(id, type, inner, this.chunkSize);
    message.size = chunks[0]?.total_size ?? 0;
    const record = (type: string, recordInner: unknown, messageId: string): OutRecord => ({ message, type, inner: recordInner, messageId, order: 0, acked: false });
    message.records = chunks.length === 1 ? [record(type, inner, id)] : chunks.map((c) => record("CHUNKED_MESSAGE", c, `${id}-c${c.sequence_number}`));
    let order = [...message.records];
    if (order.length > 1) {
      const reorder = this.shape.reorder;
      if (reorder === "reversed") order.reverse();
      else if (reorder) order = [...order.slice(reorder.rotate % order.length), ...order.slice(0, reorder.rotate % order.length)];
      if (order.some((r, i) => r !== message.records[i])) message.chunkOrder = order.map((r) => message.records.indexOf(r));
      const twice = this.shape.duplicateChunk;
      if (twice !== undefined) {
        const original = message.records[twice % message.records.length] as OutRecord;
        order.splice(order.indexOf(original) + 1, 0, { ...original });
      }
    }
    for (const r of order) r.order = peer.nextOrder();
    peer.sendMessage(message, order);
    return message;
  }

  toString(): string {
    const target = this.to === "server" ? "the server (echo)" : this.to;
    const message = this.sentAs[0];
    const last = this.sentAs.at(-1);
    if (!message || !last) return `${this.from} sends ${this.shape.count ?? 1} message(s) of ${bytesText(this.shape.size)} to ${target}`;
    if (this.sentAs.length > 1) return `${this.from} sends ${message.name} … ${last.name} (${this.sentAs.length} messages of ${bytesText(message.size)}, back to back) to ${target}${this.cutText()}`;
    const details = [bytesText(message.size)];
    if (message.records.length > 1) {
      details.push(`${message.records.length} chunks`);
      if (message.chunkOrder) details.push(`in the order ${message.chunkOrder.join(", ")}`);
      if (this.shape.duplicateChunk !== undefined) details.push(`chunk ${this.shape.duplicateChunk % message.records.length} twice`);
    }
    return `${this.from} sends ${message.name} (${details.join(", ")}) to ${target}${this.cutText()}`;
  }

  private cutText(): string {
    const cut = this.shape.cut;
    if (!cut || this.cutAfter === 0) return "";
    const recipient = this.to === "server" ? this.from : this.to;
    return `; the proxy cuts ${cut.side === "up" ? `${this.from}->server` : `server->${recipient}`} after byte ${this.cutAfter.toLocaleString("en-US")} of it`;
  }
}
