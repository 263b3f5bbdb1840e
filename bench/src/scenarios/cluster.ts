/**
 * The cluster scenario (issue 16): two reference nodes on one Redis (`cluster-nodes.ts`), against
 * the single node without Redis that the run starts for every scenario (`context.peer`), in the
 * same run:
 *
 * (a) latency of one PEER_MESSAGE between two clients, 1 in flight: same node (single node, no
 *     Redis), same node of the cluster, and across nodes (sender on node 1, recipient on node 2);
 *     the added p50 and p99 against the single node;
 * (b) throughput of a steady flow of PEER_MESSAGEs over several pairs, pipelined: 1 node (single,
 *     and one cluster node) against 2 nodes (each pair on one node, and every pair across nodes);
 * (c) fan-out: a BROADCAST from a session on node 1 reaching subscribers on one node against
 *     subscribers spread over both nodes (PP-EVT-003).
 *
 * The load generator's worker threads carry the pairs (both ends of a pair in one thread, one
 * clock); its CPU and saturation are reported as in every scenario. The server CPU is the sum of
 * the nodes; Redis's is reported apart.
 */
import { startCluster, type BenchCluster } from "../cluster-nodes.ts";
import { split } from "../load/pool.ts";
import { formatBytes, referenceSize } from "../options.ts";
import type { Sample } from "../report-schema.ts";
import type { FanoutSetupParams, PairPlacement, PairsSetupParams } from "./cluster-jobs.ts";
import { pipelineDepth } from "./echo.ts";
import { runGroupWindowed, versusSingleNode, type ServerGroup } from "./group-window.ts";
import { progress, windowFor, workersFor, type Scenario, type ScenarioContext } from "./scenario.ts";

let tagCounter = 0;

interface Topology {
  single: string;
  node1: string;
  node2: string;
  singleGroup: ServerGroup;
  clusterGroup: ServerGroup;
}

function topologyOf(context: ScenarioContext, cluster: BenchCluster): Topology {
  const [node1, node2] = cluster.nodes;
  if (!node1 || !node2) throw new Error("the cluster has fewer than two nodes");
  return {
    single: context.peer.url,
    node1: node1.url,
    node2: node2.url,
    singleGroup: { servers: () => (context.peer.pid === null ? [] : [context.peer.pid]), redisPid: null },
    clusterGroup: { servers: () => cluster.nodes.map((n) => n.pid), redisPid: cluster.redis.pid },
  };
}

/** Runs the pairs on the load workers (each pair whole in one worker) and returns the merged sample. */
async function measurePairs(context: ScenarioContext, placements: PairPlacement[], depth: number, size: number, group: ServerGroup, drainMs = 5_000): Promise<Sample> {
  const { pool, options } = context;
  const tag = `c${tagCounter++}`;
  const workers = workersFor(pool, placements.length);
  let offset = 0;
  const slices = split(placements.length, workers.length).map((count) => placements.slice(offset, (offset += count)));
  await Promise.all(workers.map((worker, i) => pool.call(worker, "cluster.pairs.setup", { tag, pairs: slices[i] ?? [], entityPrefix: `bench-cl-${tag}-w${worker}` } satisfies PairsSetupParams)));
  try {
    return await runGroupWindowed(pool, "cluster.pairs.run", windowFor(options, options.durationS, drainMs), workers, () => ({ tag, depth, size }), group);
  } finally {
    await Promise.all(workers.map((worker) => pool.call(worker, "cluster.pairs.teardown", { tag })));
  }
}

async function measureFanout(context: ScenarioContext, publisherUrl: string, subscriberUrls: string[], size: number, group: ServerGroup): Promise<Sample> {
  const { pool, options } = context;
  await pool.call(0, "cluster.fanout.setup", { publisherUrl, subscriberUrls, entityId: `bench-cl-pub${tagCounter++}`, size } satisfies FanoutSetupParams);
  try {
    return await runGroupWindowed(pool, "cluster.fanout.run", windowFor(options, options.durationS, 6_000), [0], () => ({ size }), group);
  } finally {
    await pool.call(0, "cluster.fanout.teardown", {});
  }
}

const ADDED_NOTE =
  "The baseline of every figure here is the single node without Redis, started for this scenario and measured in the same run: 'x 1 node' is the throughput against it, '+p50'/'+p99' the latency added to it (ms), 'x 1 cluster node' the throughput against one node of the cluster (with Redis). Server CPU is the nodes' together; Redis's CPU is apart (redis CPU).";

export const clusterScenario: Scenario = {
  name: "cluster",
  title: "Cluster on Redis: cross-node messages, throughput, fan-out",
  description:
    "Two reference nodes on one Redis (redis-server started by the bench on loopback, nothing on disk) against a single node without Redis, same run: the one-way latency of a PEER_MESSAGE (1 in flight) on one node, on one cluster node and across nodes; the throughput of pipelined PEER_MESSAGE pairs on 1 node against 2; a BROADCAST reaching subscribers on one node against both. Reports the added p50/p99 of a cross-node message and the throughput ratios.",
  async run(context, outcome) {
    const { options } = context;
    if (options.target !== undefined) throw new Error("the cluster scenario starts its own nodes and Redis: run it without TARGET");
    const profileDir = options.serverCpuProfDir;
    const cluster = await startCluster(2, { nodeArgs: profileDir ? (nodeId) => ["--cpu-prof", "--cpu-prof-dir", `${profileDir}/cluster-${nodeId}`] : undefined });
    try {
      const t = topologyOf(context, cluster);
      const size = referenceSize(options);
      outcome.notes.push(ADDED_NOTE, `Nodes: ${cluster.nodes.map((n) => `${n.nodeId} (pid ${n.pid})`).join(", ")}; Redis pid ${cluster.redis.pid} at ${cluster.redis.url} (no persistence). Payload ${formatBytes(size)}.`);

      // (a) latency, 1 pair, 1 in flight.
      const latencyPoints: [string, string, PairPlacement, ServerGroup][] = [
        ["latency-single-node", "1 node (no Redis): sender and recipient on it", { senderUrl: t.single, recipientUrl: t.single }, t.singleGroup],
        ["latency-cluster-same-node", "cluster: sender and recipient on node 1", { senderUrl: t.node1, recipientUrl: t.node1 }, t.clusterGroup],
        ["latency-cluster-cross-node", "cluster: sender on node 1, recipient on node 2", { senderUrl: t.node1, recipientUrl: t.node2 }, t.clusterGroup],
      ];
      let single: Sample | null = null;
      for (const [id, what, placement, group] of latencyPoints) {
        const sample = await measurePairs(context, [placement], 1, size, group);
        single ??= sample;
        const label = `PEER_MESSAGE one way, 1 in flight, ${formatBytes(size)}: ${what}`;
        progress(context, label, sample, null);
        outcome.measurements.push(versusSingleNode(id, label, { part: "latency", placement: id.replace("latency-", ""), pairs: 1, inFlight: 1, payloadBytes: size }, sample, single));
      }

      // (b) throughput, several pairs, pipelined.
      const pairs = Math.max(2, Math.floor(options.connections / 2));
      const depth = Math.max(1, Math.min(pipelineDepth(size, options.pipeline), Math.floor((context.peer.limits.retransmit_buffer ?? 1024) / 2)));
      const placements = (place: (i: number) => PairPlacement) => Array.from({ length: pairs }, (_, i) => place(i));
      const onNode = (i: number) => (i % 2 === 0 ? t.node1 : t.node2);
      const otherNode = (i: number) => (i % 2 === 0 ? t.node2 : t.node1);
      const throughputPoints: [string, string, PairPlacement[], ServerGroup][] = [
        ["flow-single-node", "1 node (no Redis)", placements(() => ({ senderUrl: t.single, recipientUrl: t.single })), t.singleGroup],
        ["flow-cluster-1-node", "cluster, every pair on node 1", placements(() => ({ senderUrl: t.node1, recipientUrl: t.node1 })), t.clusterGroup],
        ["flow-cluster-2-nodes-local", "cluster, 2 nodes, each pair on one node (half on each)", placements((i) => ({ senderUrl: onNode(i), recipientUrl: onNode(i) })), t.clusterGroup],
        ["flow-cluster-2-nodes-cross", "cluster, 2 nodes, every pair across nodes", placements((i) => ({ senderUrl: onNode(i), recipientUrl: otherNode(i) })), t.clusterGroup],
      ];
      let flowSingle: Sample | null = null;
      let flowClusterNode: Sample | undefined;
      for (const [id, what, list, group] of throughputPoints) {
        const sample = await measurePairs(context, list, depth, size, group);
        flowSingle ??= sample;
        if (id === "flow-cluster-1-node") flowClusterNode = sample;
        const label = `PEER_MESSAGE flow, ${pairs} pairs, ${depth} in flight each, ${formatBytes(size)}: ${what}`;
        progress(context, label, sample, null);
        outcome.measurements.push(versusSingleNode(id, label, { part: "throughput", placement: id.replace("flow-", ""), pairs, inFlight: depth, payloadBytes: size }, sample, flowSingle, id.includes("2-nodes") ? flowClusterNode : undefined));
      }

      // (c) fan-out, publisher on node 1 (or the single node).
      const fanSize = Math.min(size, 16_384);
      for (const subscribers of options.quick ? [100] : [100, 1000]) {
        const everyOn = (url: string) => Array.from({ length: subscribers }, () => url);
        const fanoutPoints: [string, string, string, string[], ServerGroup][] = [
          [`fanout-single-node-${subscribers}`, "1 node (no Redis)", t.single, everyOn(t.single), t.singleGroup],
          [`fanout-cluster-1-node-${subscribers}`, "cluster, publisher and subscribers on node 1", t.node1, everyOn(t.node1), t.clusterGroup],
          [`fanout-cluster-2-nodes-${subscribers}`, "cluster, publisher on node 1, subscribers half on each node", t.node1, Array.from({ length: subscribers }, (_, i) => onNode(i)), t.clusterGroup],
        ];
        let fanSingle: Sample | null = null;
        let fanClusterNode: Sample | undefined;
        for (const [id, what, publisherUrl, subscriberUrls, group] of fanoutPoints) {
          const sample = await measureFanout(context, publisherUrl, subscriberUrls, fanSize, group);
          fanSingle ??= sample;
          if (id.startsWith("fanout-cluster-1-node")) fanClusterNode = sample;
          const label = `BROADCAST to ${subscribers} subscribers, ${formatBytes(fanSize)}: ${what}`;
          progress(context, label, sample, null, " deliveries/s");
          outcome.measurements.push(versusSingleNode(id, label, { part: "fanout", placement: id.replace(/^fanout-|-\d+$/g, ""), subscribers, payloadBytes: fanSize }, sample, fanSingle, id.startsWith("fanout-cluster-2") ? fanClusterNode : undefined));
        }
      }
    } finally {
      await cluster.stop();
    }
  },
};
