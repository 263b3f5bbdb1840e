/**
 * Issue #12: a verdict must not depend on the seed. `envelope.schema-violations` once drew, about one
 * run in four, an offer (`versions: ["v1.2"]`) whose right answer the spec left open; the spec now
 * settles it (PP-VER-012, PP-ENV-013), and the case must give the reference one verdict whatever it
 * draws.
 */
import { expect, test } from "vitest";
import { runConformance, startEmbedded } from "../src/runner.ts";

const SEEDS = Array.from({ length: 20 }, (_, i) => i + 1);

test("envelope.schema-violations passes against the reference for 20 different seeds", async () => {
  const server = await startEmbedded();
  try {
    const verdicts: string[] = [];
    for (const seed of SEEDS) {
      const report = await runConformance({ target: server.url, only: ["envelope.schema-violations"], seed, traces: "none" });
      const result = report.cases[0];
      verdicts.push(`${seed}: ${result?.verdict ?? "not run"}${result?.verdict === "pass" ? "" : ` ${result?.message ?? ""}`}`);
    }
    expect(verdicts).toEqual(SEEDS.map((seed) => `${seed}: pass`));
  } finally {
    await server.close();
  }
}, 180_000);
