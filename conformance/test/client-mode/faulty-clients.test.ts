/**
 * Client-mode self-test (issue 14): every client case fails against a faulty client, a scratch
 * copy of the reference client with one check removed (conformance/selftest/faulty-clients.ts),
 * and passes against the clean one (client-cli.test.ts runs the whole catalogue against it).
 */
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, test } from "vitest";
import { ALL_CLIENT_CASES } from "../../src/client-mode/cases/index.ts";
import { runClientConformance } from "../../src/client-mode/client-runner.ts";
import { defaultClientCommand } from "../../src/client-mode/default-client.ts";
import { startCaseListener } from "../../src/client-mode/listener.ts";
import { driverModule, FAULTY_CLIENTS } from "../../selftest/faulty-clients.ts";
import { removeScratchCopies, scratchReference } from "../../selftest/scratch-reference.ts";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
afterAll(() => removeScratchCopies());

describe("faulty clients", () => {
  test("every client case is meant to fail against some faulty client, and every catcher is a client case", () => {
    const ids = new Set(ALL_CLIENT_CASES.map((c) => c.id));
    const catchers = new Set(FAULTY_CLIENTS.flatMap((f) => f.catchers));
    expect(ALL_CLIENT_CASES.map((c) => c.id).filter((id) => !catchers.has(id))).toEqual([]);
    expect([...catchers].filter((id) => !ids.has(id))).toEqual([]);
  });

  test.each(FAULTY_CLIENTS.map((f) => [f.name, f] as const))("%s fails each of its catchers", async (_name, faulty) => {
    const clean = defaultClientCommand();
    const command = faulty.edits ? `'${process.execPath}' --import tsx '${driverModule(scratchReference(`client-${faulty.name}`, faulty.edits))}'` : faulty.wrap!(clean.command);
    const report = await runClientConformance({ command, cwd: ROOT, cases: ALL_CLIENT_CASES, only: faulty.catchers, startListener: startCaseListener, seed: 1 });
    // A failed SHOULD case warns (spec §18): a caught fault of a SHOULD is a warning.
    const level = (id: string) => ALL_CLIENT_CASES.find((c) => c.id === id)?.level;
    expect(report.cases.map((c) => [c.id, c.verdict])).toEqual(faulty.catchers.map((id) => [id, level(id) === "MUST" ? "fail" : "warn"]));
    // Failed for the fault, not because the driver did not run: the client connected and was judged.
    for (const c of report.cases) expect(c.expected?.[0], c.id).toMatch(faulty.expected);
  }, 60_000);
});
