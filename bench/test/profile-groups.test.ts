/** profile-groups: a CPU profile's self time by group, natives charged to the caller that says what they are for. */
import { describe, expect, test } from "vitest";
import { groupProfile } from "../src/profile-groups.ts";

const frame = (functionName: string, url = "") => ({ functionName, url, lineNumber: 0 });

/** root -> (idle), (garbage collector), sealRecord -> createCipherBase, fromBase64Url -> (native), onFrame -> (native). */
const profile = {
  nodes: [
    { id: 1, callFrame: frame("(root)"), children: [2, 3, 4, 6, 8] },
    { id: 2, callFrame: frame("(idle)") },
    { id: 3, callFrame: frame("(garbage collector)") },
    { id: 4, callFrame: frame("sealRecord", "file:///x/reference/src/record.ts"), children: [5] },
    { id: 5, callFrame: frame("createCipherBase", "node:internal/crypto/cipher") },
    { id: 6, callFrame: frame("fromBase64Url", "file:///x/reference/src/encoding.ts"), children: [7] },
    { id: 7, callFrame: frame("", "") },
    { id: 8, callFrame: frame("onFrame", "file:///x/reference/src/server/peer-connection.ts"), children: [9] },
    { id: 9, callFrame: frame("writev", "") },
  ],
  samples: [2, 3, 4, 5, 6, 7, 8, 9],
  timeDeltas: [1000, 10, 20, 30, 40, 50, 60, 70],
};

describe("groupProfile", () => {
  test("charges each sample's self time to its group, a native frame to its caller's, and leaves idle time out", () => {
    const grouped = groupProfile(profile);
    expect(grouped.idleMicros).toBe(1000);
    expect(grouped.micros.GC).toBe(10);
    expect(grouped.micros.JSON).toBe(20); // sealRecord's own time is its JSON.stringify
    expect(grouped.micros.crypto).toBe(30);
    expect(grouped.micros.base64).toBe(90); // fromBase64Url and the native frame under it
    expect(grouped.micros["socket writes"]).toBe(70);
    expect(grouped.micros.other).toBe(60);
    expect(grouped.busyMicros).toBe(280);
    expect(grouped.topOther[0]?.name).toMatch(/^onFrame /);
  });
});
