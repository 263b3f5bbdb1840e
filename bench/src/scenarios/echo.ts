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
 * The raw baseline sends JSON text frames with the same payload size to a raw `ws` echo server,
 * with the identical pattern (same connections, in-flight count or due times).
 */
import { epochMs, sleepUntil, windowBounds, type Window } from "../load/clock.ts";
import { batchedSend, openWebSocket, PeerLink, wsUrlOf } from "../load/peer-link.ts";
import { benchIdentity } from "../load/identity.ts";
import { split } from "../load/pool.ts";
import { Tally, type JobResult } from "../load/tally.ts";
import { formatBytes, referenceSize } from "../options.ts";
import type { Sample } from "../report-schema.ts";
import { measurement, progress, runWindowed, toSample, windowFor, workersFor, type Scenario, type ScenarioContext, type Side } from "./scenario.ts";

type EchoKind = "task" | "message";
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
      // Timers have 1 ms granularity: within ~1.5 ms of the due time, check on every turn of the
      // event loop instead (I/O is still polled between turns), so requests leave on time.
      const wait = nextDue - epochMs();
      if (wait < 1.5) setImmediate(wake);
      else setTimeout(wake, wait - 1.5);
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

async function measureSide(context: ScenarioContext, side: Side, p: EchoPoint, tag: string): Promise<Sample> {
  const { pool, options } = context;
  const endpoint = side === "peer" ? context.peer : context.raw;
  const workers = workersFor(pool, p.connections);
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

async function measurePoint(context: ScenarioContext, p: EchoPoint): Promise<{ peer: Sample; raw: Sample }> {
  const n = tagCounter++;
  const peer = await measureSide(context, "peer", p, `p${n}`);
  const raw = await measureSide(context, "raw", p, `r${n}`);
  const label = pointLabel(p);
  progress(context, label, peer, raw);
  return { peer, raw };
}

export const echoScenario: Scenario = {
  name: "echo",
  title: "Encrypted echo",
  description: "Round trips of TASK_REQUEST echo and PEER_MESSAGE-to-self through an established session: closed loop (1 in flight, pipelined) for the maximum rate, open loop at fixed rates (latency from the due time, so coordinated omission is not hidden), over 1 and N connections and several payload sizes (chunked above max_chunk_bytes). Raw baseline: JSON text frames of the same payload size echoed by a raw ws server, same pattern.",
  async run(context, outcome) {
    const { options } = context;
    const ref = referenceSize(options);
    const n = options.connections;
    // PP-DLV-011: never more unacknowledged records than the server's advertised retransmit_buffer.
    const window = Math.max(1, Math.floor((context.peer.limits.retransmit_buffer ?? 1024) / 2));
    const pipe = (size: number) => Math.min(pipelineDepth(size, options.pipeline), window);
    const chunkLimit = context.peer.limits.max_chunk_bytes ?? 262_144;
    outcome.notes.push(`Pipelined depth is ${options.pipeline} in flight per connection, capped at 2 MiB of payload in flight; payloads over max_chunk_bytes (${chunkLimit} bytes) travel as CHUNKED_MESSAGE.`);
    outcome.notes.push("Open-loop latency is measured from each request's due time, so a late send counts against the server too; 'send lag' is how late the load generator itself sent them (its own floor). The open-loop worker polls its schedule on every turn of its event loop near due times, so its CPU reads ~100%.");
    const record = (p: EchoPoint, peer: Sample, raw: Sample) => {
      const params: Record<string, string | number | boolean> = { kind: p.kind, connections: p.connections, mode: p.mode, inFlight: p.depth, payloadBytes: p.size, chunked: p.size + 64 > chunkLimit };
      if (p.rate !== undefined) params.ratePerSec = Math.round(p.rate);
      if (p.fraction !== undefined) params.fractionOfMax = p.fraction;
      if (p.of !== undefined) params.maxFrom = p.of;
      outcome.measurements.push(measurement(pointId(p), pointLabel(p), params, peer, raw));
    };
    const closed = async (p: Omit<EchoPoint, "mode">) => {
      const point = { ...p, mode: "closed" as const };
      const { peer, raw } = await measurePoint(context, point);
      record(point, peer, raw);
      return peer;
    };
    const open = async (base: Omit<EchoPoint, "mode" | "rate" | "fraction">, max: Sample, of: string, fractions: number[]) => {
      for (const fraction of fractions) {
        const rate = max.throughputPerSec * fraction;
        if (rate < 1) continue;
        const point: EchoPoint = { ...base, mode: "open", rate, fraction, of };
        const { peer, raw } = await measurePoint(context, point);
        record(point, peer, raw);
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
