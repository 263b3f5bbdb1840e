/**
 * The cluster cases (src/cases/cluster.ts, issue 16) and --peer-target. Through the self-test
 * (selftest/faulty-clusters.ts): each catcher fails against its faulty pair of nodes and passes
 * against the clean twin, one reference server reached at two addresses. Without --peer-target every
 * cluster case is skipped with the note; the CLI refuses a --peer-target it cannot use, and the
 * reports name it.
 */
import { createServer, type AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { main } from "../src/cli.ts";
import { clusterCases } from "../src/cases/cluster.ts";
import { renderJunit } from "../src/reporters/junit.ts";
import { EMBEDDED_LIMITS, PEER_TARGET_SKIP, runConformance } from "../src/runner.ts";
import { validateReport } from "../../schemas/src/index.ts";
import { FAULTY_CLUSTERS, startCluster, type StartedCluster } from "../selftest/faulty-clusters.ts";
import { runSelfTest, STEP_TIMEOUT_MS } from "../selftest/run.ts";

const clusterIds = clusterCases.map((c) => c.id);

/** A loopback port with nothing listening: one just freed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe("the faulty pairs of nodes", () => {
  test("between them, every cluster case is a catcher of a faulty pair", () => {
    const caught = new Set(FAULTY_CLUSTERS.flatMap((e) => e.catchers));
    expect(clusterIds.filter((id) => !caught.has(id))).toEqual([]);
  });

  test(
    "each cluster case fails against its faulty pair and passes against one server at two addresses",
    async () => {
      const result = await runSelfTest({ endpoints: FAULTY_CLUSTERS, runs: 1, seed: 7 });
      for (const outcome of result.outcomes) {
        const verdicts = (results: Map<string, { verdict: string; message?: string }>) => Object.fromEntries(outcome.endpoint.catchers.map((id) => [id, `${results.get(id)?.verdict ?? "not run"}: ${results.get(id)?.message ?? ""}`]));
        // Every catcher, not only one: a cluster case that passes against a pair sharing nothing checks nothing across nodes.
        expect(outcome.detectedBy, `${outcome.endpoint.name}\nfaulty: ${JSON.stringify(verdicts(outcome.faulty), null, 1)}\nclean: ${JSON.stringify(verdicts(outcome.clean), null, 1)}`).toEqual(outcome.endpoint.catchers);
        for (const id of outcome.endpoint.catchers) expect(outcome.clean.get(id)?.verdict, `${id} against the clean twin`).toBe("pass");
      }
      expect(result.detected).toBe(FAULTY_CLUSTERS.length);
    },
    300_000,
  );
});

describe("without --peer-target", () => {
  test("every cluster case is skipped with the note, and the report has no peer_target", async () => {
    const report = await runConformance({ only: ["cluster"], seed: 3, stepTimeoutMs: STEP_TIMEOUT_MS, traces: "none" });
    expect(report.cases.map((c) => c.id)).toEqual(clusterIds);
    for (const c of report.cases) {
      expect(c.verdict, c.id).toBe("skip");
      expect(c.message, c.id).toBe(PEER_TARGET_SKIP);
    }
    expect(PEER_TARGET_SKIP).toBe("needs --peer-target: a second node of the same deployment");
    expect(report.summary).toEqual({ passed: 0, failed: 0, skipped: clusterIds.length, warned: 0, errors: 0, total: clusterIds.length });
    expect(report.peer_target).toBeUndefined();
    expect(report.coverage.covered).toBe(0);
  }, 60_000);
});

describe("--peer-target", () => {
  let pair: StartedCluster;
  beforeAll(async () => {
    pair = await startCluster(null, { limits: { ...EMBEDDED_LIMITS } });
  });
  afterAll(async () => {
    await pair?.close();
  });

  const run = async (argv: string[]) => {
    let stdout = "";
    let stderr = "";
    const code = await main(argv, { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) }, cwd: process.cwd() });
    return { code, stdout, stderr };
  };

  test("the JSON report names the peer target and passes the report schema; JUnit carries it as a property", async () => {
    const { code, stdout, stderr } = await run([pair.url, "--peer-target", pair.peerUrl, "--only", "cluster.route-across-nodes,cluster.init-nonce-replayed-on-other-node", "--seed", "5", "--reporter", "json", "--quiet"]);
    expect(stderr).not.toContain("harness error");
    expect(code, stderr).toBe(0);
    const report = JSON.parse(stdout) as Parameters<typeof renderJunit>[0];
    expect(report.target).toBe(pair.url);
    expect(report.peer_target).toBe(pair.peerUrl);
    expect(validateReport(report).ok).toBe(true);
    expect(report.cases.map((c) => [c.id, c.verdict])).toEqual([
      ["cluster.route-across-nodes", "pass"],
      ["cluster.init-nonce-replayed-on-other-node", "pass"],
    ]);
    const xml = renderJunit(report);
    expect(xml).toContain(`<property name="peer_target" value="${pair.peerUrl}"/>`);
    expect(xml).toContain(`<property name="target" value="${pair.url}"/>`);
  }, 60_000);

  test("an unreachable peer target stops the run before any case, naming the flag (exit 2)", async () => {
    const closed = await closedPort();
    const { code, stdout, stderr } = await run([pair.url, "--peer-target", `http://127.0.0.1:${closed}`, "--only", "cluster"]);
    expect(code).toBe(2);
    expect(stderr).toMatch(new RegExp(`^peer-conformance: --peer-target: cannot reach http://127\\.0\\.0\\.1:${closed}: .*ECONNREFUSED`, "m"));
    expect(stdout).toBe("");
  }, 30_000);

  test.each([
    [["--peer-target", "ftp://x"], "--peer-target must be a ws(s):// or http(s):// URL of a second node of the same deployment, got 'ftp://x'"],
    [["--peer-target", "http://127.0.0.1:9"], "--peer-target needs TARGET: the first node of the same deployment (the embedded reference server is a single node)"],
    [["ws://127.0.0.1:9/ws/v1/peers", "--peer-target", "http://127.0.0.1:9/"], "--peer-target http://127.0.0.1:9/ is TARGET itself: give another node of the same deployment (another host or port)"],
    [["client", "--peer-target", "http://127.0.0.1:9"], "--peer-target applies to server mode only, not to peer-conformance client"],
  ])("refuses %j with a usage error (exit 2)", async (argv, message) => {
    const { code, stderr } = await run(argv);
    expect(code).toBe(2);
    expect(stderr).toBe(`peer-conformance: ${message}\n`);
  });

  test("the help names --peer-target", async () => {
    const { code, stdout } = await run(["--help"]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/--peer-target URL2 +a second node of the same deployment as TARGET/);
  });
});
