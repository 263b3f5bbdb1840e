/**
 * A real, very short run against an in-process reference server: the scenarios produce the report
 * structure the schema describes, with a raw baseline and ratios. No wall-clock assertions: the
 * figures are whatever this machine gives; only their presence and consistency are checked.
 */
import { Ajv2020 } from "ajv/dist/2020.js";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { PeerServer } from "../../reference/src/server/server.ts";
import { defaultOptions, type BenchOptions } from "../src/options.ts";
import { BenchReportSchema, type BenchReport } from "../src/report-schema.ts";
import { runBench } from "../src/run.ts";

const validate = new Ajv2020({ strict: true, allErrors: true }).compile(BenchReportSchema);
let server: PeerServer;
let report: BenchReport;

beforeAll(async () => {
  server = await PeerServer.start({ logLevel: "silent", limits: { rate_limit_per_minute: 0, retransmit_buffer: 4096 } });
  const options: BenchOptions = {
    ...defaultOptions(true),
    target: server.url,
    scenarios: ["echo", "resume"],
    durationS: 0.2,
    warmupS: 0.05,
    connections: 2,
    payloadSizes: [256],
    workers: 1,
    log: () => {},
  };
  report = await runBench(options);
}, 60_000);

afterAll(async () => {
  await server?.close();
});

describe("a quick run against an in-process server", () => {
  test("its JSON report validates against the schema", () => {
    expect(validate(JSON.parse(JSON.stringify(report))), JSON.stringify(validate.errors)).toBe(true);
  });

  test("it names the explicit loopback target and the machine", () => {
    expect(report.target).toMatchObject({ kind: "explicit", url: server.url, serverId: server.serverId, loopback: true });
    expect(report.machine.cpus).toBeGreaterThanOrEqual(1);
    expect(report.machine.node).toBe(process.version);
  });

  test("every measurement pairs the protocol with the raw baseline, and the ratio is theirs", () => {
    const echo = report.scenarios.find((s) => s.name === "echo");
    expect(echo?.error).toBeUndefined();
    expect(echo?.measurements.length).toBeGreaterThanOrEqual(5);
    for (const m of echo?.measurements ?? []) {
      expect(m.raw).not.toBeNull();
      expect(m.peer.operations, `${m.label}: ${JSON.stringify(m.peer)}`).toBeGreaterThan(0);
      expect(m.peer.errors, m.label).toBe(0);
      expect(m.peer.latencyMs?.count, m.label).toBeGreaterThan(0);
      const p = m.peer.latencyMs;
      if (p) expect(p.p50 <= p.p90 && p.p90 <= p.p99 && p.p99 <= p.p999 && p.p999 <= p.max).toBe(true);
      expect(m.ratios.throughput).toBeCloseTo(m.peer.throughputPerSec / (m.raw?.throughputPerSec ?? 1), 2);
    }
  });

  test("every echo figure is also measured against the protocol floor and Socket.IO, with ratios to each", () => {
    const echo = report.scenarios.find((s) => s.name === "echo")?.measurements ?? [];
    for (const m of echo) {
      for (const [name, sample] of [["floor", m.baselines?.floor], ["socketio", m.baselines?.socketio]] as const) {
        expect(sample?.operations, `${m.label}: ${name}`).toBeGreaterThan(0);
        expect(sample?.errors, `${m.label}: ${name}`).toBe(0);
        expect(m.ratios[`${name}.throughput`]).toBeCloseTo(m.peer.throughputPerSec / (sample?.throughputPerSec ?? 1), 2);
      }
    }
    expect(report.baselines.map((b) => [b.kind, b.measured])).toEqual([
      ["raw-ws", true],
      ["protocol-floor", true],
      ["socket.io", true],
    ]);
  });

  test("the report carries the machine's load and the load generator's own CPU", () => {
    expect(report.machineLoad.loadAverageBefore).toHaveLength(3);
    expect(report.machineLoad.loadAverageAfter).toHaveLength(3);
    expect(report.loadGenerator.workers).toBe(1);
    expect(report.loadGenerator.cpu.percentOfCore).toBeGreaterThan(0);
    const echo = report.scenarios.find((s) => s.name === "echo")?.measurements ?? [];
    for (const m of echo) expect(m.peer.loadWorkerBusyPercent).toHaveLength(1);
  });

  test("open-loop measurements run at the rate derived from the closed-loop maximum", () => {
    const open = report.scenarios.find((s) => s.name === "echo")?.measurements.filter((m) => m.params.mode === "open") ?? [];
    expect(open.length).toBeGreaterThan(0);
    for (const m of open) {
      expect(m.params.fractionOfMax).toBe(0.5);
      expect(m.peer.otherLatenciesMs.sendLag).toBeDefined();
    }
  });

  test("resume reports its latency against a full handshake measured in the same loop", () => {
    const resume = report.scenarios.find((s) => s.name === "resume");
    expect(resume?.error).toBeUndefined();
    const m = resume?.measurements.find((x) => x.id === "resume");
    expect(m?.peer.operations).toBeGreaterThan(0);
    expect(m?.ratios.resumeOverFullHandshakeP50).toBeTypeOf("number");
  });

  test("the targets are listed, judged only where measured", () => {
    expect(report.targets.map((t) => t.id)).toEqual(["echo-1conn-1-in-flight-vs-raw", "echo-1conn-1-in-flight-vs-socketio", "echo-1conn-pipelined-vs-floor", "echo-nconn-pipelined-vs-floor", "handshakes-per-second", "p99-at-half-max-vs-raw", "sessions-10k-rss"]);
    expect(report.targets.find((t) => t.id === "handshakes-per-second")?.holds).toBeNull();
  });
});
