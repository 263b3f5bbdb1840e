/**
 * What a scenario is, and the main-thread helpers every scenario uses: run a job on the workers in
 * an agreed measurement window while this thread samples CPU, and turn the merged tallies into a
 * report sample. Jobs (the worker side) live next to their scenario, one file per scenario.
 */
import type { LatencyHistogram } from "../histogram.ts";
import { epochMs, sleepUntil, windowBounds, type Window } from "../load/clock.ts";
import type { WorkerPool } from "../load/pool.ts";
import { mergeResults, type JobResult } from "../load/tally.ts";
import type { BenchOptions } from "../options.ts";
import { CpuMeter, machineCores } from "../proc.ts";
import type { Cpu, Measurement, Sample, ScenarioName } from "../report-schema.ts";

/** A server under load: the Peer Protocol target or the raw baseline. */
export interface Endpoint {
  url: string;
  /** Local process id, for CPU and RSS; null when unknown or remote. */
  pid: number | null;
}

export interface PeerEndpoint extends Endpoint {
  serverId: string;
  limits: Record<string, number>;
}

export interface ScenarioContext {
  options: BenchOptions;
  pool: WorkerPool;
  peer: PeerEndpoint;
  raw: Endpoint;
  /** The protocol floor (served by the raw server at /floor), for scenarios with `echoBaselines`. */
  floor: Endpoint | null;
  /** The Socket.IO echo, for scenarios with `echoBaselines`; null when it could not start. */
  socketio: Endpoint | null;
  log(line: string): void;
}

export interface ScenarioOutcome {
  measurements: Measurement[];
  notes: string[];
}

export interface Scenario {
  name: ScenarioName;
  title: string;
  description: string;
  /** The scenario measures echoes, so it also needs the protocol floor and Socket.IO baselines. */
  echoBaselines?: boolean;
  run(context: ScenarioContext, outcome: ScenarioOutcome): Promise<void>;
}

export type Side = "peer" | "raw" | "floor" | "socketio";

export function windowFor(options: BenchOptions, durationS = options.durationS, drainMs = 3_000): Window {
  return { startAt: epochMs() + 150, warmupMs: Math.round(options.warmupS * 1000), durationMs: Math.round(durationS * 1000), drainMs };
}

export interface Merged extends ReturnType<typeof mergeResults> {
  cpu: { client: Cpu; server: Cpu | null; otherPercentOfCore: number | null };
  durationMs: number;
  workersUsed: number;
  /** Event-loop utilisation of each worker used, over the measured window, in %. */
  workerBusyPercent: number[];
}

/**
 * Runs `job` on `workers` (indices) with a common window; samples this process's CPU (all threads)
 * and the server's over exactly the measured part of the window.
 */
export async function runWindowed(pool: WorkerPool, job: string, window: Window, workers: number[], paramsFor: (worker: number, position: number) => object, serverPid: number | null): Promise<Merged> {
  const meter = new CpuMeter(serverPid);
  const { from, to } = windowBounds(window);
  const sampling = (async () => {
    await sleepUntil(from);
    meter.restart();
    const elu = workers.map((worker) => pool.eventLoopUtilization(worker));
    await sleepUntil(to);
    const busy = workers.map((worker, i) => {
      const since = elu[i];
      const used = since ? pool.eventLoopUtilization(worker, since) : null;
      return used ? Math.round(used.utilization * 1000) / 10 : 0;
    });
    return { ...meter.read(), busy };
  })();
  const results = await Promise.all(workers.map((worker, position) => pool.call<JobResult>(worker, job, { ...paramsFor(worker, position), window })));
  const cpu = await sampling;
  return { ...mergeResults(results), cpu: { client: cpu.client, server: cpu.server, otherPercentOfCore: cpu.otherPercentOfCore }, durationMs: window.durationMs, workersUsed: workers.length, workerBusyPercent: cpu.busy };
}

/** Workers 0..n-1 for `connections` connections: never more workers than connections. */
export function workersFor(pool: WorkerPool, connections: number): number[] {
  return Array.from({ length: Math.max(1, Math.min(pool.size, connections)) }, (_, i) => i);
}

export function toSample(merged: Merged, operations = merged.operations, latency: LatencyHistogram | null = merged.latency, durationMs = merged.durationMs): Sample {
  const otherLatenciesMs: Sample["otherLatenciesMs"] = {};
  for (const [name, histogram] of merged.others) {
    const summary = histogram.summary();
    if (summary) otherLatenciesMs[name] = summary;
  }
  // A worker thread cannot use more than one core: a worker whose event loop was busy >= 90% of the
  // window, or >= 90% of a core per worker for the whole process, is saturation. An open-loop job
  // sleeps inside its event loop between polls of its schedule, so there it is sending late instead: 1% of the requests left
  // more than 1 ms after they were due.
  const usable = Math.min(merged.workersUsed, machineCores());
  const sendLag = merged.others.get("sendLag");
  const saturated = sendLag ? sendLag.percentileMs(99) > 1 : merged.cpu.client.percentOfCore >= 90 * usable || merged.workerBusyPercent.some((busy) => busy >= 90);
  return {
    durationMs,
    operations,
    throughputPerSec: durationMs > 0 ? Math.round((operations / durationMs) * 1000 * 10) / 10 : 0,
    errors: merged.errors,
    connectionFailures: merged.connectionFailures,
    timeouts: merged.timeouts,
    latencyMs: latency?.summary() ?? null,
    distribution: latency?.distribution() ?? [],
    otherLatenciesMs,
    extra: { ...merged.extra },
    clientCpu: merged.cpu.client,
    serverCpu: merged.cpu.server,
    otherCpuPercentOfCore: merged.cpu.otherPercentOfCore,
    clientSaturated: saturated,
    loadWorkerBusyPercent: merged.workerBusyPercent,
    errorSamples: merged.errorSamples,
  };
}

export function ratio(peer: number | null | undefined, raw: number | null | undefined): number | null {
  if (peer === null || peer === undefined || raw === null || raw === undefined || raw === 0) return null;
  return Math.round((peer / raw) * 1000) / 1000;
}

/** peer / raw for throughput and the main latency percentiles. */
export function standardRatios(peer: Sample, raw: Sample | null): Record<string, number | null> {
  if (!raw) return {};
  return {
    throughput: ratio(peer.throughputPerSec, raw.throughputPerSec),
    p50: ratio(peer.latencyMs?.p50, raw.latencyMs?.p50),
    p99: ratio(peer.latencyMs?.p99, raw.latencyMs?.p99),
    p999: ratio(peer.latencyMs?.p999, raw.latencyMs?.p999),
  };
}

export function measurement(id: string, label: string, params: Measurement["params"], peer: Sample, raw: Sample | null, extraRatios: Record<string, number | null> = {}): Measurement {
  return { id, label, params, peer, raw, ratios: { ...standardRatios(peer, raw), ...extraRatios } };
}

/** One progress line: peer figure, raw figure and the ratio. */
export function progress(context: ScenarioContext, label: string, peer: Sample, raw: Sample | null, unit = "/s"): void {
  const fmt = (s: Sample) => `${Math.round(s.throughputPerSec).toLocaleString("en-US")}${unit} p50 ${s.latencyMs?.p50 ?? "-"} ms p99 ${s.latencyMs?.p99 ?? "-"} ms${s.errors + s.timeouts + s.connectionFailures > 0 ? ` (${s.errors} err, ${s.timeouts} timeouts, ${s.connectionFailures} conn fail)` : ""}`;
  context.log(`${label}: peer ${fmt(peer)} | raw ${raw ? fmt(raw) : "-"}${raw ? ` | x${ratio(peer.throughputPerSec, raw.throughputPerSec) ?? "-"}` : ""}`);
}
