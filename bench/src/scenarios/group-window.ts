/**
 * A measured window against a group of server processes (cluster nodes, `--workers` workers, and
 * their Redis), and the comparison to a single node measured in the same run: the helpers the
 * `cluster` and `workers` scenarios share.
 *
 * The scenarios' `runWindowed` samples one server pid; here every process of the group is sampled
 * over the same measured window. The server CPU is the sum of the nodes, Redis is reported apart
 * (`extra.redisCpuPercentOfCore`), and neither is counted in the machine's "other" load.
 */
import type { WorkerPool } from "../load/pool.ts";
import { epochMs, sleepUntil, windowBounds, type Window } from "../load/clock.ts";
import { GroupCpuMeter, type GroupCpu } from "../group-cpu.ts";
import type { Measurement, Sample } from "../report-schema.ts";
import { measurement, ratio, runWindowed, toSample } from "./scenario.ts";

/** The processes a figure's server side is made of. */
export interface ServerGroup {
  servers(): number[];
  redisPid: number | null;
}

export async function runGroupWindowed(pool: WorkerPool, job: string, window: Window, workers: number[], paramsFor: (worker: number, position: number) => object, group: ServerGroup): Promise<Sample> {
  const { from, to } = windowBounds(window);
  const sampling = (async (): Promise<GroupCpu> => {
    await sleepUntil(from);
    const meter = new GroupCpuMeter(group.servers(), group.redisPid);
    meter.restart();
    await sleepUntil(Math.max(to, epochMs()));
    return meter.read();
  })();
  const merged = await runWindowed(pool, job, window, workers, paramsFor, null);
  const cpu = await sampling;
  const serverShare = (cpu.servers?.percentOfCore ?? 0) + (cpu.redis?.percentOfCore ?? 0);
  merged.cpu.server = cpu.servers;
  if (merged.cpu.otherPercentOfCore !== null) merged.cpu.otherPercentOfCore = Math.max(0, Math.round((merged.cpu.otherPercentOfCore - serverShare) * 10) / 10);
  const sample = toSample(merged);
  if (cpu.redis) sample.extra.redisCpuPercentOfCore = cpu.redis.percentOfCore;
  return sample;
}

const round3 = (n: number) => Math.round(n * 1000) / 1000;

/**
 * A figure of a cluster configuration beside the single node (no Redis) measured in the same run:
 * ratios `singleNode.throughput|p50|p99`, the added latency in ms (`extra.addedP50Ms`,
 * `extra.addedP99Ms`: this configuration's percentile minus the single node's), and, where given,
 * the throughput against one cluster node (`clusterNode1.throughput`). No raw ws figure: the
 * baseline of a cluster figure is the single node.
 */
export function versusSingleNode(id: string, label: string, params: Measurement["params"], sample: Sample, single: Sample | null, oneClusterNode?: Sample): Measurement {
  const ratios: Record<string, number | null> = {};
  if (single && sample !== single) {
    ratios["singleNode.throughput"] = ratio(sample.throughputPerSec, single.throughputPerSec);
    ratios["singleNode.p50"] = ratio(sample.latencyMs?.p50, single.latencyMs?.p50);
    ratios["singleNode.p99"] = ratio(sample.latencyMs?.p99, single.latencyMs?.p99);
    if (sample.latencyMs && single.latencyMs) {
      sample.extra.addedP50Ms = round3(sample.latencyMs.p50 - single.latencyMs.p50);
      sample.extra.addedP99Ms = round3(sample.latencyMs.p99 - single.latencyMs.p99);
    }
  }
  if (oneClusterNode && sample !== oneClusterNode) ratios["clusterNode1.throughput"] = ratio(sample.throughputPerSec, oneClusterNode.throughputPerSec);
  return measurement(id, label, params, sample, null, ratios);
}
