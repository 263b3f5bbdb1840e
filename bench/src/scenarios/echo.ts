/**
 * Encrypted echo: round trips of TASK_REQUEST `echo` (PP-DLV-009) and of PEER_MESSAGE addressed to
 * oneself (routed back by the server, PP-DLV-006) through an established session, over 1 and N
 * connections and several payload sizes (those over max_chunk_bytes travel as CHUNKED_MESSAGE).
 *
 * - closed loop: each connection keeps a fixed number of requests in flight (1, or pipelined);
 *   the throughput is the maximum rate.
 * - open loop: requests are due at fixed intervals whatever the answers do, and latency is measured
 *   from the time each request was DUE, not sent, so a stalled server cannot hide its queueing
 *   (coordinated omission). Rates are fractions of the closed-loop maximum measured just before.
 *
 * Three baselines get the identical pattern (same connections, in-flight count or due times), in the
 * same run (issue 15):
 * - raw `ws`: JSON text frames with the same payload size, echoed by a raw `ws` server;
 * - the protocol floor: the same inner payload sealed in an envelope of a record's shape, opened and
 *   sealed back by the server, opened by the client (`baseline/floor.ts`): the least work an
 *   encrypted JSON echo can do, with the reference's crypto;
 * - Socket.IO: an `echo` event with the same payload, answered through its acknowledgement.
 */
import { FloorRequester } from "../baseline/floor.ts";
import { ECHO_EVENT } from "../baseline/socketio-echo-server.ts";
import { blockFor, epochMs, sleepUntil, windowBounds, type Window } from "../load/clock.ts";
import { batchedSend, openWebSocket, PeerLink, wsUrlOf } from "../load/peer-link.ts";
import { benchIdentity } from "../load/identity.ts";
import { split } from "../load/pool.ts";
import { Tally, type JobResult } from "../load/tally.ts";
import { formatBytes, referenceSize } from "../options.ts";
import type { Measurement, Sample } from "../report-schema.ts";
import { measurement, progress, ratio, runWindowed, toSample, windowFor, workersFor, type Endpoint, type Scenario, type ScenarioContext, type Side } from "./scenario.ts";

type EchoKind = "task" | "message";

/** The longest an open-loop worker sleeps between two polls of its sockets near due times. */
const POLL_SLICE_MS = 0.05;
type LoopMode = "closed" | "open";

// ---------------------------------------------------------------------------------------------
// Worker side
// ---------------------------------------------------------------------------------------------

interface EchoConn {
  /** Sends one request that was due at `due` (epoch ms). */
  send(due: number): void;
  pending(): number;
  readonly backlog: number[];
  close(): void;
}

interface RunHooks {
  complete(conn: EchoConn, due: number, ok: boolean): void;
  tally: Tally;
}

interface EchoGroup {
  conns: EchoConn[];
  run: RunHooks | undefined;
  setupFailures: string[];
}

const groups = new Map<string, EchoGroup>();

class PeerEchoConn implements EchoConn {
  readonly backlog: number[] = [];
  private readonly waiting = new Map<string, number>();
  private counter = 0;
  private readonly payload: { p: string };
  private readonly chunked: boolean;

  constructor(
    private readonly link: PeerLink,
    private readonly group: EchoGroup,
    private readonly kind: EchoKind,
    private readonly size: number,
    private readonly serverId: string,
  ) {
    this.payload = { p: "x".repeat(size) };
    this.chunked = size + 64 > link.chunkBytes;
    link.handlers = {
      onData: (type, inner, messageId) => this.onData(type, inner, messageId),
      onError: (code, message) => group.run?.tally.error(`${code}: ${message}`),
      onClose: (code, reason) => group.run?.tally.error(`connection closed ${code} ${reason}`),
    };
  }

  send(due: number): void {
    if (!this.link.ready) return;
    if (this.kind === "task") {
      const taskId = `t${this.counter++}`;
      this.waiting.set(taskId, due);
      this.link.sendData("TASK_REQUEST", { task_id: taskId, action: "echo", params: this.payload }, this.serverId, this.chunked);
    } else {
      this.waiting.set(this.link.sendData("PEER_MESSAGE", { content: this.payload }, this.link.entityId, this.chunked), due);
    }
  }

  pending(): number {
    return this.waiting.size;
  }

  close(): void {
    this.link.close();
  }

  private onData(type: string, inner: unknown, messageId: string): void {
    let key: string;
    let echoed: unknown;
    if (type === "TASK_RESPONSE") {
      const response = inner as { task_id: string; status: string; result?: unknown };
      key = response.task_id;
      echoed = response.status === "ok" ? response.result : undefined;
    } else if (type === "PEER_MESSAGE") {
      key = messageId;
      echoed = (inner as { content?: unknown }).content;
    } else return;
    const due = this.waiting.get(key);
    if (due === undefined) return;
    this.waiting.delete(key);
    const ok = (echoed as { p?: string } | undefined)?.p?.length === this.size;
    this.group.run?.complete(this, due, ok);
  }
}

class RawEchoConn implements EchoConn {
  readonly backlog: number[] = [];
  private dues: number[] = [];
  private head = 0;

  constructor(
    private readonly ws: import("ws").WebSocket,
    group: EchoGroup,
    private readonly frame: string,
  ) {
    ws.on("message", (data: Buffer) => {
      const due = this.dues[this.head++];
      if (this.head > 4096 && this.head * 2 > this.dues.length) {
        this.dues = this.dues.slice(this.head);
        this.head = 0;
      }
      if (due !== undefined) group.run?.complete(this, due, data.length === this.frame.length);
    });
    ws.on("close", () => group.run?.tally.error("raw connection closed"));
    ws.on("error", () => {});
  }

  send(due: number): void {
    this.dues.push(due);
    batchedSend(this.ws, this.frame);
  }

  pending(): number {
    return this.dues.length - this.head;
  }

  close(): void {
    this.ws.removeAllListeners("close");
    this.ws.close();
  }
}

/** The protocol floor: every request sealed in a record-shaped envelope, every answer opened. */
class FloorEchoConn implements EchoConn {
  readonly backlog: number[] = [];
  private dues: number[] = [];
  private head = 0;
  private readonly requester: FloorRequester;

  constructor(
    private readonly ws: import("ws").WebSocket,
    group: EchoGroup,
    size: number,
  ) {
    // The inner payload of the protocol's TASK_REQUEST echo, so the sealed bytes are the same size.
    this.requester = new FloorRequester({ task_id: "t0", action: "echo", params: { p: "x".repeat(size) } });
    ws.on("message", (data: Buffer) => {
      const due = this.dues[this.head++];
      if (this.head > 4096 && this.head * 2 > this.dues.length) {
        this.dues = this.dues.slice(this.head);
        this.head = 0;
      }
      const ok = this.requester.check(data.toString());
      if (due !== undefined) group.run?.complete(this, due, ok);
    });
    ws.on("close", () => group.run?.tally.error("floor connection closed"));
    ws.on("error", () => {});
  }

  send(due: number): void {
    this.dues.push(due);
    batchedSend(this.ws, this.requester.request());
  }

  pending(): number {
    return this.dues.length - this.head;
  }

  close(): void {
    this.ws.removeAllListeners("close");
    this.ws.close();
  }
}

type IoSocket = import("socket.io-client").Socket;

/** Socket.IO: an `echo` event per request, answered through its acknowledgement. */
class SocketIoEchoConn implements EchoConn {
  readonly backlog: number[] = [];
  private inFlight = 0;
  private readonly payload: { p: string };

  constructor(
    private readonly socket: IoSocket,
    private readonly group: EchoGroup,
    private readonly size: number,
  ) {
    this.payload = { p: "x".repeat(size) };
    socket.on("disconnect", (reason) => group.run?.tally.error(`socket.io disconnected: ${reason}`));
  }

  static async open(url: string, group: EchoGroup, size: number, timeoutMs = 10_000): Promise<SocketIoEchoConn> {
    const { io } = await import("socket.io-client");
    // forceNew: one connection per client, as distinct users would have (io() would multiplex them).
    const socket = io(url, { transports: ["websocket"], forceNew: true, reconnection: false, timeout: timeoutMs });
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", () => resolve());
      socket.once("connect_error", (error: Error) => {
        socket.close();
        reject(new Error(`CONNECT_FAILED: socket.io: ${error.message}`));
      });
    });
    return new SocketIoEchoConn(socket, group, size);
  }

  send(due: number): void {
    this.inFlight++;
    this.socket.emit(ECHO_EVENT, this.payload, (answer: { p?: string } | undefined) => {
      this.inFlight--;
      this.group.run?.complete(this, due, answer?.p?.length === this.size);
    });
  }

  pending(): number {
    return this.inFlight;
  }

  close(): void {
    this.socket.removeAllListeners("disconnect");
    this.socket.close();
  }
}

interface SetupParams {
  tag: string;
  side: Side;
  url: string;
  serverId: string;
  connections: number;
  kind: EchoKind;
  size: number;
  entityPrefix: string;
}

async function setup(params: SetupParams): Promise<{ failures: string[] }> {
  const group: EchoGroup = { conns: [], run: undefined, setupFailures: [] };
  groups.set(params.tag, group);
  const identity = benchIdentity("bench-echo");
  const frame = JSON.stringify({ i: 0, p: "x".repeat(params.size) });
  await Promise.all(
    Array.from({ length: params.connections }, async (_, i) => {
      try {
        if (params.side === "peer") {
          const { link } = await PeerLink.connect({ baseUrl: params.url, entityId: `${params.entityPrefix}-${i}`, identity });
          group.conns.push(new PeerEchoConn(link, group, params.kind, params.size, params.serverId));
        } else if (params.side === "floor") {
          group.conns.push(new FloorEchoConn(await openWebSocket(wsUrlOf(params.url, "/floor"), 10_000), group, params.size));
        } else if (params.side === "socketio") {
          group.conns.push(await SocketIoEchoConn.open(params.url, group, params.size));
        } else {
          group.conns.push(new RawEchoConn(await openWebSocket(wsUrlOf(params.url, "/echo"), 10_000), group, frame));
        }
      } catch (error) {
        group.setupFailures.push((error as Error).message);
      }
    }),
  );
  return { failures: group.setupFailures };
}

interface RunParams {
  tag: string;
  mode: LoopMode;
  /** Closed loop: requests in flight per connection. Open loop: the local cap before requests wait in a backlog. */
  depth: number;
  /** Open loop: requests per second this worker issues, over all its connections. */
  ratePerSec: number;
  window: Window;
}

async function run(params: RunParams): Promise<JobResult> {
  const group = groups.get(params.tag);
  if (!group) throw new Error(`no echo group ${params.tag}`);
  const tally = new Tally();
  for (const failure of group.setupFailures) tally.connectionFailure(failure);
  const { from, to } = windowBounds(params.window);
  const conns = group.conns;
  const sendLag = tally.other("sendLag");
  let inWindow = 0; // requests due in [from, to) and not answered yet
  let stopped = false;
  let drained: () => void = () => {};
  const counted = (due: number) => due >= from && due < to;

  const dispatch = (conn: EchoConn, due: number) => {
    if (counted(due)) inWindow++;
    if (params.mode === "open") sendLag.recordMs(epochMs() - due);
    conn.send(due);
  };

  // Open loop: requests fall due every `interval` ms, round-robin over the connections.
  const interval = params.mode === "open" ? 1000 / Math.max(params.ratePerSec, 0.001) : 0;
  let nextDue = params.window.startAt;
  let turn = 0;
  let timerArmed = false;
  const pump = () => {
    const now = epochMs();
    while (!stopped && nextDue <= now && nextDue < to) {
      const conn = conns[turn++ % conns.length] as EchoConn;
      if (conn.pending() >= params.depth) conn.backlog.push(nextDue);
      else dispatch(conn, nextDue);
      nextDue += interval;
    }
    if (!stopped && !timerArmed && nextDue < to) {
      timerArmed = true;
      const wake = () => {
        timerArmed = false;
        pump();
      };
      // Timers have 1 ms granularity: within ~1.5 ms of the due time, the thread sleeps in slices of
      // at most POLL_SLICE_MS (a futex wait, not a busy loop, so that the CPU stays with the server
      // under test) and polls I/O between them, so requests leave on time and answers are read
      // about a slice late (Linux's timer slack, 50 µs, can make a slice last twice as long).
      const wait = nextDue - epochMs();
      if (wait < 1.5) {
        setImmediate(() => {
          blockFor(Math.min(POLL_SLICE_MS, nextDue - epochMs()));
          wake();
        });
      } else setTimeout(wake, wait - 1.5);
    }
  };

  group.run = {
    tally,
    complete: (conn, due, ok) => {
      const now = epochMs();
      if (params.mode === "closed") {
        if (counted(due)) inWindow--;
        if (!ok) tally.error("echo answer differs from the request");
        else if (now >= from && now < to) {
          tally.operations++;
          tally.latency.recordMs(now - due);
        }
        if (!stopped && now < to) dispatch(conn, now);
      } else {
        if (counted(due)) {
          inWindow--;
          if (!ok) tally.error("echo answer differs from the request");
          else {
            tally.operations++;
            tally.latency.recordMs(now - due);
          }
        }
        const waiting = conn.backlog.shift();
        if (waiting !== undefined) dispatch(conn, waiting);
        pump();
      }
      if (stopped && inWindow <= 0) drained();
    },
  };

  if (conns.length > 0) {
    await sleepUntil(params.window.startAt);
    if (params.mode === "closed") {
      const now = epochMs();
      for (const conn of conns) for (let i = 0; i < params.depth; i++) dispatch(conn, now);
    } else pump();
    await sleepUntil(to);
    stopped = true;
    if (inWindow > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, params.window.drainMs);
        drained = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }
  tally.timeouts = Math.max(0, inWindow) + conns.reduce((n, c) => n + c.backlog.filter(counted).length, 0);
  group.run = undefined;
  return tally.result();
}

async function teardown(params: { tag: string }): Promise<void> {
  const group = groups.get(params.tag);
  groups.delete(params.tag);
  for (const conn of group?.conns ?? []) conn.close();
}

export const echoJobs = { "echo.setup": setup, "echo.run": run, "echo.teardown": teardown };

// ---------------------------------------------------------------------------------------------
// Main side
// ---------------------------------------------------------------------------------------------

interface EchoPoint {
  kind: EchoKind;
  connections: number;
  mode: LoopMode;
  /** In flight per connection (closed loop). */
  depth: number;
  size: number;
  /** Open loop: total requests per second, and the fraction of the closed-loop max it is. */
  rate?: number;
  fraction?: number;
  of?: string;
}

/** In flight per connection for pipelining: at most ~2 MiB of payload in flight per connection. */
export function pipelineDepth(size: number, pipeline: number): number {
  return Math.max(1, Math.min(pipeline, Math.floor((2 * 1024 * 1024) / size)));
}

function pointId(p: EchoPoint): string {
  const loop = p.mode === "open" ? `open${Math.round((p.fraction ?? 0) * 100)}` : p.depth === 1 ? "1inflight" : `pipe${p.depth}`;
  return `${p.kind}-${p.connections}c-${loop}-${p.size}b`;
}

function pointLabel(p: EchoPoint): string {
  const what = p.kind === "task" ? "TASK_REQUEST echo" : "PEER_MESSAGE to self";
  const conns = `${p.connections} conn${p.connections === 1 ? "" : "s"}`;
  const loop = p.mode === "open" ? `open loop at ${Math.round((p.fraction ?? 0) * 100)}% of max (${Math.round(p.rate ?? 0).toLocaleString("en-US")}/s)` : p.depth === 1 ? "1 in flight" : `pipelined (${p.depth} in flight)`;
  return `${what}, ${conns}, ${loop}, ${formatBytes(p.size)}`;
}

function endpointOf(context: ScenarioContext, side: Side): Endpoint | null {
  return side === "peer" ? context.peer : side === "raw" ? context.raw : side === "floor" ? context.floor : context.socketio;
}

async function measureSide(context: ScenarioContext, side: Side, p: EchoPoint, tag: string): Promise<Sample> {
  const { pool, options } = context;
  const endpoint = endpointOf(context, side);
  if (!endpoint) throw new Error(`no ${side} endpoint`);
  // One worker paces every connection of an open loop: it wakes every POLL_SLICE_MS near due
  // times, and two such workers and the server made three busy threads on two cores (measured on
  // 2 cores: the generator's own send lag p99 3.9 ms with two workers, 1.0-2.5 ms with one).
  const workers = p.mode === "open" ? [0] : workersFor(pool, p.connections);
  const perWorker = split(p.connections, workers.length);
  await Promise.all(
    workers.map((worker, i) => pool.call<{ failures: string[] }>(worker, "echo.setup", { tag, side, url: endpoint.url, serverId: context.peer.serverId, connections: perWorker[i] ?? 0, kind: p.kind, size: p.size, entityPrefix: `bench-echo-w${worker}-${tag}` } satisfies SetupParams)),
  );
  try {
    const drainMs = Math.max(3_000, Math.min(15_000, p.size / 50));
    const openCap = Math.min(1024, Math.floor((context.peer.limits.retransmit_buffer ?? 1024) / 2));
    const merged = await runWindowed(
      pool,
      "echo.run",
      windowFor(options, options.durationS, drainMs),
      workers,
      (_worker, i) => ({ tag, mode: p.mode, depth: p.mode === "open" ? openCap : p.depth, ratePerSec: ((p.rate ?? 0) * (perWorker[i] ?? 0)) / p.connections }),
      endpoint.pid,
    );
    return toSample(merged);
  } finally {
    await Promise.all(workers.map((worker) => pool.call(worker, "echo.teardown", { tag })));
  }
}

let tagCounter = 0;

interface PointSamples {
  peer: Sample;
  raw: Sample;
  floor?: Sample;
  socketio?: Sample;
}

/** The protocol and every baseline the run has, one after the other, with the same pattern. */
async function measurePoint(context: ScenarioContext, p: EchoPoint): Promise<PointSamples> {
  const n = tagCounter++;
  const peer = await measureSide(context, "peer", p, `p${n}`);
  const raw = await measureSide(context, "raw", p, `r${n}`);
  const samples: PointSamples = { peer, raw };
  if (context.floor) samples.floor = await measureSide(context, "floor", p, `f${n}`);
  if (context.socketio) samples.socketio = await measureSide(context, "socketio", p, `s${n}`);
  const label = pointLabel(p);
  progress(context, label, peer, raw);
  const versus = (name: string, sample: Sample | undefined) => (sample ? ` | ${name} ${Math.round(sample.throughputPerSec).toLocaleString("en-US")}/s p99 ${sample.latencyMs?.p99 ?? "-"} ms x${ratio(peer.throughputPerSec, sample.throughputPerSec) ?? "-"}` : "");
  if (samples.floor || samples.socketio) context.log(`${label}: ${versus("floor", samples.floor)}${versus("socket.io", samples.socketio)}`.replace(": | ", ": "));
  return samples;
}

/** peer / baseline for throughput and the latency percentiles, keyed `NAME.throughput`, `NAME.p99`, ... */
function baselineRatios(name: string, peer: Sample, baseline: Sample | undefined): Record<string, number | null> {
  if (!baseline) return {};
  return {
    [`${name}.throughput`]: ratio(peer.throughputPerSec, baseline.throughputPerSec),
    [`${name}.p50`]: ratio(peer.latencyMs?.p50, baseline.latencyMs?.p50),
    [`${name}.p99`]: ratio(peer.latencyMs?.p99, baseline.latencyMs?.p99),
    [`${name}.p999`]: ratio(peer.latencyMs?.p999, baseline.latencyMs?.p999),
  };
}

function echoMeasurement(p: EchoPoint, samples: PointSamples, chunkLimit: number): Measurement {
  const params: Record<string, string | number | boolean> = { kind: p.kind, connections: p.connections, mode: p.mode, inFlight: p.depth, payloadBytes: p.size, chunked: p.size + 64 > chunkLimit };
  if (p.rate !== undefined) params.ratePerSec = Math.round(p.rate);
  if (p.fraction !== undefined) params.fractionOfMax = p.fraction;
  if (p.of !== undefined) params.maxFrom = p.of;
  const m = measurement(pointId(p), pointLabel(p), params, samples.peer, samples.raw, { ...baselineRatios("floor", samples.peer, samples.floor), ...baselineRatios("socketio", samples.peer, samples.socketio) });
  if (samples.floor || samples.socketio) m.baselines = { ...(samples.floor ? { floor: samples.floor } : {}), ...(samples.socketio ? { socketio: samples.socketio } : {}) };
  return m;
}

const BASELINE_NOTE =
  "Baselines, same pattern, same run: raw ws (JSON text frames of the payload size), the protocol floor (each frame JSON-parsed, base64url-decoded, AEAD-opened and sealed, encoded and stringified on both sides, with the reference's crypto: the physical limit of an encrypted JSON echo here) and Socket.IO (an event answered by its acknowledgement, WebSocket transport). Ratios are peer / baseline.";
const OPEN_LOOP_NOTE =
  "Open-loop latency is measured from each request's due time, so a late send counts against the server too; 'send lag' is how late the load generator itself sent them (its own floor). One worker paces an open loop; near due times it sleeps in slices of 50 µs (a futex wait, so the CPU stays with the server) and polls its sockets between them, so answers are read about a slice late (up to twice that with Linux's timer slack) and its event loop reads ~100% busy: its process CPU is the measure.";

export const echoScenario: Scenario = {
  name: "echo",
  title: "Encrypted echo",
  description:
    "Round trips of TASK_REQUEST echo and PEER_MESSAGE-to-self through an established session: closed loop (1 in flight, pipelined) for the maximum rate, open loop at fixed rates (latency from the due time, so coordinated omission is not hidden), over 1 and N connections and several payload sizes (chunked above max_chunk_bytes). Baselines with the same pattern: raw ws, the protocol floor and Socket.IO.",
  echoBaselines: true,
  async run(context, outcome) {
    const { options } = context;
    const ref = referenceSize(options);
    const n = options.connections;
    const pipe = pipelineFor(context);
    const chunkLimit = context.peer.limits.max_chunk_bytes ?? 262_144;
    outcome.notes.push(`Pipelined depth is ${options.pipeline} in flight per connection, capped at 2 MiB of payload in flight; payloads over max_chunk_bytes (${chunkLimit} bytes) travel as CHUNKED_MESSAGE (the floor and Socket.IO send them whole).`);
    outcome.notes.push(BASELINE_NOTE, OPEN_LOOP_NOTE);
    const closed = async (p: Omit<EchoPoint, "mode">) => {
      const point = { ...p, mode: "closed" as const };
      const samples = await measurePoint(context, point);
      outcome.measurements.push(echoMeasurement(point, samples, chunkLimit));
      return samples.peer;
    };
    const open = async (base: Omit<EchoPoint, "mode" | "rate" | "fraction">, max: Sample, of: string, fractions: number[]) => {
      for (const fraction of fractions) {
        const rate = max.throughputPerSec * fraction;
        if (rate < 1) continue;
        const point: EchoPoint = { ...base, mode: "open", rate, fraction, of };
        outcome.measurements.push(echoMeasurement(point, await measurePoint(context, point), chunkLimit));
      }
    };

    let max1: Sample | undefined;
    for (const size of options.payloadSizes) {
      const peer = await closed({ kind: "task", connections: 1, depth: pipe(size), size });
      if (size === ref) max1 = peer;
      if (!options.quick || size === ref) await closed({ kind: "task", connections: 1, depth: 1, size });
    }
    await closed({ kind: "message", connections: 1, depth: pipe(ref), size: ref });
    if (!options.quick) await closed({ kind: "message", connections: 1, depth: 1, size: ref });
    let maxN: Sample | undefined;
    if (n > 1) {
      maxN = await closed({ kind: "task", connections: n, depth: pipe(ref), size: ref });
      if (!options.quick) await closed({ kind: "task", connections: n, depth: 1, size: ref });
    }
    if (max1) await open({ kind: "task", connections: 1, depth: 1, size: ref }, max1, pointId({ kind: "task", connections: 1, mode: "closed", depth: pipe(ref), size: ref }), [0.5]);
    if (maxN) await open({ kind: "task", connections: n, depth: 1, size: ref }, maxN, pointId({ kind: "task", connections: n, mode: "closed", depth: pipe(ref), size: ref }), options.quick ? [0.5] : [0.25, 0.5, 0.75]);
  },
};

/** Pipelined depth for a payload size: PP-DLV-011, never more unacknowledged records than half the server's retransmit_buffer. */
function pipelineFor(context: ScenarioContext): (size: number) => number {
  const window = Math.max(1, Math.floor((context.peer.limits.retransmit_buffer ?? 1024) / 2));
  return (size) => Math.min(pipelineDepth(size, context.options.pipeline), window);
}

/**
 * Tail latency alone (issue 15: p99 at half of the maximum rate within 2x raw ws's p99 at the same
 * offered rate): the maximum TASK_REQUEST echo rate over N connections, pipelined, closed loop; then
 * an open-loop, paced generator offers half of it to the protocol and to every baseline. The report
 * prints each side's latency percentiles (HDR histograms) and the p99 ratios. It is the echo
 * scenario's `open50` point on its own, quick to repeat before and after a change to the tail.
 */
export const tailScenario: Scenario = {
  name: "tail",
  title: "Tail latency at half of the maximum rate",
  description:
    "The maximum TASK_REQUEST echo rate over N connections (closed loop, pipelined, 1 KiB), then an open loop (paced; latency from each request's due time) offering half of that rate to the protocol and, at the same offered rate, to raw ws, the protocol floor and Socket.IO. Reports the percentiles of each and p99 ratios.",
  echoBaselines: true,
  async run(context, outcome) {
    const { options } = context;
    const ref = referenceSize(options);
    const n = options.connections;
    const pipe = pipelineFor(context);
    const chunkLimit = context.peer.limits.max_chunk_bytes ?? 262_144;
    outcome.notes.push(BASELINE_NOTE, OPEN_LOOP_NOTE);
    const maxPoint: EchoPoint = { kind: "task", connections: n, mode: "closed", depth: pipe(ref), size: ref };
    const max = await measureSide(context, "peer", maxPoint, `tmax${tagCounter++}`);
    progress(context, `${pointLabel(maxPoint)} (maximum rate)`, max, null);
    outcome.measurements.push(measurement(pointId(maxPoint), `${pointLabel(maxPoint)}: maximum rate`, { kind: "task", connections: n, mode: "closed", inFlight: maxPoint.depth, payloadBytes: ref, chunked: false }, max, null));
    if (max.throughputPerSec < 2) throw new Error(`the maximum rate ${max.throughputPerSec}/s is too low to pace at half of it`);
    const point: EchoPoint = { kind: "task", connections: n, mode: "open", depth: 1, size: ref, rate: max.throughputPerSec * 0.5, fraction: 0.5, of: pointId(maxPoint) };
    outcome.measurements.push(echoMeasurement(point, await measurePoint(context, point), chunkLimit));
  },
};
