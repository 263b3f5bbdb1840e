/**
 * One node of a cluster as a child process (`node bin/peer-server.js --redis URL ...`), so that a
 * test can kill it with SIGKILL, as a crash or the OOM killer would: no BYE, no close frames, no
 * last Redis write (issue 16, "a node killed with SIGKILL while its clients stream").
 *
 *   const node = await startClusterNodeProcess({ redisUrl: redis.url, identitySeed, serverId, nodeId: "n1" });
 *   node.port        // its WebSocket/HTTP port on 127.0.0.1
 *   await node.kill(); // SIGKILL, resolves once it is gone
 *   await node.stop(); // SIGTERM (a graceful shutdown), SIGKILL after 5 s
 *
 * It is ./node-process.ts (dist/, a watchdog, the banner) with a cluster node's flags.
 */
import { startNodeProcess } from "./node-process.ts";

export interface ClusterNodeOptions {
  redisUrl: string;
  /** The same 32 bytes for every node of a cluster: together they are one server. */
  identitySeed: Buffer;
  serverId: string;
  nodeId: string;
  /** Limits as flags, e.g. `{ rate_limit_per_minute: 0 }` becomes `--rate-limit-per-minute 0`. */
  limits?: Record<string, number>;
  /** Default "warn": what goes wrong is in logTail(). */
  logLevel?: string;
}

export interface ClusterNodeProcess {
  readonly nodeId: string;
  readonly port: number;
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  readonly pid: number;
  /** The exit code or signal once it exited, undefined while it runs. */
  exited(): string | undefined;
  /** What it printed last (stdout and stderr), for failure messages. */
  logTail(): string;
  /** SIGKILL: a crash. Resolves once the process is gone. */
  kill(): Promise<void>;
  /** SIGTERM (graceful: BYE to its sessions), SIGKILL after 5 s. Idempotent. */
  stop(): Promise<void>;
}

export async function startClusterNodeProcess(options: ClusterNodeOptions): Promise<ClusterNodeProcess> {
  const limitFlags = Object.entries(options.limits ?? {}).flatMap(([name, value]) => [`--${name.replaceAll("_", "-")}`, String(value)]);
  const node = await startNodeProcess([
    "--host", "127.0.0.1",
    "--port", "0",
    "--redis", options.redisUrl,
    "--identity-seed", options.identitySeed.toString("hex"),
    "--server-id", options.serverId,
    "--node-id", options.nodeId,
    "--log-level", options.logLevel ?? "warn",
    ...limitFlags,
  ]);
  return {
    nodeId: options.nodeId,
    port: Number(new URL(node.url).port),
    url: node.url,
    pid: node.child.pid as number,
    exited: () => node.exited(),
    logTail: () => node.output().slice(-4_000),
    kill: () => node.kill(),
    stop: () => node.stop(),
  };
}
