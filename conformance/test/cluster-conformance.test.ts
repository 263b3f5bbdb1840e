/**
 * The whole conformance suite against a real two-node cluster (issue 16): two reference servers in
 * this process, each `PeerServer.start({ cluster })` on one real Redis, with one identity seed and
 * server_id. Each node is TARGET once, with the other as --peer-target, so the `cluster` suite runs
 * across them as well as every single-node case: a cluster node must be a conformant server on its
 * own (the spec does not know about clusters; PP-TRN-016: one server, whichever node answers).
 *
 * The nodes are started through the runner's startEmbedded, which passes its options to
 * PeerServer.start: the runner never imports reference/ protocol logic (DESIGN.md §2).
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, expect, test } from "vitest";
import { clusterCases } from "../src/cases/cluster.ts";
import type { Report } from "../src/report.ts";
import { EMBEDDED_LIMITS, runConformance, startEmbedded } from "../src/runner.ts";
import { describeWithRedis, redisForSuite } from "../../reference/test/support/redis-server.ts";

/** Fixed, so that a failure here replays with `--seed 1`. */
const SEED = 1;
/** The whole suite takes about 75 s against one node on a quiet machine; the machine is shared. */
const RUN_TIMEOUT_MS = 600_000;
const SERVER_ID = "conformance-cluster";

interface Node {
  url: string;
  close(): Promise<void>;
}

/** Every case that did not pass, with its verdict and message: what a failure of this test names. */
function notPassed(report: Report): string {
  const lines = report.cases.filter((c) => c.verdict !== "pass").map((c) => `${c.id}: ${c.verdict}${c.message ? ` (${c.message})` : ""}`);
  return [`seed ${report.seed}; summary ${JSON.stringify(report.summary)}${report.aborted ? `; aborted: ${report.aborted}` : ""}`, ...lines].join("\n");
}

describeWithRedis("the whole conformance suite against each node of a two-node cluster on one Redis", () => {
  const redis = redisForSuite();
  const nodes: Node[] = [];

  beforeAll(async () => {
    // One server, two processes' worth of nodes: the same identity key and server_id on both (PP-TRN-016).
    const identitySeed = randomBytes(32);
    for (const nodeId of ["conf-node-1", "conf-node-2"]) {
      nodes.push(await startEmbedded({ limits: { ...EMBEDDED_LIMITS }, identitySeed, serverId: SERVER_ID, cluster: { redisUrl: redis().url, nodeId } }));
    }
  });

  afterAll(async () => {
    await Promise.all(nodes.splice(0).map((node) => node.close()));
  });

  const clusterIds = clusterCases.map((c) => c.id);

  test.for([
    ["node 1", 0, 1],
    ["node 2", 1, 0],
  ] as const)(
    "%s as TARGET, the other as --peer-target: no case fails, and the cluster cases run",
    { timeout: RUN_TIMEOUT_MS },
    async ([name, target, peer], { annotate }) => {
      const report = await runConformance({ target: nodes[target]!.url, peerTarget: nodes[peer]!.url, seed: SEED, traces: "none" });
      const summary = notPassed(report);
      await annotate(`${name}: ${JSON.stringify(report.summary)}`);
      expect(report.aborted, summary).toBeUndefined();
      expect(report.summary.failed, summary).toBe(0);
      expect(report.summary.errors, summary).toBe(0);
      expect(report.summary.total, summary).toBe(report.cases.length);
      expect(report.peer_target).toBe(nodes[peer]!.url);
      // Every cluster case ran and passed: none was skipped for want of a second node.
      const cluster = report.cases.filter((c) => clusterIds.includes(c.id));
      expect(cluster.map((c) => c.id), summary).toEqual(clusterIds);
      expect(cluster.filter((c) => c.verdict !== "pass").map((c) => `${c.id}: ${c.verdict} ${c.message ?? ""}`), summary).toEqual([]);
      // The rest may skip only for what a skip means (a capability not offered, --slow); a warn is a SHOULD missed.
      const unexpected = report.cases.filter((c) => c.verdict !== "pass" && c.verdict !== "skip");
      expect(unexpected.map((c) => `${c.id}: ${c.verdict} ${c.message ?? ""}`), summary).toEqual([]);
    },
  );
});
