/**
 * Load 3: chunk floods. Several entities each open chunked message after chunked message (a new
 * chunk_id each time) and send only its first chunk, never the last, at the server's
 * max_chunk_bytes, so that the server holds every one of them until chunk_timeout_ms
 * (PP-CHK-010). Two bounds must bite: a session's incomplete chunks may hold at most
 * max_message_bytes (PP-CHK-015), and all sessions together at most max_buffered_bytes
 * (PP-LIM-012). Either refusal is BUFFER_OVERFLOW, whose registry row closes the connection with
 * 1013; the flooder then runs a new handshake as the same entity, which replaces its old session
 * and so frees what that session held (PP-LIM-013), and floods on.
 */
import { randomBytes } from "node:crypto";
import { benchIdentity } from "../../src/load/identity.ts";
import { sleep } from "../../src/load/clock.ts";
import { Counts } from "../counts.ts";
import { HandshakeFailed, SoakPeer } from "../soak-peer.ts";
import type { Load, LoadContext } from "./load.ts";
import { tallyingHandlers } from "./peer-tallies.ts";

/** Above this many bytes waiting in this process, the flooder skips a beat rather than queue without bound itself. */
const OWN_BACKLOG_BYTES = 4 * 1024 * 1024;
const RECONNECT_DELAY_MS = 200;

export class ChunkFlood implements Load {
  readonly name = "chunk flood";
  readonly counts = new Counts();
  private readonly peers = new Set<SoakPeer>();
  private readonly loops: Promise<void>[] = [];
  private stopping = false;

  constructor(
    private readonly context: LoadContext,
    private readonly flooders: number,
    private readonly chunksPerSecond: number,
    private readonly firstChunksPerSecond: number,
  ) {}

  start(): void {
    for (let i = 0; i < this.flooders; i++) this.loops.push(this.flood(`soak-flood-${i}`, i === 0 ? this.firstChunksPerSecond : this.chunksPerSecond));
  }

  async stop(): Promise<void> {
    this.stopping = true;
    for (const peer of this.peers) peer.terminate();
    await Promise.all(this.loops);
  }

  private async flood(entityId: string, chunksPerSecond: number): Promise<void> {
    const chunkBytes = this.context.limits.max_chunk_bytes;
    // One random piece for every chunk: the server never sees a message whole, so it never checks
    // the digest, and generating fresh bytes would only cost this process.
    const data = randomBytes(chunkBytes).toString("base64url");
    const digest = randomBytes(32).toString("base64url");
    // A message of two chunks (PP-CHK-006: within max_message_bytes), of which only the first is sent.
    const totalSize = Math.min(2 * chunkBytes, this.context.limits.max_message_bytes);
    let counter = 0;
    while (!this.stopping) {
      const peer = await this.connect(entityId);
      if (!peer) {
        await sleep(RECONNECT_DELAY_MS);
        continue;
      }
      while (!this.stopping && peer.isOpen) {
        if (peer.bufferedAmount < OWN_BACKLOG_BYTES) {
          const chunk = { chunk_id: `${entityId}-${(counter++).toString(36).padStart(6, "0")}`, sequence_number: 0, is_last: false, total_size: totalSize, digest, inner_type: "PEER_MESSAGE", data };
          peer.sendRecord("CHUNKED_MESSAGE", chunk, { recipient_id: this.context.serverId });
          this.counts.add("first chunks sent");
        } else this.counts.add("beats skipped (own backlog)");
        await sleep(1000 / chunksPerSecond);
      }
      this.peers.delete(peer);
      peer.terminate();
      await sleep(RECONNECT_DELAY_MS);
    }
  }

  private async connect(entityId: string): Promise<SoakPeer | undefined> {
    let peer: SoakPeer | undefined;
    try {
      peer = await SoakPeer.open(this.context.wsUrl, tallyingHandlers(this.context, this.counts, "flooder", () => this.stopping));
      this.peers.add(peer);
      await peer.handshake(benchIdentity(entityId), entityId);
      this.counts.add("sessions established");
      return peer;
    } catch (error) {
      if (!this.stopping) this.counts.add(`handshake failed: ${error instanceof HandshakeFailed ? error.reason : (error as Error).message}`);
      if (peer) {
        this.peers.delete(peer);
        peer.terminate();
      }
      return undefined;
    }
  }
}
