/**
 * Load 4: a slow reader fed by several senders. The reader entity runs a handshake and then stops
 * reading its socket; the senders send it PEER_MESSAGEs of 64-224 KiB (below max_chunk_bytes, so
 * each travels whole) at a steady pace. What the server must do:
 *
 * - refuse a message once the data records queued or unacknowledged for the reader would pass
 *   max_send_queue_bytes (PP-DLV-014): BUFFER_OVERFLOW to the sender, whose connection its registry
 *   row closes with 1013; the sender reconnects after a pause and goes on;
 * - close the reader with 1013 once its connection's unsent data passes max_send_queue_bytes
 *   (PP-LIM-007), which can only happen if what the kernel does not take exceeds that bound.
 *
 * The reader holds still for `holdMs`, then reads what arrived, to learn whether and how the server
 * closed it, and runs a new handshake as the same entity: the new session takes over the old one's
 * queue (PP-DLV-008), so the queue stays full from one cycle to the next.
 */
import { randomBytes } from "node:crypto";
import { benchIdentity } from "../../src/load/identity.ts";
import { sleep } from "../../src/load/clock.ts";
import { Counts } from "../counts.ts";
import { HandshakeFailed, SoakPeer, type PeerHandlers } from "../soak-peer.ts";
import type { Load, LoadContext } from "./load.ts";
import { tallyingHandlers } from "./peer-tallies.ts";

const READER_ID = "soak-reader";
const MIN_MESSAGE_BYTES = 64 * 1024;
const MAX_MESSAGE_BYTES = 224 * 1024;
/** How long the reader reads after each hold, to take in what arrived and the close frame, if any. */
const DRAIN_MS = 1000;
const SENDER_BACKOFF_MS = 500;
const OWN_BACKLOG_BYTES = 4 * 1024 * 1024;

export class SlowReader implements Load {
  readonly name = "slow reader";
  readonly counts = new Counts();
  private readonly peers = new Set<SoakPeer>();
  private readonly loops: Promise<void>[] = [];
  private stopping = false;
  /** What the senders send: slices of one string, so making a message costs this process nothing. */
  private readonly content = randomBytes(MAX_MESSAGE_BYTES).toString("base64url").slice(0, MAX_MESSAGE_BYTES);

  constructor(
    private readonly context: LoadContext,
    private readonly senders: number,
    private readonly messagesPerSecond: number,
    private readonly holdMs: number,
  ) {}

  start(): void {
    this.loops.push(this.read());
    for (let i = 0; i < this.senders; i++) this.loops.push(this.send(`soak-sender-${i}`));
  }

  async stop(): Promise<void> {
    this.stopping = true;
    for (const peer of this.peers) peer.terminate();
    await Promise.all(this.loops);
  }

  private async read(): Promise<void> {
    while (!this.stopping) {
      let frames = 0;
      // It does not even acknowledge what it reads: its queue never empties.
      const peer = await this.connect(READER_ID, "reader", { onData: () => frames++ }, false);
      if (!peer) {
        await sleep(SENDER_BACKOFF_MS);
        continue;
      }
      peer.pauseReading();
      const heldAt = performance.now();
      while (!this.stopping && performance.now() - heldAt < this.holdMs) await sleep(100);
      if (this.stopping) break;
      peer.resumeReading();
      await Promise.race([peer.closed, sleep(DRAIN_MS)]);
      this.counts.add("reader: data records read after a hold", frames);
      // A close frame that came is a close by the server, even if the TCP close has not finished.
      if (peer.isOpen) this.counts.add("reader: still open after a hold");
      this.peers.delete(peer);
      peer.terminate();
    }
  }

  private async send(entityId: string): Promise<void> {
    while (!this.stopping) {
      const peer = await this.connect(entityId, "sender");
      if (!peer) {
        await sleep(SENDER_BACKOFF_MS);
        continue;
      }
      while (!this.stopping && peer.isOpen) {
        if (peer.bufferedAmount < OWN_BACKLOG_BYTES) {
          const size = MIN_MESSAGE_BYTES + Math.floor(Math.random() * (MAX_MESSAGE_BYTES - MIN_MESSAGE_BYTES));
          peer.sendRecord("PEER_MESSAGE", { content: this.content.slice(0, size) }, { recipient_id: READER_ID });
          this.counts.add("sender: messages sent");
          this.counts.add("sender: MiB sent", size / (1024 * 1024));
        }
        await sleep(1000 / this.messagesPerSecond);
      }
      this.peers.delete(peer);
      peer.terminate();
      await sleep(SENDER_BACKOFF_MS); // cut off for a full queue: a pause, not a handshake storm
    }
  }

  private async connect(entityId: string, role: string, extra: PeerHandlers = {}, autoAck = true): Promise<SoakPeer | undefined> {
    let peer: SoakPeer | undefined;
    try {
      peer = await SoakPeer.open(this.context.wsUrl, tallyingHandlers(this.context, this.counts, role, () => this.stopping, extra));
      peer.autoAck = autoAck;
      this.peers.add(peer);
      await peer.handshake(benchIdentity(entityId), entityId);
      this.counts.add(`${role}: sessions established`);
      return peer;
    } catch (error) {
      if (!this.stopping) this.counts.add(`${role}: handshake failed: ${error instanceof HandshakeFailed ? error.reason : (error as Error).message}`);
      if (peer) {
        this.peers.delete(peer);
        peer.terminate();
      }
      return undefined;
    }
  }
}
