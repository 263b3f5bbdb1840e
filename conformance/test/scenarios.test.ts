/**
 * Generated scenarios against a live reference server: a server that routes under new message ids
 * is caught, the shrunk scenario is printed as numbered sentences naming the requirement, and its
 * replay (seed, path and fast-check's replayPath) gives the same counterexample every time.
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import { runConformance } from "../src/runner.ts";
import { removeScratchCopies, startFaultyReference } from "../selftest/scratch-reference.ts";

let server: { url: string; close(): Promise<void> };

beforeAll(async () => {
  server = await startFaultyReference("route-new-message-id", { limits: { retransmit_buffer: 64, max_send_queue_bytes: 2_097_152 } });
});

afterAll(async () => {
  await server.close();
  removeScratchCopies();
});

test("a server that routes under new message ids fails the scenario with a phantom message, and the replay reproduces it three times", async () => {
  const only = ["scenarios.delivery-history"];
  const report = await runConformance({ target: server.url, only, seed: 1, runs: 10 });
  const result = report.cases[0]!;
  expect(result.verdict).toBe("fail");
  expect(result.message).toMatch(/which no probe sent \(PP-DLV-006, PP-DLV-012\)/);
  expect(result.message).toMatch(/\[reproduced [1-3] of 3\]$/);
  const lines = (result.counterexample ?? "").split("\n");
  expect(lines[0]).toMatch(/^1\. A connects over /);
  expect(lines.some((l) => /^\d+\. [ABC] sends m\d+/.test(l))).toBe(true);
  expect(lines.some((l) => l.startsWith("-> ") && l.includes("PP-DLV-012"))).toBe(true);
  expect(result.replay?.path).toMatch(/^\d+(:\d+)*~/);
  for (let i = 0; i < 3; i++) {
    const replayed = (await runConformance({ target: server.url, only, seed: result.replay!.seed, path: result.replay!.path })).cases[0]!;
    expect(replayed.verdict).toBe("fail");
    // The same scenario and the same findings; only the ids the faulty server made up differ.
    const steps = (text: string | undefined) => (text ?? "").replace(/PEER_MESSAGE \S+ from/g, "PEER_MESSAGE <id> from");
    expect(steps(replayed.counterexample)).toBe(steps(result.counterexample));
  }
}, 60_000);
