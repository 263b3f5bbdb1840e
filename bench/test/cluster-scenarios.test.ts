/**
 * The cluster scenarios against a real redis-server started by the bench (issue 16): a very short
 * run of `cluster` and `workers` produces a report the schema accepts, every figure is measured
 * without errors, and the costs it states are the differences and ratios of its own figures. No
 * wall-clock assertions: the figures are whatever this machine gives.
 *
 * Skipped where redis-server is missing, except under PEER_REQUIRE_REDIS=1 (CI), where it fails.
 */
import { existsSync } from "node:fs";
import { connect } from "node:net";
import { Ajv2020 } from "ajv/dist/2020.js";
import { beforeAll, describe, expect, test } from "vitest";
import { defaultOptions } from "../src/options.ts";
import { findRedisServer, RedisLaunchError, startBenchRedis } from "../src/redis-server.ts";
import { BenchReportSchema, type BenchReport, type Measurement } from "../src/report-schema.ts";
import { runBench } from "../src/run.ts";

const missing = findRedisServer() === undefined;
if (missing && process.env.PEER_REQUIRE_REDIS === "1") throw new Error("redis-server is not installed (PEER_REQUIRE_REDIS=1: these tests must not skip)");
const describeWithRedis = missing ? describe.skip : describe;

function ping(url: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) });
    let reply = "";
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.on("data", (chunk: Buffer) => {
      reply += chunk.toString("latin1");
      if (reply.includes("\r\n")) {
        socket.destroy();
        resolve(reply);
      }
    });
    socket.once("error", reject);
  });
}

describe("the bench's redis-server launcher", () => {
  test("a missing redis-server is a clear error that says how to install it", async () => {
    const error = await startBenchRedis({ binary: "/nonexistent/redis-server" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RedisLaunchError);
    expect((error as RedisLaunchError).code).toBe("REDIS_SERVER_MISSING");
    expect((error as Error).message).toMatch(/apt-get install redis-server/);
  });
});

describeWithRedis("the bench's redis-server launcher, with redis-server installed", () => {
  test("it starts Redis on a loopback port, and stop() ends it", async () => {
    const redis = await startBenchRedis();
    expect(redis.url).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
    expect(existsSync(`/proc/${redis.pid}`)).toBe(true);
    expect(await ping(redis.url)).toBe("+PONG\r\n");
    await redis.stop();
    await expect(ping(redis.url)).rejects.toThrow(/ECONNREFUSED/);
  }, 30_000);
});

describeWithRedis("a quick run of the cluster and workers scenarios", () => {
  const validate = new Ajv2020({ strict: true, allErrors: true }).compile(BenchReportSchema);
  let report: BenchReport;
  const find = (scenario: string, id: string): Measurement => {
    const m = report.scenarios.find((s) => s.name === scenario)?.measurements.find((x) => x.id === id);
    if (!m) throw new Error(`no measurement ${scenario}/${id}`);
    return m;
  };

  beforeAll(async () => {
    report = await runBench({ ...defaultOptions(true), scenarios: ["cluster", "workers"], durationS: 0.2, warmupS: 0.05, connections: 4, workers: 1, log: () => {} });
  }, 180_000);

  test("its JSON report validates against the schema, and neither scenario stopped early", () => {
    expect(validate(JSON.parse(JSON.stringify(report))), JSON.stringify(validate.errors)).toBe(true);
    expect(report.scenarios.map((s) => [s.name, s.error])).toEqual([
      ["cluster", undefined],
      ["workers", undefined],
    ]);
  });

  test("every configuration is measured, without errors, timeouts or failed connections", () => {
    const ids = report.scenarios.flatMap((s) => s.measurements.map((m) => m.id));
    expect(ids).toEqual([
      "latency-single-node",
      "latency-cluster-same-node",
      "latency-cluster-cross-node",
      "flow-single-node",
      "flow-cluster-1-node",
      "flow-cluster-2-nodes-local",
      "flow-cluster-2-nodes-cross",
      "fanout-single-node-100",
      "fanout-cluster-1-node-100",
      "fanout-cluster-2-nodes-100",
      "echo-single-node",
      "handshake-single-node",
      "echo-workers-1",
      "handshake-workers-1",
      "echo-workers-2",
      "handshake-workers-2",
    ]);
    for (const m of report.scenarios.flatMap((s) => s.measurements)) {
      expect(m.peer.operations, `${m.id}: ${JSON.stringify(m.peer.errorSamples)}`).toBeGreaterThan(0);
      expect([m.peer.errors, m.peer.timeouts, m.peer.connectionFailures], `${m.id}: ${JSON.stringify(m.peer.errorSamples)}`).toEqual([0, 0, 0]);
      expect(m.raw).toBeNull();
    }
  });

  test("the added latency of a cross-node message is its percentile minus the single node's, measured in the same run", () => {
    const single = find("cluster", "latency-single-node");
    const cross = find("cluster", "latency-cluster-cross-node");
    expect(single.peer.extra.addedP50Ms).toBeUndefined();
    expect(cross.peer.extra.addedP50Ms).toBeCloseTo((cross.peer.latencyMs?.p50 ?? NaN) - (single.peer.latencyMs?.p50 ?? NaN), 3);
    expect(cross.peer.extra.addedP99Ms).toBeCloseTo((cross.peer.latencyMs?.p99 ?? NaN) - (single.peer.latencyMs?.p99 ?? NaN), 3);
    expect(cross.ratios["singleNode.p99"]).toBeCloseTo((cross.peer.latencyMs?.p99 ?? NaN) / (single.peer.latencyMs?.p99 ?? NaN), 2);
  });

  test("2 nodes are compared with 1 node by throughput, and --workers 2 with --workers 1", () => {
    const single = find("cluster", "flow-single-node");
    const one = find("cluster", "flow-cluster-1-node");
    const two = find("cluster", "flow-cluster-2-nodes-local");
    expect(two.ratios["singleNode.throughput"]).toBeCloseTo(two.peer.throughputPerSec / single.peer.throughputPerSec, 2);
    expect(two.ratios["clusterNode1.throughput"]).toBeCloseTo(two.peer.throughputPerSec / one.peer.throughputPerSec, 2);
    const w1 = find("workers", "echo-workers-1");
    const w2 = find("workers", "echo-workers-2");
    expect(w2.ratios["clusterNode1.throughput"]).toBeCloseTo(w2.peer.throughputPerSec / w1.peer.throughputPerSec, 2);
  });

  test("a broadcast from node 1 reaches every subscriber on both nodes", () => {
    const m = find("cluster", "fanout-cluster-2-nodes-100");
    expect(m.peer.extra.subscribers).toBe(100);
    expect(m.peer.extra.broadcasts).toBeGreaterThan(0);
    expect(m.peer.timeouts).toBe(0);
    expect(m.peer.operations).toBe((m.peer.extra.broadcasts ?? NaN) * 100);
  });

  test("the CPU of the nodes and of Redis is measured apart from the load generator's", () => {
    for (const id of ["latency-cluster-cross-node", "flow-cluster-2-nodes-cross"]) {
      const m = find("cluster", id);
      expect(m.peer.serverCpu?.percentOfCore, id).toBeGreaterThanOrEqual(0);
      expect(m.peer.extra.redisCpuPercentOfCore, id).toBeGreaterThanOrEqual(0);
      expect(m.peer.loadWorkerBusyPercent, id).toHaveLength(1);
    }
    expect(find("workers", "echo-workers-2").peer.serverCpu?.percentOfCore).toBeGreaterThan(0);
  });
});
