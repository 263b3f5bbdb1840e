/**
 * The JSON report of `peer-bench` (`--reporter json`). The TypeBox schemas are the source of truth;
 * the report types are derived from them, and tests validate real output against
 * `BenchReportSchema` with Ajv (JSON Schema 2020-12).
 *
 * Every measurement pairs a `peer` sample (the Peer Protocol target) with a `raw` sample (the same
 * load pattern against a raw `ws` echo server, or a raw `node:http` server for HTTP endpoints),
 * measured in the same run; `ratios` are peer / raw.
 */
import { Type, type Static } from "@sinclair/typebox";

export const SCENARIO_NAMES = ["handshake", "echo", "fanout", "sessions", "resume", "http"] as const;
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
    clientSaturated: Type.Boolean({ description: "True when the load generator's threads were busy >= 90% of the time (closed loop), or sent 1% of requests more than 1 ms late (open loop, which polls its schedule continuously): the figure may be client-bound." }),
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
    ratios: Type.Record(Type.String(), Type.Union([Type.Number(), Type.Null()]), { description: "peer / raw: throughput (higher is better), p50/p99/p999 latency and memory (lower is better)." }),
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

export const BenchReportSchema = Type.Object(
  {
    tool: Type.Literal("peer-bench"),
    reportVersion: Type.Literal(1),
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
      { additionalProperties: false },
    ),
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
