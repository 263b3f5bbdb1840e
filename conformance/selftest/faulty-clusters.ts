/**
 * Faulty clusters for the cluster cases (conformance/src/cases/cluster.ts, issue 16): two reference
 * servers given as TARGET and --peer-target that are not one server. Their clean twin is one
 * reference server reached at two addresses (itself, and a transparent proxy in front of it): two
 * "nodes" that share everything, since they are one process. A cluster case must pass there and fail
 * against a pair that shares nothing, so it cannot pass by looking at one node only.
 *
 * - `shared-nothing`: two independent processes with one identity key and one server_id, and no
 *   shared store: what one node does (a session, a nonce, a binding, a subscription) the other never
 *   hears of. Every cluster case but `cluster.one-server` must fail here; that one checks what the
 *   pair does share, and fails against the next.
 * - `two-identities`: the same, but each process with its own identity key: not one server at all.
 */
import { randomBytes } from "node:crypto";
import { startEmbedded } from "../src/runner.ts";
import { startFaultProxy } from "./fault-proxy.ts";
import type { EmbeddedConfig, FaultyEndpoint } from "./faulty-endpoints.ts";

export const CLUSTER_FAULT_NAMES = ["shared-nothing", "two-identities"] as const;
export type ClusterFaultName = (typeof CLUSTER_FAULT_NAMES)[number];

/** The server_id both processes of a faulty pair answer as. */
const SERVER_ID = "selftest-cluster";

export interface StartedCluster {
  /** TARGET: the first node's http base URL. */
  url: string;
  /** --peer-target: the second node's. */
  peerUrl: string;
  close(): Promise<void>;
}

/** Starts the faulty pair `fault`, or with null the clean twin: one server at two addresses. */
export async function startCluster(fault: ClusterFaultName | null, config: EmbeddedConfig = {}): Promise<StartedCluster> {
  // A fresh identity per start: the key is a throw-away of the self-test, shared by both processes where the fault says so.
  const identitySeed = randomBytes(32);
  const node = (seed: Buffer) => startEmbedded({ ...config, identitySeed: seed, serverId: SERVER_ID });
  const first = await node(identitySeed);
  if (fault === null) {
    const proxy = await startFaultProxy(first.url, { fault: null });
    return { url: first.url, peerUrl: proxy.url, close: async () => (await proxy.close(), await first.close()) };
  }
  const second = await node(fault === "two-identities" ? randomBytes(32) : identitySeed);
  return { url: first.url, peerUrl: second.url, close: async () => (await second.close(), await first.close()) };
}

const cluster = (name: ClusterFaultName, description: string, catchers: string[]): FaultyEndpoint => ({ name: `cluster:${name}`, kind: "cluster", description, cluster: name, catchers });

/** Every cluster case but the identity check: each needs state the two nodes share. */
const SHARED_STATE_CASES = [
  "cluster.resume-on-other-node",
  "cluster.older-connection-closed-across-nodes",
  "cluster.route-across-nodes",
  "cluster.queued-for-disconnected-across-nodes",
  "cluster.init-nonce-replayed-on-other-node",
  "cluster.resume-replayed-on-other-node",
  "cluster.used-secret-on-other-node",
  "cluster.resume-raced-on-both-nodes",
  "cluster.bye-ends-session-on-every-node",
  "cluster.ended-session-unknown-on-other-node",
  "cluster.identity-binding-across-nodes",
  "cluster.broadcast-on-both-nodes",
];

export const FAULTY_CLUSTERS: readonly FaultyEndpoint[] = [
  cluster("shared-nothing", "two processes with one identity key and server_id but no shared store: sessions, routes, queues, replay caches, bindings and subscriptions stay on the node that made them (spec §4.6, §8, §9, §14, §15 across nodes)", SHARED_STATE_CASES),
  cluster("two-identities", "two processes with one server_id but each its own identity key: not one server (PP-TRN-016)", ["cluster.one-server"]),
];
