/**
 * Resume: reconnect-and-resume latency (spec §8: drop the socket, reconnect with `?session_id=`,
 * SESSION_RESUME -> SESSION_RESUME_ACK READY, fresh keys) against a full six-step handshake measured
 * in the same loop. After every resume one echo proves the session works under the new keys.
 *
 * Raw baseline: reconnect plus one round trip (the resume's shape) and connect plus three round
 * trips (the handshake's shape), with frames of the same sizes.
 */
import { epochMs, sleep, sleepUntil, windowBounds, type Window } from "../load/clock.ts";
import { PeerLink } from "../load/peer-link.ts";
import { benchIdentity } from "../load/identity.ts";
import { split } from "../load/pool.ts";
import { Tally, type JobResult } from "../load/tally.ts";
import type { Sample } from "../report-schema.ts";
import { rawRoundTrips } from "./handshake.ts";
import { measurement, progress, ratio, runWindowed, toSample, windowFor, workersFor, type Merged, type Scenario, type ScenarioContext, type Side } from "./scenario.ts";

// ---------------------------------------------------------------------------------------------
// Worker side
// ---------------------------------------------------------------------------------------------

interface ResumeParams {
  side: Side;
  url: string;
  serverId: string;
  slots: number;
  entityPrefix: string;
  /** Raw baseline frame sizes: [resume frame], [three handshake frames]. */
  resumeFrameSize: number;
  handshakeFrameSizes: number[];
  window: Window;
}

function echoOnce(link: PeerLink, serverId: string, timeoutMs = 5_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("TIMEOUT: echo after resume")), timeoutMs);
    link.handlers = {
      onData: (type, inner) => {
        if (type !== "TASK_RESPONSE") return;
        clearTimeout(timer);
        if ((inner as { status?: string }).status === "ok") resolve();
        else reject(new Error("echo after resume failed"));
      },
      onError: (code, message) => {
        clearTimeout(timer);
        reject(new Error(`${code}: ${message}`));
      },
    };
    link.sendData("TASK_REQUEST", { task_id: `r${Math.floor(epochMs())}`, action: "echo", params: { p: "resumed" } }, serverId);
  });
}

async function resumeRun(params: ResumeParams): Promise<JobResult> {
  const tally = new Tally();
  const { from, to } = windowBounds(params.window);
  const inWindow = (t: number) => t >= from && t < to;
  const resumeFrame = [JSON.stringify({ p: "x".repeat(Math.max(0, params.resumeFrameSize - 8)) })];
  const handshakeFrames = params.handshakeFrameSizes.map((size) => JSON.stringify({ p: "x".repeat(Math.max(0, size - 8)) }));
  const fail = (start: number, error: unknown) => {
    if (!inWindow(start)) return;
    const message = (error as Error).message;
    if (message.startsWith("CONNECT_FAILED")) tally.connectionFailure(message);
    else if (message.startsWith("TIMEOUT")) {
      tally.timeouts++;
      tally.note(message);
    } else tally.error(message);
  };
  const slot = async (i: number) => {
    const entityId = `${params.entityPrefix}-${i}`;
    const identity = benchIdentity(entityId);
    let link: PeerLink | undefined;
    if (params.side === "peer") link = (await PeerLink.connect({ baseUrl: params.url, entityId, identity })).link;
    await sleepUntil(params.window.startAt);
    while (epochMs() < to) {
      // 1. Reconnect and resume (or the raw reconnect + one round trip).
      let start = epochMs();
      try {
        if (link) {
          link.drop();
          const { connectMs, resumeMs } = await link.resume();
          const end = epochMs();
          if (inWindow(end)) {
            tally.operations++;
            tally.latency.recordMs(end - start);
            tally.other("resumeConnect").recordMs(connectMs);
            tally.other("resumeExchange").recordMs(resumeMs);
          }
          await echoOnce(link, params.serverId);
        } else {
          const { ws, connectMs, exchangeMs } = await rawRoundTrips(params.url, resumeFrame);
          ws.close();
          const end = epochMs();
          if (inWindow(end)) {
            tally.operations++;
            tally.latency.recordMs(end - start);
            tally.other("resumeConnect").recordMs(connectMs);
            tally.other("resumeExchange").recordMs(exchangeMs);
          }
        }
      } catch (error) {
        fail(start, error);
        if (link && !link.ready) link = (await PeerLink.connect({ baseUrl: params.url, entityId, identity }).catch(() => undefined))?.link;
        await sleep(5);
        continue;
      }
      // 2. A full handshake on a second entity, for comparison in the same conditions.
      start = epochMs();
      try {
        if (params.side === "peer") {
          const full = await PeerLink.connect({ baseUrl: params.url, entityId: `${entityId}-full`, identity });
          full.link.close();
        } else {
          (await rawRoundTrips(params.url, handshakeFrames)).ws.close();
        }
        const end = epochMs();
        if (inWindow(end)) tally.other("fullHandshake").recordMs(end - start);
      } catch (error) {
        fail(start, error);
        await sleep(5);
      }
    }
    link?.close();
  };
  await Promise.all(Array.from({ length: params.slots }, (_, i) => slot(i)));
  return tally.result();
}

export const resumeJobs = { "resume.run": resumeRun };

// ---------------------------------------------------------------------------------------------
// Main side
// ---------------------------------------------------------------------------------------------

async function measureSide(context: ScenarioContext, side: Side, slots: number, sizes: { resume: number; handshake: number[] }): Promise<Merged> {
  const { pool, options } = context;
  const endpoint = side === "peer" ? context.peer : context.raw;
  const workers = workersFor(pool, slots);
  const perWorker = split(slots, workers.length);
  return runWindowed(
    pool,
    "resume.run",
    windowFor(options, options.durationS, 10_000),
    workers,
    (worker, i) => ({ side, url: endpoint.url, serverId: context.peer.serverId, slots: perWorker[i] ?? 0, entityPrefix: `bench-res-w${worker}`, resumeFrameSize: sizes.resume, handshakeFrameSizes: sizes.handshake }) satisfies Omit<ResumeParams, "window">,
    endpoint.pid,
  );
}

export const resumeScenario: Scenario = {
  name: "resume",
  title: "Resume",
  description: "Reconnect-and-resume latency (drop the socket, reconnect with ?session_id=, SESSION_RESUME -> READY, then one echo under the new keys) against a full six-step handshake timed in the same loop. Raw baseline: reconnect + 1 round trip, and connect + 3 round trips.",
  async run(context, outcome) {
    const probe = await PeerLink.connect({ baseUrl: context.peer.url, entityId: "bench-res-probe", identity: benchIdentity("bench-res-probe") });
    const handshake = probe.link.handshakeFrameSizes.slice(0, 3);
    probe.link.drop();
    await probe.link.resume();
    const sizes = { resume: probe.link.resumeFrameSize, handshake };
    probe.link.close();
    outcome.notes.push(`Raw baseline frames: ${sizes.resume} bytes (SESSION_RESUME) for the resume shape; ${handshake.join(", ")} bytes for the handshake shape.`);
    const slots = context.options.quick ? 2 : 4;
    outcome.notes.push(`${slots} slots in a loop; the resume latency includes the new TCP connection and WebSocket upgrade, like the full handshake's.`);
    const peer = await measureSide(context, "peer", slots, sizes);
    const raw = await measureSide(context, "raw", slots, sizes);
    const peerResume = toSample(peer);
    const rawResume = toSample(raw);
    const full = (m: Merged): Sample => {
      const histogram = m.others.get("fullHandshake") ?? null;
      return { ...toSample(m, histogram?.count ?? 0, histogram), otherLatenciesMs: {} };
    };
    const peerFull = full(peer);
    const rawFull = full(raw);
    progress(context, "resume", peerResume, rawResume, " resumes/s");
    progress(context, "full handshake (same loop)", peerFull, rawFull, " hs/s");
    outcome.measurements.push(measurement("resume", "Reconnect and resume (SESSION_RESUME -> READY)", { slots }, peerResume, rawResume, { resumeOverFullHandshakeP50: ratio(peerResume.latencyMs?.p50, peerFull.latencyMs?.p50), resumeOverFullHandshakeP99: ratio(peerResume.latencyMs?.p99, peerFull.latencyMs?.p99) }));
    outcome.measurements.push(measurement("resume-full-handshake", "Full handshake in the same loop (for comparison)", { slots }, peerFull, rawFull));
  },
};
