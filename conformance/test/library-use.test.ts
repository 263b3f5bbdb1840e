/** The README's "use from code" example, as a project would write it in its own vitest suite. */
import { expect, test } from "vitest";
import { runConformance } from "peer-protocol/conformance";
import { PeerServer } from "peer-protocol/reference/server";

test("runConformance runs selected cases against a target and reports per case", async () => {
  const server = await PeerServer.start({ logLevel: "silent" });
  try {
    const report = await runConformance({ target: server.wsUrl, only: ["handshake"], runs: 3, seed: 7 });
    expect(report.summary.failed).toBe(0);
    expect(report.cases.length).toBeGreaterThan(5);
    expect(report.cases.every((c) => c.id.startsWith("handshake."))).toBe(true);
  } finally {
    await server.close();
  }
}, 60_000);
