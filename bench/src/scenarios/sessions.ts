/**
 * Concurrent sessions: ramp to N established sessions (10,000 at full size), hold them with
 * heartbeats (each session sends a PING record every few seconds and times the PONG), and read the
 * server's RSS before the ramp and at the end of the hold: (after - before) / sessions is the
 * server's memory per session. Connect and handshake percentiles come from the ramp.
 *
 * Raw baseline: N raw `ws` connections held the same way (a small echo frame as heartbeat), and
 * the raw server's RSS per connection.
 */
import { epochMs, sleep } from "../load/clock.ts";
import { batchedSend, openWebSocket, PeerLink, wsUrlOf } from "../load/peer-link.ts";
import { benchIdentity } from "../load/identity.ts";
import { split } from "../load/pool.ts";
import { Tally, mergeResults, type JobResult } from "../load/tally.ts";
import { CpuMeter, rssBytes } from "../proc.ts";
import type { Sample } from "../report-schema.ts";
import { measurement, ratio, toSample, type Merged, type Scenario, type ScenarioContext, type Side } from "./scenario.ts";

// ---------------------------------------------------------------------------------------------
// Worker side
// ---------------------------------------------------------------------------------------------

interface Held {
  ping(id: string): void;
  close(): void;
  alive(): boolean;
}

interface Hold {
  held: Held[];
  pings: Map<string, number>;
  tally: Tally | undefined;
}

const holds = new Map<string, Hold>();
const HEARTBEAT = '{"type":"PING"}';

interface OpenParams {
  tag: string;
  side: Side;
  url: string;
  count: number;
  concurrency: number;
  entityPrefix: string;
  /** Give up opening more after this epoch time (the run is bounded in time). */
  deadline: number;
}

async function openSessions(params: OpenParams): Promise<JobResult> {
  const tally = new Tally();
  const hold: Hold = { held: [], pings: new Map(), tally: undefined };
  holds.set(params.tag, hold);
  const identity = benchIdentity("bench-sessions"); // one key for every session entity: the server still binds each id
  const onPong = (id: string) => {
    const sent = hold.pings.get(id);
    if (sent === undefined) return;
    hold.pings.delete(id);
    if (hold.tally) {
      hold.tally.operations++;
      hold.tally.latency.recordMs(epochMs() - sent);
    }
  };
  let next = 0;
  const opener = async () => {
    while (next < params.count && epochMs() < params.deadline) {
      const i = next++;
      const start = epochMs();
      try {
        if (params.side === "peer") {
          const { link, connectMs, handshakeMs } = await PeerLink.connect({ baseUrl: params.url, entityId: `${params.entityPrefix}-${i}`, identity, timeoutMs: 20_000 });
          link.handlers = { onPong, onClose: () => hold.tally?.error("session closed during the hold"), onError: (code, message) => hold.tally?.error(`${code}: ${message}`) };
          hold.held.push({ ping: (id) => link.ping(id), close: () => link.terminate(), alive: () => link.ready });
          tally.other("connect").recordMs(connectMs);
          tally.other("handshake").recordMs(handshakeMs);
        } else {
          const ws = await openWebSocket(wsUrlOf(params.url, "/echo"), 20_000);
          const pending: string[] = [];
          ws.on("message", () => {
            const id = pending.shift();
            if (id !== undefined) onPong(id);
          });
          ws.on("close", () => hold.tally?.error("raw connection closed during the hold"));
          hold.held.push({
            ping: (id) => {
              pending.push(id);
              batchedSend(ws, HEARTBEAT);
            },
            close: () => {
              ws.removeAllListeners("close");
              ws.terminate();
            },
            alive: () => ws.readyState === ws.OPEN,
          });
          tally.other("connect").recordMs(epochMs() - start);
        }
        tally.operations++;
        tally.latency.recordMs(epochMs() - start);
      } catch (error) {
        tally.connectionFailure((error as Error).message);
      }
    }
  };
  await Promise.all(Array.from({ length: params.concurrency }, opener));
  tally.extra.established = hold.held.length;
  return tally.result();
}

/** Every session sends a heartbeat each `intervalMs`, phases spread evenly; PONG round trips are timed. */
async function holdSessions(params: { tag: string; durationMs: number; intervalMs: number }): Promise<JobResult> {
  const hold = holds.get(params.tag);
  if (!hold) throw new Error(`no sessions ${params.tag}`);
  const tally = new Tally();
  hold.tally = tally;
  const n = hold.held.length;
  const start = epochMs();
  const end = start + params.durationMs;
  let counter = 0;
  // A ticker every 10 ms sends the heartbeats that fell due, round-robin over the sessions.
  await new Promise<void>((resolve) => {
    let sent = 0;
    const tick = () => {
      const now = epochMs();
      const due = Math.min(Math.floor(((now - start) / params.intervalMs) * n), Math.floor((params.durationMs / params.intervalMs) * n));
      while (sent < due) {
        const held = hold.held[sent % n] as Held;
        if (held.alive()) {
          const id = `hb${counter++}`;
          hold.pings.set(id, epochMs());
          held.ping(id);
        }
        sent++;
      }
      if (now >= end) resolve();
      else setTimeout(tick, 10);
    };
    if (n === 0) resolve();
    else tick();
  });
  await sleep(Math.min(2_000, params.intervalMs));
  tally.timeouts = hold.pings.size;
  hold.pings.clear();
  hold.tally = undefined;
  tally.extra.alive = hold.held.filter((h) => h.alive()).length;
  return tally.result();
}

async function closeSessions(params: { tag: string }): Promise<void> {
  const hold = holds.get(params.tag);
  holds.delete(params.tag);
  for (const held of hold?.held ?? []) held.close();
}

export const sessionsJobs = { "sessions.open": openSessions, "sessions.hold": holdSessions, "sessions.close": closeSessions };

// ---------------------------------------------------------------------------------------------
// Main side
// ---------------------------------------------------------------------------------------------

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

async function sampleRss(pid: number | null, samples = 3, gapMs = 150): Promise<number | null> {
  if (pid === null) return null;
  const values: number[] = [];
  for (let i = 0; i < samples; i++) {
    const v = rssBytes(pid);
    if (v !== null) values.push(v);
    if (i < samples - 1) await sleep(gapMs);
  }
  return values.length > 0 ? median(values) : null;
}

interface SideResult {
  ramp: Sample;
  hold: Sample;
  established: number;
  rssPerSession: number | null;
}

async function measureSide(context: ScenarioContext, side: Side, count: number, tag: string): Promise<SideResult> {
  const { pool, options } = context;
  const endpoint = side === "peer" ? context.peer : context.raw;
  const workers = Array.from({ length: pool.size }, (_, i) => i);
  const perWorker = split(count, workers.length);
  const concurrency = 32;
  const rampBudgetMs = options.quick ? 30_000 : 120_000;
  // Warm up the server's code paths so the baseline RSS already includes compiled code.
  const warm = `${tag}-warm`;
  await pool.call(0, "sessions.open", { tag: warm, side, url: endpoint.url, count: Math.min(options.quick ? 50 : 200, count), concurrency: 16, entityPrefix: `bench-warm-${tag}`, deadline: epochMs() + 20_000 } satisfies OpenParams);
  await pool.call(0, "sessions.close", { tag: warm });
  await sleep(500);
  const before = await sampleRss(endpoint.pid);

  const meter = new CpuMeter(endpoint.pid);
  const t0 = epochMs();
  const opened = await Promise.all(workers.map((worker, i) => pool.call<JobResult>(worker, "sessions.open", { tag, side, url: endpoint.url, count: perWorker[i] ?? 0, concurrency, entityPrefix: `bench-s-w${worker}-${tag}`, deadline: t0 + rampBudgetMs } satisfies OpenParams)));
  const rampMs = epochMs() - t0;
  const rampCpu = meter.read();
  const ramp: Merged = { ...mergeResults(opened), cpu: { client: rampCpu.client, server: rampCpu.server, otherPercentOfCore: rampCpu.otherPercentOfCore }, durationMs: rampMs, workersUsed: workers.length, workerBusyPercent: [] };
  const established = ramp.extra.established ?? 0;

  const holdMs = Math.round((options.quick ? 1 : 10) * 1000);
  const intervalMs = options.quick ? 500 : 5_000;
  meter.restart();
  const rssDuringHold: number[] = [];
  const sampler = setInterval(() => {
    const v = endpoint.pid === null ? null : rssBytes(endpoint.pid);
    if (v !== null) rssDuringHold.push(v);
  }, 250);
  let held: JobResult[];
  try {
    held = await Promise.all(workers.map((worker) => pool.call<JobResult>(worker, "sessions.hold", { tag, durationMs: holdMs, intervalMs })));
  } finally {
    clearInterval(sampler);
  }
  const after = rssDuringHold.length > 0 ? median(rssDuringHold.slice(-Math.max(1, Math.floor(rssDuringHold.length / 2)))) : await sampleRss(endpoint.pid);
  const holdCpu = meter.read();
  const hold: Merged = { ...mergeResults(held), cpu: { client: holdCpu.client, server: holdCpu.server, otherPercentOfCore: holdCpu.otherPercentOfCore }, durationMs: holdCpu.wallMs, workersUsed: workers.length, workerBusyPercent: [] };
  await Promise.all(workers.map((worker) => pool.call(worker, "sessions.close", { tag })));
  await sleep(500); // let both ends release the sockets before the next ramp

  const rssPerSession = before !== null && after !== null && established > 0 ? Math.round((after - before) / established) : null;
  const rampSample = toSample(ramp);
  rampSample.extra = { sessionsRequested: count, sessionsEstablished: established, rampMs: Math.round(rampMs), ...(before !== null ? { rssBeforeBytes: before } : {}), ...(after !== null ? { rssAfterBytes: after } : {}), ...(rssPerSession !== null ? { rssPerSessionBytes: rssPerSession } : {}) };
  const holdSample = toSample(hold);
  holdSample.extra = { ...holdSample.extra, sessionsEstablished: established, heartbeatIntervalMs: intervalMs, ...(rssPerSession !== null ? { rssPerSessionBytes: rssPerSession } : {}) };
  return { ramp: rampSample, hold: holdSample, established, rssPerSession };
}

export const sessionsScenario: Scenario = {
  name: "sessions",
  title: "Concurrent sessions",
  description: "Ramp to N established sessions (32 handshakes in flight per worker), hold them with heartbeats (a PING record per session every few seconds, PONG timed), and measure the server's RSS per session: (VmRSS at the end of the hold - VmRSS before the ramp) / sessions. Raw baseline: N raw ws connections held with an echo heartbeat; raw server RSS per connection.",
  async run(context, outcome) {
    const count = context.options.sessions;
    if (context.peer.pid === null) outcome.notes.push("The server's pid is unknown (explicit target without --server-pid): RSS per session is not measured.");
    outcome.notes.push("RSS is sampled from /proc/<pid>/status (VmRSS) of the server process; it includes allocator slack and garbage not yet collected, so it is an upper bound of live memory per session.");
    const peer = await measureSide(context, "peer", count, "peer");
    const raw = await measureSide(context, "raw", count, "raw");
    const fmt = (r: SideResult) => `${r.established} up in ${r.ramp.extra.rampMs} ms (${Math.round(r.ramp.throughputPerSec)}/s), RSS/session ${r.rssPerSession ?? "-"} B, heartbeat p99 ${r.hold.latencyMs?.p99 ?? "-"} ms`;
    context.log(`sessions: peer ${fmt(peer)} | raw ${fmt(raw)}`);
    outcome.measurements.push(measurement("sessions-ramp", `Ramp to ${count} sessions (connect + handshake)`, { sessions: count }, peer.ramp, raw.ramp, { rssPerSession: ratio(peer.rssPerSession, raw.rssPerSession) }));
    outcome.measurements.push(measurement("sessions-hold", `Hold ${peer.established} sessions with heartbeats (PING record round trip)`, { sessions: count, heartbeatIntervalMs: peer.hold.extra.heartbeatIntervalMs ?? 0 }, peer.hold, raw.hold, { rssPerSession: ratio(peer.rssPerSession, raw.rssPerSession) }));
  },
};
