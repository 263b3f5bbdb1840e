/**
 * A cluster of reference servers for the cluster scenarios (issue 16): one Redis (`redis-server.ts`)
 * and N `peer-server --redis URL` nodes, each a process of its own started like the embedded
 * server (`servers.ts`: same module, same flags: no rate limit, no per-IP connection cap, silent
 * logs), so a single node and a cluster node differ only by `--redis`. Also one `peer-server
 * --workers N --redis URL`: N node:cluster workers behind one port (issue 15).
 *
 * Every node gets the same identity seed, as a cluster must (one server, one identity key). It is a
 * throw-away key made for this run, so passing it as a flag is harmless.
 */
import { randomBytes } from "node:crypto";
import { childPids } from "./group-cpu.ts";
import { startBenchRedis, type BenchRedis } from "./redis-server.ts";
import { startPeerServer, type ChildServer } from "./servers.ts";

export interface ClusterNode {
  nodeId: string;
  /** http base URL. */
  url: string;
  pid: number;
  serverId: string;
}

export interface BenchCluster {
  redis: BenchRedis;
  nodes: ClusterNode[];
  stop(): Promise<void>;
}

function clusterFlags(redisUrl: string, seed: string, nodeId: string): string[] {
  return ["--redis", redisUrl, "--identity-seed", seed, "--node-id", nodeId];
}

/** Starts Redis, then `count` nodes on it; everything started is stopped again if a start fails. */
export async function startCluster(count: number, options: { nodeArgs?: (nodeId: string) => string[] } = {}): Promise<BenchCluster> {
  const redis = await startBenchRedis();
  const children: ChildServer[] = [];
  const stop = async () => {
    await Promise.all(children.map((child) => child.stop()));
    await redis.stop();
  };
  try {
    const seed = randomBytes(32).toString("hex");
    const nodes = await Promise.all(
      Array.from({ length: count }, async (_, i) => {
        const nodeId = `bench-node-${i + 1}`;
        const child = await startPeerServer({ nodeArgs: options.nodeArgs?.(nodeId), extraFlags: clusterFlags(redis.url, seed, nodeId) });
        children.push(child);
        return { nodeId, url: child.url, pid: child.pid, serverId: child.serverId };
      }),
    );
    return { redis, nodes, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

export interface WorkersServer {
  url: string;
  /** The primary's pid. */
  pid: number;
  serverId: string;
  /** The primary and its workers: the processes whose CPU is the server's. */
  pids(): number[];
  stop(): Promise<void>;
}

/**
 * `peer-server --workers N --redis URL` on the given Redis: ready once all N workers have printed
 * their banner (every worker listens on the one port the primary shares out; see
 * reference/src/cli/workers.ts).
 */
export async function startWorkersServer(redisUrl: string, workers: number, timeoutMs = 30_000): Promise<WorkersServer> {
  const seed = randomBytes(32).toString("hex");
  const child = await startPeerServer({ extraFlags: ["--workers", String(workers), ...clusterFlags(redisUrl, seed, `bench-workers${workers}`)] });
  try {
    const deadline = Date.now() + timeoutMs;
    // The first banner resolved the start; the other workers print theirs on the same stdout.
    while (child.banner.filter((line) => line.startsWith("identity key ")).length < workers) {
      if (Date.now() > deadline) throw new Error(`peer-server --workers ${workers}: only ${child.banner.filter((line) => line.startsWith("identity key ")).length} workers were ready within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } catch (error) {
    await child.stop();
    throw error;
  }
  return { url: child.url, pid: child.pid, serverId: child.serverId, pids: () => [child.pid, ...childPids(child.pid)], stop: () => child.stop() };
}
