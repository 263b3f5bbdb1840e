/**
 * How much of each abusive load runs at once, and why. Every connection comes from 127.0.0.1, so
 * all of them together must stay under the server's max_connections_per_ip (256 by default,
 * PP-LIM-011) with room to spare, or the legitimate session and the soak's own /metrics scrapes
 * would be refused too; `connectionsAtOnce` is the sum the soak prints beside the limit.
 */
import { ABANDON_STEPS } from "./loads/abandoned-handshakes.ts";
import type { LoadName } from "./soak-options.ts";

export interface AbusePlan {
  /** Load 1: TCP connections held open without a byte. */
  idleSockets: number;
  /** Load 2: requests whose headers never end. */
  slowHeaders: number;
  /** Load 2: POSTs to the HTTP binding whose bodies trickle. */
  slowBodies: number;
  /** Load 3: entities flooding first chunks. */
  flooders: number;
  /**
   * Load 3: first chunks per second per flooder, and for the first flooder, which is faster. The
   * others put chunks of 256 KiB into their sessions at 3/s (0.75 MiB/s each); with the slow
   * reader's queue (8 MiB) they fill max_buffered_bytes (64 MiB) in about 10 s, so PP-LIM-012
   * bites, again each time one of them is cut off and starts again from nothing. The first one, at
   * 12/s, puts max_message_bytes (16 MiB) into its session in 5.3 s, before that and within
   * chunk_timeout_ms (20 s, server-config.ts), so PP-CHK-015 bites too. 27 chunks/s in all cost
   * the reference server about 60% of a core (about 23 ms of CPU per 466 KB chunk frame, measured
   * with --server-node-arg=--cpu-prof: the frame's bytes are decoded, re-encoded, parsed and
   * pattern-checked about fifteen times over).
   */
  firstFlooderChunksPerSecond: number;
  chunksPerSecond: number;
  /** Load 4: senders feeding the slow reader. */
  senders: number;
  /** Load 4: messages per second per sender, 64-224 KiB each: 4 x 5 x 144 KiB ≈ 2.8 MiB/s, so max_send_queue_bytes (8 MiB) fills in about 3 s. */
  messagesPerSecond: number;
  /** Load 4: how long the reader holds still before it looks and reconnects. */
  readerHoldMs: number;
  /** Load 5: concurrent abandoners per step (six steps). */
  abandonSlotsPerStep: number;
}

export const DEFAULT_PLAN: AbusePlan = {
  idleSockets: 100,
  slowHeaders: 20,
  slowBodies: 20,
  flooders: 6,
  chunksPerSecond: 3,
  firstFlooderChunksPerSecond: 12,
  senders: 4,
  messagesPerSecond: 5,
  readerHoldMs: 8000,
  abandonSlotsPerStep: 3,
};

/** The default plan with only `loads` running: the others get zero peers. */
export function planFor(loads: readonly LoadName[], idleSockets?: number): AbusePlan {
  const plan = { ...DEFAULT_PLAN, ...(idleSockets !== undefined ? { idleSockets } : {}) };
  const runs = (name: LoadName) => loads.includes(name);
  if (!runs("idle")) plan.idleSockets = 0;
  if (!runs("slowloris")) plan.slowHeaders = plan.slowBodies = 0;
  if (!runs("flood")) plan.flooders = 0;
  if (!runs("reader")) plan.senders = 0;
  if (!runs("abandon")) plan.abandonSlotsPerStep = 0;
  return plan;
}

/** The most connections the plan holds at once, the legitimate session included. */
export function connectionsAtOnce(plan: AbusePlan): number {
  const legit = 1;
  const reader = plan.senders > 0 ? 1 : 0;
  return plan.idleSockets + plan.slowHeaders + plan.slowBodies + plan.flooders + plan.senders + reader + plan.abandonSlotsPerStep * ABANDON_STEPS.length + legit;
}
