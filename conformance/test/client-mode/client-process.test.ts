/** The client command of `peer-conformance client --command`: environment in, exit status and stderr out, stopped as a group. */
import { describe, expect, test } from "vitest";
import { describeExit, startClient } from "../../src/client-mode/client-process.ts";

describe("startClient", () => {
  test("runs CMD through the shell with the scenario's environment and reports its exit code and stderr", async () => {
    const client = startClient('echo "scenario $PEER_SCENARIO for $PEER_ENTITY_ID" >&2; exit 1', { PEER_SCENARIO: "echo", PEER_ENTITY_ID: "probe-1" });
    const exit = await client.exited;
    expect(exit).toMatchObject({ code: 1, signal: null, stderr: "scenario echo for probe-1" });
    expect(client.running).toBe(false);
    expect(describeExit(exit)).toMatch(/^the client exited with 1 after \d+ ms \(stderr: scenario echo for probe-1\)$/);
  });

  test("stop ends the whole process group, what the shell started included", async () => {
    const client = startClient("sleep 30 & sleep 30; wait", {});
    expect(client.running).toBe(true);
    const exit = await client.stop(200);
    expect(exit.signal === "SIGTERM" || exit.code === 143).toBe(true);
    expect(exit.ms).toBeLessThan(5000);
  });

  test("a driver's secrets never reach the report", async () => {
    const exit = await startClient("echo 'Authorization: Bearer eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl' >&2", {}).exited;
    expect(exit.stderr).not.toContain("eyJhbGciOiJFZERTQSJ9");
  });

  test("a command that does not exist exits 127, as the shell says", async () => {
    const exit = await startClient("no-such-driver-command-xyz", {}).exited;
    expect(exit.code).toBe(127);
    expect(exit.stderr).toContain("not found");
  });
});
