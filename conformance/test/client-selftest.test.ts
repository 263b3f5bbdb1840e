/**
 * The client half of `npm run conformance:selftest` (issue 14, selftest/client-selftest.ts): a faulty
 * client counts as detected only when each catcher fails against it for the reason it names and
 * passes against the clean reference client; one that no longer applies stops the self-test before
 * anything runs. The whole catalogue runs in `npm run conformance:selftest -- --mode client`; here a
 * few real faulty clients and a few that must not count run end to end.
 */
import { afterAll, afterEach, describe, expect, test, vi } from "vitest";
import { FaultyClientsBroken, runClientSelfTest } from "../selftest/client-selftest.ts";
import { FAULTY_CLIENTS, type FaultyClient } from "../selftest/faulty-clients.ts";
import { main } from "../selftest/run.ts";
import { removeScratchCopies } from "../selftest/scratch-reference.ts";

afterAll(() => removeScratchCopies());
afterEach(() => vi.restoreAllMocks());

const real = (name: string): FaultyClient => {
  const found = FAULTY_CLIENTS.find((f) => f.name === name);
  if (!found) throw new Error(`no faulty client ${name}`);
  return found;
};

/** Runs main with console.log and console.error captured. */
async function runMain(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => void out.push(args.join(" ")));
  vi.spyOn(console, "error").mockImplementation((...args: unknown[]) => void err.push(args.join(" ")));
  const code = await main(argv);
  return { code, out: out.join("\n"), err: err.join("\n") };
}

describe("the client self-test", () => {
  test("stops before running anything when a faulty client's edit no longer applies or a catcher is no client case, naming them", async () => {
    const stale: FaultyClient = { name: "stale-edit", description: "an edit whose text is not in the reference client", edits: [{ file: "src/client/peer-client.ts", find: "this text is not in the reference client", replace: "" }], catchers: ["client.handshake.complete"], expected: /^x/ };
    const misnamed: FaultyClient = { name: "misnamed-catcher", description: "a catcher that is not a client case", wrap: (c) => c, catchers: ["client.handshake.no-such-case"], expected: /^x/ };
    const lines: string[] = [];
    const error = await runClientSelfTest({ faultyClients: [stale, misnamed], onLine: (l) => lines.push(l) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FaultyClientsBroken);
    expect((error as Error).message).toMatch(/source fault client-stale-edit: edit 1: the text to find is not in reference\/src\/client\/peer-client\.ts/);
    expect((error as Error).message).toContain("faulty client misnamed-catcher: client.handshake.no-such-case is not a client case");
    expect(lines).toEqual([]);
  });

  test("detects a faulty client whose catchers fail for its reason, and misses one that passes them or fails them for another reason", async () => {
    // The clean driver, unchanged: its catcher passes.
    const clean: FaultyClient = { name: "clean-in-disguise", description: "the reference client's driver as it is", wrap: (c) => c, catchers: ["client.handshake.responder-finished-wrong"], expected: /^the client refuses SESSION_ESTABLISHED/ };
    // A driver that never starts a client: its catcher fails, but because nothing connected, not for the check it names.
    const absent: FaultyClient = { name: "never-connects", description: "a driver that exits at once", wrap: () => "exit 1", catchers: ["client.handshake.ephemeral-reflected"], expected: /^the client refuses HANDSHAKE_INIT_ACK/ };
    const lines: string[] = [];
    const result = await runClientSelfTest({ faultyClients: [real("no-bye"), real("driver-hides-refusal"), clean, absent], seed: 3, onLine: (l) => lines.push(l) });

    expect(result.outcomes.map((o) => [o.faultyClient.name, o.detected])).toEqual([["no-bye", true], ["driver-hides-refusal", true], ["clean-in-disguise", false], ["never-connects", false]]);
    expect([result.detected, result.total]).toEqual([2, 4]);
    // The clean reference client ran every catcher, and passed each.
    expect([...result.clean.keys()].sort()).toEqual([...new Set([...real("no-bye").catchers, ...real("driver-hides-refusal").catchers, ...clean.catchers, ...absent.catchers])].sort());
    expect(result.passingClean).toBe(result.clean.size);
    expect([...result.shownToFail].sort()).toEqual([...real("no-bye").catchers, ...real("driver-hides-refusal").catchers].sort());
    expect(result.notShown.map((n) => n.id)).toEqual(["client.handshake.responder-finished-wrong", "client.handshake.ephemeral-reflected"]);
    expect(lines).toContain("✔ detected no-bye by client.handshake.complete");
    expect(lines).toContain("✘ missed clean-in-disguise: client.handshake.responder-finished-wrong is pass against it");
    expect(lines.find((l) => l.startsWith("✘ missed never-connects"))).toMatch(/^✘ missed never-connects: client\.handshake\.ephemeral-reflected fails for another reason: expected the client connects/);
  }, 120_000);
});

describe("conformance:selftest's client flags", () => {
  test("--mode takes server, client or both", async () => {
    const run = await runMain(["--mode", "clients"]);
    expect(run.code).toBe(2);
    expect(run.err).toBe("conformance:selftest: --mode: expected server, client or both, got 'clients'");
  });

  test("--only names a faulty client only where client mode runs", async () => {
    const run = await runMain(["--mode", "server", "--only", "no-bye"]);
    expect(run.code).toBe(2);
    expect(run.err).toBe("conformance:selftest: --only: no faulty endpoint or variant named no-bye (see --list --mode server)");
    const typo = await runMain(["--only", "no-byee"]);
    expect(typo.err).toBe("conformance:selftest: --only: no faulty endpoint, variant or faulty client named no-byee (see --list)");
  });

  test("--list --mode client lists every faulty client with its catchers, and no faulty endpoint", async () => {
    const run = await runMain(["--list", "--mode", "client"]);
    expect(run.code).toBe(0);
    for (const f of FAULTY_CLIENTS) expect(run.out).toContain(`${f.name}  [client${f.wrap ? ", driver" : ""}]  ${f.description}\n    catchers: ${f.catchers.join(", ")}`);
    expect(run.out).not.toContain("[source");
    expect(run.out).not.toContain("[proxy");
  });

  test("--mode client --only NAME runs that faulty client alone and its catchers against the reference client", async () => {
    const run = await runMain(["--mode", "client", "--only", "skips-ready-hash"]);
    expect(run.code).toBe(0);
    expect(run.out).toContain("✔ detected skips-ready-hash by client.handshake.ready-wrong-handshake-hash");
    expect(run.out).toContain("client catchers passing against the reference client: 1 of 1");
    expect(run.out).toMatch(/faulty clients detected: 1 of 1$/);
    expect(run.out).not.toContain("server mode");
  }, 60_000);
});
