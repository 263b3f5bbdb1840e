/**
 * `peer-server --workers N` (issue 15: "Bench it with --workers 1 and --workers 2"): the reference
 * server as N node:cluster workers behind one port, each a node of a cluster on one Redis
 * (`reference/src/cli/workers.ts`), against the single node without Redis that the run starts
 * for every scenario, in the same run. Two figures each: the pipelined TASK_REQUEST echo over N
 * connections, and full handshakes at N concurrent, with the echo and handshake scenarios' own
 * worker jobs (the same load, only the server differs). Connections are handed to the workers in
 * turn by the primary, so N connections spread over them.
 */
import { startWorkersServer } from "../cluster-nodes.ts";
import { split } from "../load/pool.ts";
import { formatBytes, referenceSize } from "../options.ts";
import { startBenchRedis } from "../redis-server.ts";
import type { Sample } from "../report-schema.ts";
import { pipelineDepth } from "./echo.ts";
import { runGroupWindowed, versusSingleNode, type ServerGroup } from "./group-window.ts";
import { progress, windowFor, workersFor, type Scenario, type ScenarioContext } from "./scenario.ts";

let tagCounter = 0;

interface Server {
  url: string;
  serverId: string;
  group: ServerGroup;
}

async function echo(context: ScenarioContext, server: Server, connections: number, depth: number, size: number): Promise<Sample> {
  const { pool, options } = context;
  const tag = `wk${tagCounter++}`;
  const workers = workersFor(pool, connections);
  const perWorker = split(connections, workers.length);
  await Promise.all(workers.map((worker, i) => pool.call(worker, "echo.setup", { tag, side: "peer", url: server.url, serverId: server.serverId, connections: perWorker[i] ?? 0, kind: "task", size, entityPrefix: `bench-wk-${tag}-w${worker}` })));
  try {
    return await runGroupWindowed(pool, "echo.run", windowFor(options, options.durationS, 3_000), workers, () => ({ tag, mode: "closed", depth, ratePerSec: 0 }), server.group);
  } finally {
    await Promise.all(workers.map((worker) => pool.call(worker, "echo.teardown", { tag })));
  }
}

async function handshakes(context: ScenarioContext, server: Server, concurrency: number): Promise<Sample> {
  const { pool, options } = context;
  const tag = `wk${tagCounter++}`;
  const workers = workersFor(pool, concurrency);
  const slots = split(concurrency, workers.length);
  // frameSizes only shape the raw baseline's frames; this figure has none.
  return runGroupWindowed(pool, "handshake.run", windowFor(options, options.durationS, 10_000), workers, (worker, i) => ({ side: "peer", url: server.url, slots: slots[i], entityPrefix: `bench-wk-${tag}-w${worker}`, frameSizes: [] }), server.group);
}

export const workersScenario: Scenario = {
  name: "workers",
  title: "peer-server --workers 1 and 2 (node:cluster on Redis)",
  description:
    "The reference server started as `peer-server --workers N --redis URL` (N = 1, 2: node:cluster workers behind one port, each a cluster node on one Redis) against the single node without Redis, same run: TASK_REQUEST echo over N connections, pipelined, and full handshakes at N concurrent. Reports the throughput against the single node and --workers 2 against --workers 1.",
  async run(context, outcome) {
    const { options } = context;
    if (options.target !== undefined) throw new Error("the workers scenario starts its own servers and Redis: run it without TARGET");
    const size = referenceSize(options);
    const n = options.connections;
    const depth = Math.max(1, Math.min(pipelineDepth(size, options.pipeline), Math.floor((context.peer.limits.retransmit_buffer ?? 1024) / 2)));
    const redis = await startBenchRedis();
    try {
      outcome.notes.push(
        "The baseline is the single node without Redis of the same run: 'x 1 node' is the throughput against it, '+p50'/'+p99' the latency added (ms); 'x 1 cluster node' is --workers 2 against --workers 1. Server CPU is the primary's and its workers' together; Redis's is apart.",
        `Redis pid ${redis.pid} (no persistence); echo payload ${formatBytes(size)}, ${depth} in flight per connection.`,
      );
      const single: Server = { url: context.peer.url, serverId: context.peer.serverId, group: { servers: () => (context.peer.pid === null ? [] : [context.peer.pid]), redisPid: null } };
      const rows: { id: string; label: string; server: () => Promise<Server & { stop(): Promise<void> }> }[] = [
        { id: "single-node", label: "1 node (no Redis)", server: async () => ({ ...single, stop: async () => {} }) },
        ...[1, 2].map((workers) => ({
          id: `workers-${workers}`,
          label: `--workers ${workers}`,
          server: async () => {
            const started = await startWorkersServer(redis.url, workers);
            return { url: started.url, serverId: started.serverId, group: { servers: started.pids, redisPid: redis.pid }, stop: started.stop };
          },
        })),
      ];
      const firsts: { echo?: Sample; handshake?: Sample; workers1Echo?: Sample; workers1Handshake?: Sample } = {};
      for (const { id, label, server: start } of rows) {
        const server = await start();
        try {
          const echoSample = await echo(context, server, n, depth, size);
          firsts.echo ??= echoSample;
          if (id === "workers-1") firsts.workers1Echo = echoSample;
          const echoLabel = `TASK_REQUEST echo, ${n} conns, pipelined (${depth} in flight), ${formatBytes(size)}: ${label}`;
          progress(context, echoLabel, echoSample, null);
          outcome.measurements.push(versusSingleNode(`echo-${id}`, echoLabel, { part: "echo", server: id, connections: n, inFlight: depth, payloadBytes: size }, echoSample, firsts.echo, id === "workers-2" ? firsts.workers1Echo : undefined));

          const hsSample = await handshakes(context, server, n);
          firsts.handshake ??= hsSample;
          if (id === "workers-1") firsts.workers1Handshake = hsSample;
          const hsLabel = `${n} concurrent handshakes: ${label}`;
          progress(context, hsLabel, hsSample, null, " hs/s");
          outcome.measurements.push(versusSingleNode(`handshake-${id}`, hsLabel, { part: "handshake", server: id, concurrency: n }, hsSample, firsts.handshake, id === "workers-2" ? firsts.workers1Handshake : undefined));
        } finally {
          await server.stop();
        }
      }
    } finally {
      await redis.stop();
    }
  },
};
