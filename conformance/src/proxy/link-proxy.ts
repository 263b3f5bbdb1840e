/**
 * The runner's own TCP proxy: one listener per probe entity (a "link"), forwarding bytes to the
 * target unchanged, so that a generated scenario can break the network under the protocol without
 * any help from the target. It carries out the network part of a schedule:
 *
 * - **cut**: after N more bytes in one direction, the connection is reset on both sides, wherever
 *   that falls: inside a frame, inside a chunk burst, mid-handshake, mid-resume;
 * - **hold**: bytes in one direction wait in the proxy for a while, then flow on (time passes and
 *   timers run while traffic is in flight);
 * - **split**: writes in one direction are cut into pieces of at most N bytes, one per event-loop
 *   turn, so the target has to reassemble frames from partial reads.
 *
 * ```
 * probe A ──tcp──> link A ─┐
 * probe B ──tcp──> link B ─┼──tcp──> target
 * probe C ──tcp──> link C ─┘
 * ```
 *
 * It works at the TCP level, below WebSocket and HTTP, and holds no keys: what it breaks is the
 * transport, never the records, which stay authenticated end to end.
 */
import { createServer, connect, type Server, type Socket } from "node:net";

/** `up`: probe -> target; `down`: target -> probe. */
export type Direction = "up" | "down";

/** Bytes a direction may hold in the proxy before the sending side is paused. */
const HIGH_WATER = 1024 * 1024;

interface ArmedCut {
  direction: Direction;
  remaining: number;
  fired: () => void;
}

/** One direction of one proxied connection: a queue pumped in order, honouring hold, split and cut. */
class Pipe {
  private readonly queue: Buffer[] = [];
  private queued = 0;
  private pumping = false;

  constructor(
    private readonly link: LinkProxy,
    private readonly direction: Direction,
    private readonly from: Socket,
    private readonly to: Socket,
    private readonly sever: () => void,
  ) {}

  push(data: Buffer): void {
    this.queue.push(data);
    this.queued += data.length;
    if (this.queued > HIGH_WATER) this.from.pause();
    void this.pump();
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.queue.length > 0 && !this.to.destroyed) {
        const wait = this.link.heldUntil(this.direction) - Date.now();
        if (wait > 0) {
          await sleep(wait);
          continue;
        }
        let piece = this.queue[0] as Buffer;
        const split = this.link.splitSize(this.direction);
        if (split > 0 && piece.length > split) piece = piece.subarray(0, split);
        const cut = this.link.armedCut(this.direction);
        if (cut && piece.length >= cut.remaining) piece = piece.subarray(0, cut.remaining);
        this.take(piece.length);
        if (cut) cut.remaining -= piece.length;
        if (piece.length > 0 && !this.to.write(piece)) await drained(this.to);
        if (cut && cut.remaining === 0) {
          // Let the last bytes before the cut reach the kernel, then reset both sides.
          await flushed(this.to);
          this.link.fireCut(cut);
          this.sever();
          return;
        }
        if (split > 0) await new Promise((resolve) => setImmediate(resolve));
      }
    } finally {
      this.pumping = false;
      if (this.queued <= HIGH_WATER && !this.from.destroyed) this.from.resume();
    }
  }

  private take(length: number): void {
    const head = this.queue[0] as Buffer;
    if (length >= head.length) this.queue.shift();
    else this.queue[0] = head.subarray(length);
    this.queued -= length;
  }
}

export interface LinkStats {
  connections: number;
  cuts: number;
}

/** A listener for one probe entity; every connection through it belongs to that entity. */
export class LinkProxy {
  readonly stats: LinkStats = { connections: 0, cuts: 0 };
  private cut: ArmedCut | null = null;
  private readonly holds: Record<Direction, number> = { up: 0, down: 0 };
  private readonly splits: Record<Direction, number> = { up: 0, down: 0 };
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
    readonly label: string,
  ) {}

  /** Listens on a free loopback port and forwards every connection to `target`. */
  static async open(target: { host: string; port: number }, label: string): Promise<LinkProxy> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    const link = new LinkProxy(server, (server.address() as { port: number }).port, label);
    server.on("connection", (client) => link.accept(client, target));
    return link;
  }

  /** `url` with its host and port replaced by this link's (scheme, path and query kept). */
  rewrite(url: string): string {
    const u = new URL(url);
    const path = u.pathname === "/" && !url.endsWith("/") ? "" : u.pathname;
    return `${u.protocol}//127.0.0.1:${this.port}${path}${u.search}`;
  }

  /**
   * Arms a cut: after `afterBytes` more bytes in `direction`, on the current connection or the
   * next one, the connection is reset on both sides. Resolves when the cut has happened.
   */
  armCut(direction: Direction, afterBytes: number): Promise<void> {
    this.cut?.fired();
    return new Promise((resolve) => {
      const cut: ArmedCut = { direction, remaining: Math.max(0, Math.floor(afterBytes)), fired: resolve };
      this.cut = cut;
      // A cut after 0 bytes falls now, on what is open (in-flight bytes included), or on the next connection.
      if (cut.remaining === 0 && this.sockets.size > 0) {
        this.fireCut(cut);
        this.resetAll();
      }
    });
  }

  /** Bytes in `direction` wait in the proxy for `ms`, then flow on. */
  hold(direction: Direction, ms: number): void {
    this.holds[direction] = Math.max(this.holds[direction], Date.now() + ms);
  }

  /** Writes in `direction` go out in pieces of at most `size` bytes (0: as they come). */
  split(direction: Direction, size: number): void {
    this.splits[direction] = Math.max(0, Math.floor(size));
  }

  /** Ends every hold, split and armed cut: the network is calm again. */
  calm(): void {
    this.holds.up = this.holds.down = 0;
    this.splits.up = this.splits.down = 0;
    const cut = this.cut;
    this.cut = null;
    cut?.fired();
  }

  /** Resets every open connection at once (both directions). */
  resetAll(): void {
    for (const socket of this.sockets) socket.resetAndDestroy();
  }

  async close(): Promise<void> {
    this.calm();
    this.resetAll();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  heldUntil(direction: Direction): number {
    return this.holds[direction];
  }

  splitSize(direction: Direction): number {
    return this.splits[direction];
  }

  armedCut(direction: Direction): ArmedCut | null {
    return this.cut?.direction === direction ? this.cut : null;
  }

  fireCut(cut: ArmedCut): void {
    if (this.cut === cut) this.cut = null;
    this.stats.cuts++;
    cut.fired();
  }

  private accept(client: Socket, target: { host: string; port: number }): void {
    this.stats.connections++;
    const upstream = connect(target.port, target.host);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    this.sockets.add(client);
    this.sockets.add(upstream);
    let severed = false;
    const sever = () => {
      if (severed) return;
      severed = true;
      this.sockets.delete(client);
      this.sockets.delete(upstream);
      client.resetAndDestroy();
      upstream.resetAndDestroy();
    };
    const up = new Pipe(this, "up", client, upstream, sever);
    const down = new Pipe(this, "down", upstream, client, sever);
    client.on("data", (data: Buffer) => up.push(data));
    upstream.on("data", (data: Buffer) => down.push(data));
    // An orderly end on one side is passed on; an error or reset severs both.
    client.on("end", () => upstream.end());
    upstream.on("end", () => client.end());
    client.on("error", sever);
    upstream.on("error", sever);
    client.on("close", () => {
      this.sockets.delete(client);
      if (!upstream.destroyed && upstream.writableEnded) upstream.destroy();
    });
    upstream.on("close", () => {
      this.sockets.delete(upstream);
      if (!client.destroyed && client.writableEnded) client.destroy();
    });
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function drained(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      socket.off("drain", done);
      socket.off("close", done);
      resolve();
    };
    socket.once("drain", done);
    socket.once("close", done);
  });
}

/** Resolves once what was written so far has left the socket's user-space buffer. */
function flushed(socket: Socket): Promise<void> {
  if (socket.destroyed || socket.writableLength === 0) return Promise.resolve();
  return new Promise((resolve) => socket.write(Buffer.alloc(0), () => resolve()));
}
