/**
 * Fan-out: one BROADCAST record (spec §15) from a peer session, delivered as an EVENT to N
 * subscribers on `/ws/v1/events`. One broadcast is in flight at a time: the next one goes when every
 * subscriber has its EVENT. Latency is per delivery (publish to each subscriber's receipt);
 * `completion` is publish to the last receipt. Throughput counts deliveries per second.
 *
 * Raw baseline: a raw `ws` publisher whose frames (same content size) the raw server forwards to N
 * raw subscribers.
 */
import type { WebSocket } from "ws";
import { plaintextEnvelope } from "../../../reference/src/envelope.ts";
import { epochMs, sleepUntil, windowBounds, type Window } from "../load/clock.ts";
import { batchedSend, openWebSocket, PeerLink, wsUrlOf } from "../load/peer-link.ts";
import { benchIdentity } from "../load/identity.ts";
import { Tally, type JobResult } from "../load/tally.ts";
import { formatBytes, referenceSize } from "../options.ts";
import { measurement, progress, runWindowed, toSample, windowFor, type Scenario, type Side } from "./scenario.ts";

const CHANNEL = "bench.fanout";

// ---------------------------------------------------------------------------------------------
// Worker side
// ---------------------------------------------------------------------------------------------

interface SetupParams {
  side: Side;
  url: string;
  subscribers: number;
  size: number;
}

interface Group {
  side: Side;
  subscribers: WebSocket[];
  failures: string[];
  publish(i: number): void;
  close(): void;
  onError?: (message: string) => void;
}

let group: Group | undefined;

function firstMessage(ws: WebSocket, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("TIMEOUT: no answer to SUBSCRIBE")), timeoutMs);
    ws.once("message", (data: Buffer) => {
      clearTimeout(timer);
      resolve(data.toString());
    });
  });
}

async function subscribe(side: Side, url: string, index: number): Promise<WebSocket> {
  const ws = await openWebSocket(wsUrlOf(url, side === "peer" ? "/ws/v1/events" : "/events"), 10_000);
  ws.on("error", () => {});
  const answer = firstMessage(ws, 10_000);
  const request = side === "peer" ? JSON.stringify(plaintextEnvelope({ type: "SUBSCRIBE", version: "1.2", sender_id: `bench-sub-${index}`, timestamp: Date.now(), payload: { channels: [CHANNEL] } })) : '{"type":"SUBSCRIBE"}';
  ws.send(request);
  const text = await answer;
  if (side === "peer" && (JSON.parse(text) as { type?: string }).type !== "SUBSCRIBED") throw new Error(`SUBSCRIBE answered ${text.slice(0, 120)}`);
  return ws;
}

async function fanoutSetup(params: SetupParams): Promise<void> {
  const subscribers: WebSocket[] = [];
  const failures: string[] = [];
  for (let i = 0; i < params.subscribers; i += 50) {
    const batch = await Promise.allSettled(Array.from({ length: Math.min(50, params.subscribers - i) }, (_, k) => subscribe(params.side, params.url, i + k)));
    for (const result of batch) {
      if (result.status === "fulfilled") subscribers.push(result.value);
      else failures.push((result.reason as Error).message);
    }
  }
  const pad = "x".repeat(params.size);
  if (params.side === "peer") {
    const { link } = await PeerLink.connect({ baseUrl: params.url, entityId: "bench-publisher", identity: benchIdentity("bench-publisher") });
    const g: Group = { side: "peer", subscribers, failures, publish: (i) => link.sendData("BROADCAST", { channel: CHANNEL, content: { i, p: pad } }, undefined), close: () => link.close() };
    link.handlers = { onError: (code, message) => g.onError?.(`${code}: ${message}`) };
    group = g;
  } else {
    const ws = await openWebSocket(wsUrlOf(params.url, "/publish"), 10_000);
    ws.on("error", () => {});
    group = { side: "raw", subscribers, failures, publish: (i) => batchedSend(ws, JSON.stringify({ i, p: pad })), close: () => ws.close() };
  }
}

async function fanoutTeardown(): Promise<void> {
  group?.close();
  for (const ws of group?.subscribers ?? []) ws.terminate();
  group = undefined;
}

async function fanoutRun(params: { window: Window }): Promise<JobResult> {
  const g = group;
  if (!g) throw new Error("fanout.setup first");
  const tally = new Tally();
  for (const failure of g.failures) tally.connectionFailure(failure);
  g.onError = (message) => tally.error(message);
  const { from, to } = windowBounds(params.window);
  const completion = tally.other("completion");
  const subscribers = g.subscribers;
  const side = g.side;
  const publish = g.publish;

  let current = -1;
  let sentAt = 0;
  let received = 0;
  let done: () => void = () => {};
  subscribers.forEach((ws, index) => {
    ws.on("message", (data: Buffer) => {
      const now = epochMs();
      if (index === 0) {
        // One subscriber checks what arrives: an EVENT carrying the current broadcast.
        const frame = JSON.parse(data.toString()) as { type?: string; payload?: { content?: { i?: number } }; i?: number };
        const i = side === "peer" ? (frame.type === "EVENT" ? frame.payload?.content?.i : undefined) : frame.i;
        if (i !== current) tally.error(`subscriber got ${frame.type ?? "a frame"} for broadcast ${String(i)} while ${current} was current`);
      }
      if (sentAt >= from && sentAt < to) {
        tally.operations++;
        tally.latency.recordMs(now - sentAt);
      }
      if (++received === subscribers.length) done();
    });
  });

  await sleepUntil(params.window.startAt);
  let broadcasts = 0;
  while (subscribers.length > 0 && epochMs() < to) {
    current++;
    received = 0;
    const all = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 5_000);
      done = () => {
        clearTimeout(timer);
        resolve(true);
      };
    });
    sentAt = epochMs();
    publish(current);
    const complete = await all;
    if (sentAt >= from && sentAt < to) {
      broadcasts++;
      if (complete) completion.recordMs(epochMs() - sentAt);
      else {
        tally.timeouts += subscribers.length - received;
        tally.note(`broadcast ${current}: ${received} of ${subscribers.length} subscribers got it within 5 s`);
      }
    }
  }
  tally.extra.broadcasts = broadcasts;
  tally.extra.subscribers = subscribers.length;
  for (const ws of subscribers) ws.removeAllListeners("message");
  g.onError = undefined;
  return tally.result();
}

export const fanoutJobs = { "fanout.setup": fanoutSetup, "fanout.run": fanoutRun, "fanout.teardown": fanoutTeardown };

// ---------------------------------------------------------------------------------------------
// Main side
// ---------------------------------------------------------------------------------------------

export const fanoutScenario: Scenario = {
  name: "fanout",
  title: "Fan-out",
  description: "One BROADCAST record from a peer session delivered as EVENT to N subscribers on /ws/v1/events, one broadcast in flight at a time. Latency per delivery; completion = publish to last receipt. Raw baseline: a raw publisher frame forwarded by a raw ws server to N raw subscribers.",
  async run(context, outcome) {
    const { options, pool } = context;
    const size = Math.min(referenceSize(options), 16_384);
    const counts = options.quick ? [100] : [10, 100, 1000];
    outcome.notes.push(`Content ${formatBytes(size)}; publisher and subscribers run in one worker thread, so per-delivery latencies share one clock.`);
    for (const subscribers of counts) {
      const run = async (side: Side) => {
        const endpoint = side === "peer" ? context.peer : context.raw;
        await pool.call(0, "fanout.setup", { side, url: endpoint.url, subscribers, size } satisfies SetupParams);
        try {
          return toSample(await runWindowed(pool, "fanout.run", windowFor(options, options.durationS, 6_000), [0], () => ({}), endpoint.pid));
        } finally {
          await pool.call(0, "fanout.teardown", {});
        }
      };
      const peer = await run("peer");
      const raw = await run("raw");
      const label = `1 publisher -> ${subscribers} subscribers, ${formatBytes(size)}`;
      progress(context, label, peer, raw, " deliveries/s");
      outcome.measurements.push(measurement(`fanout-${subscribers}`, label, { subscribers, payloadBytes: size }, peer, raw));
    }
  },
};
