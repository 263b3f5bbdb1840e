/**
 * A counterexample is re-run alone K times before it is reported: "reproduced k of K", or flaky
 * when it never fails again; flaky is a failure, never a pass.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, expect, test } from "vitest";
import { suite, type Case } from "../src/case.ts";
import { runConformance } from "../src/runner.ts";

let server: Server;
let target: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    res.writeHead(req.url === "/peers/capabilities" ? 200 : 404, { "content-type": "application/json" });
    res.end(req.url === "/peers/capabilities" ? JSON.stringify({ protocol: "peer-protocol", versions: ["1.2"], server_id: "stand-in", identity_key: "A".repeat(43), capabilities: ["websocket"], limits: {} }) : "");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  target = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** Fails for values >= 50 the first `failures` times such a value is tried, then passes. */
function flakyCase(id: string, failures: number): Case {
  let failed = 0;
  return suite("fake", "99. Fake", [
    {
      id,
      title: id,
      requirements: ["PP-HS-001"],
      level: "MUST",
      run: (ctx) =>
        ctx.property(ctx.fc.integer({ min: 0, max: 100 }), async (n) => {
          if (n >= 50 && failed < failures) {
            failed++;
            ctx.fail("n < 50", String(n));
          }
        }),
    },
  ])[0] as Case;
}

test("a counterexample that fails every re-run is reported as reproduced 3 of 3", async () => {
  const report = await runConformance({ target, cases: [flakyCase("steady", 1000)], seed: 4, runs: 50 });
  const result = report.cases[0]!;
  expect(result.verdict).toBe("fail");
  expect(result.message).toMatch(/\[reproduced 3 of 3\]$/);
  expect(result.counterexample).toBe("50");
});

test("a counterexample that passes when re-run alone is reported as flaky and still fails the case", async () => {
  // It fails once in the search; shrinking tries other values, which pass, so the search ends on it.
  const report = await runConformance({ target, cases: [flakyCase("flaky", 1)], seed: 4, runs: 50 });
  const result = report.cases[0]!;
  expect(result.verdict).toBe("fail");
  expect(result.message).toMatch(/\[flaky: reproduced 0 of 3; it failed during the search only, and depends on .+\]$/);
  expect(report.summary.failed).toBe(1);
});

test("with a time budget a property keeps generating runs past --runs until the budget is spent", async () => {
  let tried = 0;
  const counting = suite("fake", "99. Fake", [
    { id: "counting", title: "counting", requirements: ["PP-HS-001"], level: "MUST", run: (ctx) => ctx.property(ctx.fc.nat(), async () => void tried++) },
  ]);
  const report = await runConformance({ target, cases: counting, seed: 1, runs: 5, timeBudgetMs: 300 });
  expect(report.cases[0]!.verdict).toBe("pass");
  expect(tried).toBeGreaterThan(5);
  expect(report.cases[0]!.message).toBe(`ran ${tried} runs in the time budget`);
});
