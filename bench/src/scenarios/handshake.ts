/**
 * Handshake rate: full six-step handshakes per second (spec §6) at increasing concurrency. Each slot
 * loops: open `/ws/v1/peers`, HANDSHAKE_INIT .. READY, BYE and close. The latency is connect plus
 * handshake; `connect` and `handshake` are also reported apart.
 *
 * Raw baseline: the same slots open a raw `ws` connection, make three round trips with frames of the
 * sizes the initiator sends (INIT, CHALLENGE_RESPONSE, SESSION_CONFIRM) and close.
 */
import { epochMs, sleep, sleepUntil, windowBounds, type Window } from "../load/clock.ts";
import { batchedSend, openWebSocket, PeerLink, wsUrlOf } from "../load/peer-link.ts";
import { benchIdentity } from "../load/identity.ts";
import { split } from "../load/pool.ts";
import { Tally, type JobResult } from "../load/tally.ts";
import type { Sample } from "../report-schema.ts";
import { measurement, progress, runWindowed, toSample, windowFor, workersFor, type Scenario, type ScenarioContext, type Side } from "./scenario.ts";

// ---------------------------------------------------------------------------------------------
// Worker side
// ---------------------------------------------------------------------------------------------

interface HandshakeParams {
  side: Side;
  url: string;
  slots: number;
  entityPrefix: string;
  /** Raw baseline: the sizes of the frames to echo, one round trip each. */
  frameSizes: number[];
  window: Window;
}

/** Opens a raw `/echo` connection and makes one round trip per frame, in order. */
export async function rawRoundTrips(url: string, frames: string[], timeoutMs = 10_000): Promise<{ connectMs: number; exchangeMs: number; ws: import("ws").WebSocket }> {
  const t0 = epochMs();
  const ws = await openWebSocket(wsUrlOf(url, "/echo"), timeoutMs);
  const t1 = epochMs();
  for (const frame of frames) {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("raw echo timed out")), timeoutMs);
      ws.once("message", () => {
        clearTimeout(timer);
        resolve();
      });
      batchedSend(ws, frame);
    });
  }
  return { connectMs: t1 - t0, exchangeMs: epochMs() - t1, ws };
}

async function handshakeRun(params: HandshakeParams): Promise<JobResult> {
  const tally = new Tally();
  const { from, to } = windowBounds(params.window);
  const frames = params.frameSizes.map((size) => JSON.stringify({ p: "x".repeat(Math.max(0, size - 8)) }));
  // A distinct client per slot, as distinct peers would be; the same key for the same id on every run.
  const identities = Array.from({ length: params.slots }, (_, i) => benchIdentity(`${params.entityPrefix}-${i}`));
  const slot = async (i: number) => {
    const identity = identities[i] as ReturnType<typeof benchIdentity>;
    while (epochMs() < to) {
      const start = epochMs();
      try {
        if (params.side === "peer") {
          const { link, connectMs, handshakeMs } = await PeerLink.connect({ baseUrl: params.url, entityId: `${params.entityPrefix}-${i}`, identity });
          link.close();
          const end = epochMs();
          if (end >= from && end < to) {
            tally.operations++;
            tally.latency.recordMs(end - start);
            tally.other("connect").recordMs(connectMs);
            tally.other("handshake").recordMs(handshakeMs);
          }
        } else {
          const { ws, connectMs, exchangeMs } = await rawRoundTrips(params.url, frames);
          ws.close();
          const end = epochMs();
          if (end >= from && end < to) {
            tally.operations++;
            tally.latency.recordMs(end - start);
            tally.other("connect").recordMs(connectMs);
            tally.other("handshake").recordMs(exchangeMs);
          }
        }
      } catch (error) {
        const message = (error as Error).message;
        if (start >= from && start < to) {
          if (message.startsWith("CONNECT_FAILED")) tally.connectionFailure(message);
          else if (message.startsWith("TIMEOUT")) {
            tally.timeouts++;
            tally.note(message);
          } else tally.error(message);
        }
        await sleep(5); // do not spin on a refusing server
      }
    }
  };
  await sleepUntil(params.window.startAt);
  await Promise.all(Array.from({ length: params.slots }, (_, i) => slot(i)));
  return tally.result();
}

export const handshakeJobs = { "handshake.run": handshakeRun };

// ---------------------------------------------------------------------------------------------
// Main side
// ---------------------------------------------------------------------------------------------

async function measureSide(context: ScenarioContext, side: Side, concurrency: number, frameSizes: number[]): Promise<Sample> {
  const { pool, options } = context;
  const endpoint = side === "peer" ? context.peer : context.raw;
  const workers = workersFor(pool, concurrency);
  const slots = split(concurrency, workers.length);
  const merged = await runWindowed(pool, "handshake.run", windowFor(options, options.durationS, 10_000), workers, (worker, i) => ({ side, url: endpoint.url, slots: slots[i], entityPrefix: `bench-hs-w${worker}-c${concurrency}`, frameSizes }), endpoint.pid);
  return toSample(merged);
}

export function concurrencyLevels(connections: number, quick: boolean): number[] {
  const levels = quick ? [1, connections] : [1, 4, connections, connections * 4];
  return [...new Set(levels.map((n) => Math.max(1, Math.min(256, n))))].sort((a, b) => a - b);
}

export const handshakeScenario: Scenario = {
  name: "handshake",
  title: "Handshake rate",
  description: "Full six-step handshakes per second (open /ws/v1/peers, HANDSHAKE_INIT .. READY, BYE, close) at increasing concurrency. Raw baseline: open a raw ws connection, three round trips with frames of the initiator's handshake sizes, close.",
  async run(context, outcome) {
    // One probe handshake gives the sizes of the initiator's three frames for the raw baseline.
    const probe = await PeerLink.connect({ baseUrl: context.peer.url, entityId: "bench-hs-probe", identity: benchIdentity("bench-hs-probe") });
    const frameSizes = probe.link.handshakeFrameSizes.slice(0, 3);
    probe.link.close();
    outcome.notes.push(`Raw baseline frames: ${frameSizes.join(", ")} bytes (the initiator's HANDSHAKE_INIT, CHALLENGE_RESPONSE and SESSION_CONFIRM).`);
    outcome.notes.push("Each handshake uses a fixed entity id and identity per slot, so the server's identity bindings do not grow with the run.");
    for (const concurrency of concurrencyLevels(context.options.connections, context.options.quick)) {
      const peer = await measureSide(context, "peer", concurrency, frameSizes);
      const raw = await measureSide(context, "raw", concurrency, frameSizes);
      const label = `${concurrency} concurrent handshake${concurrency === 1 ? "" : "s"}`;
      progress(context, label, peer, raw, " hs/s");
      outcome.measurements.push(measurement(`handshake-c${concurrency}`, label, { concurrency }, peer, raw));
    }
  },
};
