/**
 * The JSON report of `peer-bench` (`--reporter json`). The TypeBox schemas are the source of truth;
 * the report types are derived from them, and tests validate real output against
 * `BenchReportSchema` with Ajv (JSON Schema 2020-12).
 *
 * Every measurement pairs a `peer` sample (the Peer Protocol target) with a `raw` sample (the same
 * load pattern against a raw `ws` echo server, or a raw `node:http` server for HTTP endpoints),
 * measured in the same run; `ratios` are peer / raw. Echo measurements also carry the two other
 * baselines of issue 15 in `baselines` (the protocol floor and Socket.IO), with ratios to each under
 * `floor.*` and `socketio.*`.
 *
 * Version 2 added `baselines` (report and measurement), `machineLoad`, `loadGenerator` and
 * `loadWorkerBusyPercent`.
 */
import { Type, type Static } from "@sinclair/typebox";

export const SCENARIO_NAMES = ["handshake", "echo", "tail", "fanout", "sessions", "resume", "http", "cluster", "workers"] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

const Ms = Type.Number({ minimum: 0, description: "Milliseconds." });
const Count = Type.Integer({ minimum: 0 });

export const LatencySummarySchema = Type.Object(
  { count: Count, min: Ms, mean: Ms, p50: Ms, p90: Ms, p99: Ms, p999: Ms, max: Ms },
  { additionalProperties: false, description: "Percentiles of an HDR histogram (1 µs resolution, 3 significant digits), in milliseconds." },
);
export type LatencySummary = Static<typeof LatencySummarySchema>;

/** [percentile, milliseconds], as a 2020-12 tuple (prefixItems). */
const PercentilePointSchema = Type.Unsafe<[number, number]>({ type: "array", prefixItems: [{ type: "number", minimum: 0, maximum: 100 }, { type: "number", minimum: 0 }], items: false, minItems: 2 });

export const CpuSchema = Type.Object(
  {
    userMs: Ms,
    systemMs: Ms,
    percentOfCore: Type.Number({ minimum: 0, description: "CPU time / wall time x 100; 100 is one core busy." }),
    percentOfMachine: Type.Number({ minimum: 0, description: "percentOfCore divided by the machine's core count." }),
  },
  { additionalProperties: false },
);
export type Cpu = Static<typeof CpuSchema>;

export const SampleSchema = Type.Object(
  {
    durationMs: Ms,
    operations: Type.Integer({ minimum: 0, description: "Operations completed in the measured window (echoes, handshakes, deliveries, requests...)." }),
    throughputPerSec: Type.Number({ minimum: 0 }),
    errors: Type.Integer({ minimum: 0, description: "Protocol ERRORs, wrong answers, non-2xx answers." }),
    connectionFailures: Type.Integer({ minimum: 0 }),
    timeouts: Type.Integer({ minimum: 0, description: "Operations still unanswered when the drain deadline passed." }),
    latencyMs: Type.Union([LatencySummarySchema, Type.Null()]),
    distribution: Type.Array(PercentilePointSchema, { description: "[percentile, ms] points of the latency distribution." }),
    otherLatenciesMs: Type.Record(Type.String(), LatencySummarySchema, { description: "Secondary latencies, e.g. connect, handshake, heartbeat, fan-out completion." }),
    extra: Type.Record(Type.String(), Type.Number(), { description: "Scenario-specific figures, e.g. rssPerSessionBytes." }),
    clientCpu: CpuSchema,
    serverCpu: Type.Union([CpuSchema, Type.Null()], { description: "The server process's CPU, where the server is local and its pid known." }),
    otherCpuPercentOfCore: Type.Union([Type.Number({ minimum: 0 }), Type.Null()], {
      description: "CPU used meanwhile by every other process on the machine (from /proc/stat), in % of one core: noise from a shared machine.",
    }),
    clientSaturated: Type.Boolean({
      description:
        "True when the load generator was near saturation: a worker thread's event loop was busy >= 90% of the window, or all its threads together used >= 90% of a core per worker (closed loop), or it sent 1% of requests more than 1 ms late (open loop, whose worker sleeps inside its event loop between polls of its schedule). Such a figure is client-bound and does not count toward targets.",
    }),
    loadWorkerBusyPercent: Type.Optional(Type.Array(Type.Number({ minimum: 0 }), { description: "Event-loop utilisation of each load-generator worker thread used, over the measured window, in %." })),
    errorSamples: Type.Array(Type.String(), { maxItems: 10 }),
  },
  { additionalProperties: false },
);
export type Sample = Static<typeof SampleSchema>;

export const MeasurementSchema = Type.Object(
  {
    id: Type.String({ pattern: "^[a-z0-9][a-z0-9._-]*$" }),
    label: Type.String(),
    params: Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()])),
    peer: SampleSchema,
    raw: Type.Union([SampleSchema, Type.Null()]),
    baselines: Type.Optional(
      Type.Object(
        {
          floor: Type.Optional(SampleSchema),
          socketio: Type.Optional(SampleSchema),
        },
        { additionalProperties: false, description: "The same load against the protocol floor and the Socket.IO echo (echo measurements)." },
      ),
    ),
    ratios: Type.Record(Type.String(), Type.Union([Type.Number(), Type.Null()]), {
      description: "peer / raw: throughput (higher is better), p50/p99/p999 latency and memory (lower is better); `floor.throughput`, `floor.p99`, `socketio.throughput`, ... are peer / that baseline.",
    }),
  },
  { additionalProperties: false },
);
export type Measurement = Static<typeof MeasurementSchema>;

export const ScenarioResultSchema = Type.Object(
  {
    name: Type.Union(SCENARIO_NAMES.map((n) => Type.Literal(n))),
    title: Type.String(),
    description: Type.String(),
    durationMs: Ms,
    measurements: Type.Array(MeasurementSchema),
    notes: Type.Array(Type.String()),
    error: Type.Optional(Type.String({ description: "Why the scenario stopped early; its measurements so far are kept." })),
  },
  { additionalProperties: false },
);
export type ScenarioResult = Static<typeof ScenarioResultSchema>;

export const TargetCheckSchema = Type.Object(
  {
    id: Type.String(),
    title: Type.String(),
    threshold: Type.String(),
    measured: Type.Union([Type.Number(), Type.Null()]),
    unit: Type.String(),
    holds: Type.Union([Type.Boolean(), Type.Null()], { description: "null when the run did not measure it." }),
    basis: Type.String({ description: "Which measurement the figure comes from." }),
  },
  { additionalProperties: false },
);
export type TargetCheck = Static<typeof TargetCheckSchema>;

export const BASELINE_KINDS = ["raw-ws", "protocol-floor", "socket.io"] as const;
export type BaselineKind = (typeof BASELINE_KINDS)[number];

export const BaselineSchema = Type.Object(
  {
    kind: Type.Union(BASELINE_KINDS.map((k) => Type.Literal(k))),
    description: Type.String(),
    serverPid: Type.Union([Type.Integer(), Type.Null()]),
    measured: Type.Boolean({ description: "False when the baseline could not run (e.g. socket.io not installed); `note` says why." }),
    note: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type Baseline = Static<typeof BaselineSchema>;

const LoadAverageSchema = Type.Array(Type.Number({ minimum: 0 }), { minItems: 3, maxItems: 3, description: "1, 5 and 15 minute load averages (/proc/loadavg)." });

export const MachineLoadSchema = Type.Object(
  {
    loadAverageBefore: LoadAverageSchema,
    loadAverageAfter: LoadAverageSchema,
    otherCpuPercentOfCore: Type.Union([
      Type.Object({ mean: Type.Number({ minimum: 0 }), max: Type.Number({ minimum: 0 }) }, { additionalProperties: false }),
      Type.Null(),
    ], { description: "CPU used by every process other than the bench and the server under test, over the measured windows (/proc/stat), in % of one core." }),
    machineBusyPercentOfCore: Type.Union([Type.Number({ minimum: 0 }), Type.Null()], { description: "Whole machine, whole run, in % of one core (/proc/stat)." }),
  },
  { additionalProperties: false },
);
export type MachineLoad = Static<typeof MachineLoadSchema>;

export const LoadGeneratorSchema = Type.Object(
  {
    workers: Type.Integer({ minimum: 1 }),
    cpu: CpuSchema,
    clientBoundFigures: Type.Integer({ minimum: 0, description: "Samples marked clientSaturated (they do not count toward targets)." }),
  },
  { additionalProperties: false, description: "The load generator's own CPU over the whole run (process.cpuUsage: every thread)." },
);
export type LoadGenerator = Static<typeof LoadGeneratorSchema>;

export const BenchReportSchema = Type.Object(
  {
    tool: Type.Literal("peer-bench"),
    reportVersion: Type.Literal(2),
    startedAt: Type.String(),
    finishedAt: Type.String(),
    durationMs: Ms,
    machine: Type.Object(
      {
        cpus: Type.Integer({ minimum: 1 }),
        cpuModel: Type.String(),
        platform: Type.String(),
        arch: Type.String(),
        osRelease: Type.String(),
        node: Type.String(),
        totalMemoryBytes: Type.Integer({ minimum: 0 }),
        fdLimit: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]),
      },
      { additionalProperties: false },
    ),
    target: Type.Object(
      {
        kind: Type.Union([Type.Literal("embedded"), Type.Literal("explicit")]),
        url: Type.String(),
        serverId: Type.String(),
        loopback: Type.Boolean(),
        serverPid: Type.Union([Type.Integer(), Type.Null()]),
        limits: Type.Record(Type.String(), Type.Number()),
      },
      { additionalProperties: false },
    ),
    baseline: Type.Object(
      {
        kind: Type.Literal("raw-ws"),
        description: Type.String(),
        serverPid: Type.Union([Type.Integer(), Type.Null()]),
      },
      { additionalProperties: false, description: "The raw ws baseline (kept beside `baselines` for readers of version 1)." },
    ),
    baselines: Type.Array(BaselineSchema),
    machineLoad: MachineLoadSchema,
    loadGenerator: LoadGeneratorSchema,
    options: Type.Object(
      {
        quick: Type.Boolean(),
        durationS: Type.Number({ minimum: 0 }),
        warmupS: Type.Number({ minimum: 0 }),
        connections: Type.Integer({ minimum: 1 }),
        sessions: Type.Integer({ minimum: 1 }),
        payloadSizes: Type.Array(Type.Integer({ minimum: 1 })),
        workers: Type.Integer({ minimum: 1 }),
        pipeline: Type.Integer({ minimum: 1 }),
        scenarios: Type.Array(Type.String()),
      },
      { additionalProperties: false },
    ),
    scenarios: Type.Array(ScenarioResultSchema),
    targets: Type.Array(TargetCheckSchema),
    warnings: Type.Array(Type.String()),
  },
  { additionalProperties: false, $id: "https://peer-protocol.dev/bench/report-v1.json", title: "peer-bench report" },
);
export type BenchReport = Static<typeof BenchReportSchema>;
