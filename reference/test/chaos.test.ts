/**
 * Chaos: client A streams numbered messages to client B through the reference server while the
 * runner's TCP proxy (one link per client) resets A's or B's connection at random byte offsets and
 * times — inside frames, chunk bursts, handshakes and resumes. The clients reconnect and resume on
 * their own. Whatever the cuts, B's application sees every message once and in send order, and A
 * ends with nothing unacknowledged (PP-DLV-001, PP-DLV-003, PP-DLV-005, PP-DLV-013, PP-SES-010,
 * PP-CHK-004).
 *
 * A run's schedule (message sizes, send pacing, cut targets, offsets and delays) comes from its seed;
 * the interleaving with the event loop does not, so a replay reproduces the schedule, not every
 * timing. Replay one run: `CHAOS_SEED=<seed> npx vitest run reference/test/chaos.test.ts`.
 * More runs: `CHAOS_RUNS=<n>`. To see it fail, run it against a scratch copy of the server with one
 * of the self-test's source faults applied, e.g. `CHAOS_FAULT=resume-forgets-unacknowledged` (names
 * in conformance/selftest/source-faults.ts).
 */
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, expect, test } from "vitest";
import { LinkProxy, type Direction } from "../../conformance/src/proxy/link-proxy.ts";
import { removeScratchCopies, scratchReference } from "../../conformance/selftest/scratch-reference.ts";
import { PeerClient, type ReceivedMessage } from "../src/client/peer-client.ts";
import { PeerServer } from "../src/server/server.ts";

const BASE_SEED = 0x5eed_c4a0;
const RUNS = process.env.CHAOS_SEED ? 1 : Number(process.env.CHAOS_RUNS ?? 200);
const SERVER_FAULT = process.env.CHAOS_FAULT;
const CONCURRENT_PAIRS = 8;
const MESSAGES_PER_RUN = 25;
const CHUNKED_SHARE = 0.1;
/** The time over which A sends; cuts and holds start at random moments of it. */
const SEND_WINDOW_MS = 150;
const MAX_CHUNK_BYTES = 16_384;
/** Small enough that a disconnected B fills its queue and A meets BUFFER_OVERFLOW (PP-DLV-013). */
const RETRANSMIT_BUFFER = 12;
/** How long nothing may arrive, once all else is at rest, before a run ends; the bound on waiting for rest. */
const QUIET_MS = 50;
const REST_BOUND_MS = 5_000;
/** A broken build stops launching runs after this many failed ones, so that it fails in seconds. */
const ENOUGH_FAILURES = 16;

/** mulberry32: a tiny seeded PRNG, so a run's schedule is a function of its seed. */
function prng(seed: number): { next(): number; int(min: number, max: number): number; pick<T>(items: readonly T[]): T } {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  return { next, int: (min, max) => min + Math.floor(next() * (max - min + 1)), pick: (items) => items[Math.floor(next() * items.length)] as (typeof items)[number] };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Cut {
  direction: Direction;
  afterBytes: number;
}

/**
 * A cut at a random moment, then possibly more on the same link as soon as the previous one
 * happened: those land in the reconnect itself (upgrade, SESSION_RESUME, its answer, the re-sent
 * records), where a resume the server completed may never reach the client.
 */
interface Incident {
  entity: "A" | "B";
  delayMs: number;
  cuts: Cut[];
}

/** B's traffic in one direction waits in the proxy: B stops acknowledging, its queue on the server fills. */
interface Hold {
  direction: Direction;
  delayMs: number;
  ms: number;
}

interface Schedule {
  seed: number;
  /** Payload padding per message; above MAX_CHUNK_BYTES the message travels chunked. */
  sizes: number[];
  /** Pause before each send. */
  gapsMs: number[];
  incidents: Incident[];
  holds: Hold[];
}

function schedule(seed: number): Schedule {
  const random = prng(seed);
  const sizes = Array.from({ length: MESSAGES_PER_RUN }, () => (random.next() < CHUNKED_SHARE ? random.int(MAX_CHUNK_BYTES + 1, 3 * MAX_CHUNK_BYTES) : random.int(0, 300)));
  const gapsMs = sizes.map(() => random.int(0, Math.round((2 * SEND_WINDOW_MS) / MESSAGES_PER_RUN)));
  const incidents = Array.from({ length: random.int(1, 3) }, (): Incident => {
    const entity = random.pick(["A", "B"] as const);
    const cuts = Array.from({ length: random.next() < 0.5 ? 1 : random.int(2, 3) }, (_, i): Cut => {
      const direction = random.pick(["up", "down"] as const);
      // A's uplink and B's downlink carry the messages; the other two carry ACKs and PINGs. Small
      // offsets land in handshakes, resumes and ACKs; large ones inside chunk bursts.
      const carriesData = (entity === "A") === (direction === "up");
      const afterBytes = i > 0 || random.next() < 0.3 ? random.int(0, 1_500) : random.int(0, carriesData ? 60_000 : 4_000);
      return { direction, afterBytes };
    });
    return { entity, delayMs: random.int(0, SEND_WINDOW_MS), cuts };
  });
  const holds = random.next() < 0.3 ? [{ direction: random.pick(["up", "down"] as const), delayMs: random.int(0, SEND_WINDOW_MS), ms: random.int(20, 120) }] : [];
  return { seed, sizes, gapsMs, incidents, holds };
}

function describeSchedule(s: Schedule): string {
  const chunked = s.sizes.flatMap((size, n) => (size > MAX_CHUNK_BYTES ? [`#${n} (${size} B)`] : []));
  const incidents = s.incidents.map((i) => `at ${i.delayMs} ms ${i.entity}: ${i.cuts.map((c) => `${c.direction} after ${c.afterBytes} B`).join(", then ")}`);
  const holds = s.holds.map((h) => `at ${h.delayMs} ms B.${h.direction} held ${h.ms} ms`);
  return `seed ${s.seed}: ${s.sizes.length} messages, chunked ${chunked.join(", ") || "none"}; cuts ${incidents.join("; ")}${holds.length > 0 ? `; ${holds.join("; ")}` : ""}`;
}

interface Outcome {
  schedule: Schedule;
  lost: number[];
  duplicated: number[];
  reordered: number[];
  stuck: boolean;
  cuts: number;
  /** What the cuts led to: resumes, resumes refused (then a new handshake), BUFFER_OVERFLOW refusals. */
  recoveries: { resumed: number; refused: number; overflow: number };
  delivered: number[];
  pendingAtEnd: number;
}

let server: PeerServer;
let target: { host: string; port: number };

beforeAll(async () => {
  // rate_limit_per_minute 0: no rate limit, so that only the cuts and full queues interfere.
  const Server = SERVER_FAULT ? ((await import(pathToFileURL(join(scratchReference(SERVER_FAULT), "reference/src/server/server.ts")).href)) as { PeerServer: typeof PeerServer }).PeerServer : PeerServer;
  server = await Server.start({ logLevel: "silent", limits: { max_chunk_bytes: MAX_CHUNK_BYTES, rate_limit_per_minute: 0, retransmit_buffer: RETRANSMIT_BUFFER } });
  const url = new URL(server.url);
  target = { host: url.hostname, port: Number(url.port) };
});

afterAll(async () => {
  await server?.close();
  removeScratchCopies();
});

async function runOnce(s: Schedule): Promise<Outcome> {
  const links = { A: await LinkProxy.open(target, `A-${s.seed}`), B: await LinkProxy.open(target, `B-${s.seed}`) };
  const ids = { A: `chaos-${s.seed}-a`, B: `chaos-${s.seed}-b` };
  const options = (entity: "A" | "B") => ({ url: links[entity].rewrite(server.url), entityId: ids[entity], reconnect: { initialDelayMs: 5, maxDelayMs: 50 }, connectTimeoutMs: 3_000 });
  const b = await PeerClient.connect(options("B"));
  const a = await PeerClient.connect(options("A"));
  const delivered: number[] = [];
  let lastArrival = Date.now();
  b.on("message", (message: ReceivedMessage) => {
    if (message.sender_id !== ids.A) return;
    delivered.push((message.payload as { content: { n: number } }).content.n);
    lastArrival = Date.now();
  });
  const recoveries = { resumed: 0, refused: 0, overflow: 0 };
  for (const client of [a, b]) {
    client.on("resumed", () => recoveries.resumed++);
    client.on("resume-refused", () => recoveries.refused++);
    client.on("remote-error", (error: { code: string }) => {
      if (error.code === "BUFFER_OVERFLOW") recoveries.overflow++;
    });
  }
  try {
    // A cut that the traffic never reaches is given up after SEND_WINDOW_MS.
    const cutting = Promise.all([
      ...s.incidents.map(async (incident) => {
        await sleep(incident.delayMs);
        for (const cut of incident.cuts) await Promise.race([links[incident.entity].armCut(cut.direction, cut.afterBytes), sleep(SEND_WINDOW_MS)]);
      }),
      ...s.holds.map(async (hold) => {
        await sleep(hold.delayMs);
        links.B.hold(hold.direction, hold.ms);
        await sleep(hold.ms);
      }),
    ]);
    for (let n = 0; n < s.sizes.length; n++) {
      if ((s.gapsMs[n] ?? 0) > 0) await sleep(s.gapsMs[n] ?? 0);
      a.send(ids.B, { n, pad: "x".repeat(s.sizes[n] ?? 0) });
    }
    await cutting;
    links.A.calm();
    links.B.calm();
    // Rest: A holds nothing unacknowledged, both are connected, the server holds nothing for B that
    // B has not acknowledged, and nothing arrived for QUIET_MS since the network calmed.
    const calmAt = Date.now();
    const deadline = calmAt + REST_BOUND_MS;
    const serverPendingForB = () => server.service.store.sessionOf(ids.B)?.session.pendingCount ?? 0;
    let stuck = true;
    while (Date.now() < deadline) {
      if (a.pendingCount === 0 && a.connected && b.connected && serverPendingForB() === 0 && Date.now() - Math.max(lastArrival, calmAt) >= QUIET_MS) {
        stuck = false;
        break;
      }
      await sleep(10);
    }
    const seen = new Set<number>();
    const duplicated: number[] = [];
    const reordered: number[] = [];
    let highest = -1;
    for (const n of delivered) {
      if (seen.has(n)) duplicated.push(n);
      else if (n < highest) reordered.push(n);
      seen.add(n);
      highest = Math.max(highest, n);
    }
    const lost = s.sizes.map((_, n) => n).filter((n) => !seen.has(n));
    return { schedule: s, lost, duplicated, reordered, stuck, cuts: links.A.stats.cuts + links.B.stats.cuts, recoveries, delivered, pendingAtEnd: a.pendingCount };
  } finally {
    await Promise.all([a.close(), b.close()]);
    await Promise.all([links.A.close(), links.B.close()]);
  }
}

test(`every message A streams to B arrives once and in order while the proxy cuts connections at random (${RUNS} seeded runs)`, async () => {
  const seeds = process.env.CHAOS_SEED ? [Number(process.env.CHAOS_SEED)] : Array.from({ length: RUNS }, (_, i) => BASE_SEED + i);
  const started = Date.now();
  const outcomes: Outcome[] = [];
  const failed = (o: Outcome) => o.lost.length + o.duplicated.length + o.reordered.length > 0 || o.stuck;
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(CONCURRENT_PAIRS, seeds.length) }, async () => {
      while (next < seeds.length && outcomes.filter(failed).length < ENOUGH_FAILURES) outcomes.push(await runOnce(schedule(seeds[next++] as number)));
    }),
  );
  const seconds = (Date.now() - started) / 1000;
  const sum = (f: (o: Outcome) => number) => outcomes.reduce((total, o) => total + f(o), 0);
  const totals = {
    lost: sum((o) => o.lost.length),
    duplicated: sum((o) => o.duplicated.length),
    reordered: sum((o) => o.reordered.length),
    stuck: sum((o) => (o.stuck ? 1 : 0)),
  };
  const messages = sum((o) => o.schedule.sizes.length);
  const chunked = sum((o) => o.schedule.sizes.filter((size) => size > MAX_CHUNK_BYTES).length);
  console.log(
    `chaos: ${outcomes.length} runs, ${messages.toLocaleString("en")} messages (${chunked} chunked), lost ${totals.lost}, duplicated ${totals.duplicated}, reordered ${totals.reordered}, stuck ${totals.stuck}, cuts ${sum((o) => o.cuts)} (resumed ${sum((o) => o.recoveries.resumed)}, resume refused ${sum((o) => o.recoveries.refused)}, BUFFER_OVERFLOW ${sum((o) => o.recoveries.overflow)}), ${seconds.toFixed(1)} s`,
  );
  for (const o of outcomes.filter(failed)) {
    console.log(`chaos failure (replay with CHAOS_SEED=${o.schedule.seed}): ${describeSchedule(o.schedule)}\n  lost ${JSON.stringify(o.lost)}, duplicated ${JSON.stringify(o.duplicated)}, reordered ${JSON.stringify(o.reordered)}, stuck ${o.stuck} (A pending ${o.pendingAtEnd}); B's application saw ${JSON.stringify(o.delivered)}`);
  }
  expect(totals).toEqual({ lost: 0, duplicated: 0, reordered: 0, stuck: 0 });
  expect(outcomes.length).toBe(seeds.length);
}, Math.max(120_000, RUNS * 200));

test("a reconnection cut in the middle of its resume is retried by one connection, not two (PP-SES-014)", async () => {
  const link = await LinkProxy.open(target, "single-flight");
  const client = await PeerClient.connect({ url: link.rewrite(server.url), entityId: "chaos-single-flight", reconnect: { initialDelayMs: 5, maxDelayMs: 50 } });
  const attempts: number[] = [];
  client.on("reconnecting", ({ attempt }: { attempt: number }) => attempts.push(attempt));
  try {
    link.resetAll();
    // The next connection is cut inside SESSION_RESUME_ACK, just after the 129-byte "101 Switching
    // Protocols" answer: the WebSocket was open, so both its close and the failed attempt report it.
    void link.armCut("down", 140);
    await expect.poll(() => client.connected && link.stats.cuts === 1, { timeout: 5_000, interval: 5 }).toBe(true);
    await sleep(100); // a second, parallel attempt would have connected by now
    expect(attempts).toEqual([1, 2]);
    expect(link.stats.connections).toBe(3);
  } finally {
    await client.close();
    await link.close();
  }
});
