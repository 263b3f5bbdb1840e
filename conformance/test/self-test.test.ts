/**
 * DESIGN.md §5: every case must be shown to fail against a deliberately faulty endpoint. The
 * reference server's fault switches each break one behaviour; the case aimed at it must fail, and
 * pass against the same server without the fault. Short timers make the timer cases testable.
 * Runs only where the embedded reference server is available.
 */
import { existsSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { runConformance, type EmbeddedOptions } from "../src/runner.ts";

const embedded = existsSync(new URL("../../reference/src/server/embedded.ts", import.meta.url));

async function verdicts(only: string[], options: EmbeddedOptions = {}, slow = false) {
  const report = await runConformance({ only, embedded: options, runs: 5, seed: 11, slow });
  return Object.fromEntries(report.cases.map((c) => [c.id, { verdict: c.verdict, message: c.message ?? "" }]));
}

describe.skipIf(!embedded)("cases fail against deliberately faulty servers", () => {
  test.each([
    ["no-dedupe", "delivery.duplicates"],
    ["echo-corrupts", "delivery.echo"],
    ["never-ack", "delivery.ack-within-delay"],
    ["resend-acknowledged", "resume.no-resend-of-covered"],
    ["no-rate-limit", "limits.rate-limit"],
  ])("fault %s makes %s fail", async (fault, caseId) => {
    const faulty = await verdicts([caseId], { faults: [fault] });
    expect(faulty[caseId]?.verdict).toBe("fail");
  });

  test("fault accept-replayed-init makes replay.init-nonce-reused fail on the replay itself", async () => {
    const faulty = await verdicts(["replay.init-nonce-reused"], { faults: ["accept-replayed-init"] });
    expect(faulty["replay.init-nonce-reused"]?.message).toMatch(/ERROR REPLAY_DETECTED/);
  });

  test("cases aimed at the faults pass against the server without faults", async () => {
    const clean = await verdicts(["delivery.duplicates", "delivery.echo", "delivery.ack-within-delay", "resume.no-resend-of-covered"]);
    for (const [id, result] of Object.entries(clean)) expect(result.verdict, `${id}: ${result.message}`).toBe("pass");
  });
});

describe.skipIf(!embedded)("timer and configuration cases, against a server with short timers", () => {
  test("resume window, session lifetime, chunk timeout and heartbeat are enforced", async () => {
    const result = await verdicts(
      ["resume.expired-window", "resume.lifetime-ends", "chunking.incomplete-timeout", "limits.heartbeat-ping", "limits.heartbeat-timeout"],
      { limits: { resume_window_ms: 1000, session_lifetime_ms: 2000, chunk_timeout_ms: 1000, ping_interval_ms: 1000, pong_grace_ms: 500 } },
      true,
    );
    for (const [id, r] of Object.entries(result)) expect(r.verdict, `${id}: ${r.message}`).toBe("pass");
  }, 60_000);

  test("a server that requires tokens refuses upgrades without one", async () => {
    const result = await verdicts(["auth.required"], { requireToken: true });
    expect(result["auth.required"]?.verdict, result["auth.required"]?.message).toBe("pass");
  });
});
