/** A small, hand-built report: every field of the schema, realistic values. */
import type { BenchReport, Sample } from "../src/report-schema.ts";

export function sample(throughput: number, p50: number, overrides: Partial<Sample> = {}): Sample {
  return {
    durationMs: 1000,
    operations: throughput,
    throughputPerSec: throughput,
    errors: 0,
    connectionFailures: 0,
    timeouts: 0,
    latencyMs: { count: throughput, min: p50 / 2, mean: p50, p50, p90: p50 * 2, p99: p50 * 4, p999: p50 * 6, max: p50 * 8 },
    distribution: [
      [0, p50 / 2],
      [50, p50],
      [99, p50 * 4],
      [100, p50 * 8],
    ],
    otherLatenciesMs: {},
    extra: {},
    clientCpu: { userMs: 400, systemMs: 50, percentOfCore: 45, percentOfMachine: 22.5 },
    serverCpu: { userMs: 900, systemMs: 80, percentOfCore: 98, percentOfMachine: 49 },
    otherCpuPercentOfCore: 3,
    clientSaturated: false,
    errorSamples: [],
    ...overrides,
  };
}

export function fixtureReport(): BenchReport {
  return {
    tool: "peer-bench",
    reportVersion: 2,
    startedAt: "2026-01-01T00:00:00.000Z",
    finishedAt: "2026-01-01T00:05:00.000Z",
    durationMs: 300_000,
    machine: { cpus: 2, cpuModel: "test cpu", platform: "linux", arch: "x64", osRelease: "6.0", node: "v20.20.2", totalMemoryBytes: 8 * 1024 ** 3, fdLimit: 20_000 },
    target: { kind: "embedded", url: "http://127.0.0.1:4000", serverId: "peer-server", loopback: true, serverPid: 1234, limits: { rate_limit_per_minute: 0 } },
    baseline: { kind: "raw-ws", description: "raw ws", serverPid: 1235 },
    baselines: [
      { kind: "raw-ws", description: "raw ws", serverPid: 1235, measured: true },
      { kind: "protocol-floor", description: "floor", serverPid: 1235, measured: true },
      { kind: "socket.io", description: "Socket.IO", serverPid: 1236, measured: true },
    ],
    machineLoad: { loadAverageBefore: [0.5, 0.4, 0.3], loadAverageAfter: [1.5, 0.7, 0.4], otherCpuPercentOfCore: { mean: 3, max: 12 }, machineBusyPercentOfCore: 150 },
    loadGenerator: { workers: 1, cpu: { userMs: 40_000, systemMs: 5_000, percentOfCore: 15, percentOfMachine: 7.5 }, clientBoundFigures: 0 },
    options: { quick: false, durationS: 3, warmupS: 0.5, connections: 16, sessions: 10_000, payloadSizes: [64, 1024], workers: 1, pipeline: 64, scenarios: ["handshake", "echo", "sessions"] },
    scenarios: [
      {
        name: "handshake",
        title: "Handshake rate",
        description: "handshakes",
        durationMs: 12_000,
        notes: [],
        measurements: [
          { id: "handshake-c1", label: "1 concurrent handshake", params: { concurrency: 1 }, peer: sample(400, 2.4), raw: sample(2000, 0.5), ratios: { throughput: 0.2, p50: 4.8, p99: 4.8, p999: 4.8 } },
          { id: "handshake-c16", label: "16 concurrent handshakes", params: { concurrency: 16 }, peer: sample(900, 17), raw: sample(5000, 3), ratios: { throughput: 0.18, p50: 5.7, p99: 5.7, p999: 5.7 } },
        ],
      },
      {
        name: "echo",
        title: "Encrypted echo",
        description: "echo",
        durationMs: 60_000,
        notes: ["a note"],
        measurements: [
          { id: "task-1c-pipe64-1024b", label: "TASK_REQUEST echo, 1 conn, pipelined (64 in flight), 1 KiB", params: { kind: "task", connections: 1, mode: "closed", inFlight: 64, payloadBytes: 1024, chunked: false }, peer: sample(6000, 10), raw: sample(100_000, 0.6), baselines: { floor: sample(20_000, 3), socketio: sample(12_000, 5) }, ratios: { throughput: 0.06, p50: 16.7, p99: 16.7, p999: 16.7, "floor.throughput": 0.3, "floor.p99": 3.333, "socketio.throughput": 0.5, "socketio.p99": 2 } },
          { id: "task-1c-1inflight-1024b", label: "TASK_REQUEST echo, 1 conn, 1 in flight, 1 KiB", params: { kind: "task", connections: 1, mode: "closed", inFlight: 1, payloadBytes: 1024, chunked: false }, peer: sample(1500, 0.6), raw: sample(20_000, 0.05), baselines: { floor: sample(9_000, 0.1), socketio: sample(1_600, 0.55) }, ratios: { throughput: 0.075, p50: 12, p99: 12, p999: 12, "floor.throughput": 0.167, "socketio.throughput": 0.938 } },
          { id: "task-16c-pipe64-1024b", label: "TASK_REQUEST echo, 16 conns, pipelined (64 in flight), 1 KiB", params: { kind: "task", connections: 16, mode: "closed", inFlight: 64, payloadBytes: 1024, chunked: false }, peer: sample(8000, 60), raw: sample(150_000, 6, { clientSaturated: true }), baselines: { floor: sample(10_000, 40) }, ratios: { throughput: 0.053, p50: 10, p99: 10, p999: 10, "floor.throughput": 0.8 } },
          { id: "task-16c-open50-1024b", label: "TASK_REQUEST echo, 16 conns, open loop at 50% of max (4,000/s), 1 KiB", params: { kind: "task", connections: 16, mode: "open", inFlight: 1, payloadBytes: 1024, chunked: false, ratePerSec: 4000, fractionOfMax: 0.5 }, peer: sample(4000, 1.5), raw: sample(4000, 0.4), ratios: { throughput: 1, p50: 3.75, p99: 3.75, p999: 3.75 } },
        ],
      },
      {
        name: "sessions",
        title: "Concurrent sessions",
        description: "sessions",
        durationMs: 40_000,
        notes: [],
        measurements: [
          { id: "sessions-hold", label: "Hold 10000 sessions", params: { sessions: 10_000 }, peer: sample(2000, 2, { extra: { sessionsEstablished: 10_000, rssPerSessionBytes: 15_000 } }), raw: sample(2000, 1, { extra: { rssPerSessionBytes: 9_000 } }), ratios: { throughput: 1, p50: 2, p99: 2, p999: 2, rssPerSession: 1.667 } },
        ],
      },
    ],
    targets: [],
    warnings: ["a warning"],
  };
}
