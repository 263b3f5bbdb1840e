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

/**
 * root -> ed25519VerifyStrict (crypto.ts) -> crypto_sign_verify_detached (sodium-native) -> (native);
 * root -> finishedMac (key-schedule) -> hmacSha256 (crypto.ts) -> createHmac (node:crypto) -> Hmac (node:internal/crypto/hash);
 * root -> mixHash -> sha256 (crypto.ts) -> digest; root -> ed25519PointProblem (crypto.ts) -> fromBytes (@noble).
 */
const handshakeProfile = {
  nodes: [
    { id: 1, callFrame: frame("(root)"), children: [2, 5, 8, 11] },
    { id: 2, callFrame: frame("ed25519VerifyStrict", "file:///x/reference/src/crypto.ts"), children: [3] },
    { id: 3, callFrame: frame("exports.crypto_sign_verify_detached", "file:///x/node_modules/sodium-native/index.js"), children: [4] },
    { id: 4, callFrame: frame("crypto_sign_verify_detached", "") },
    { id: 5, callFrame: frame("finishedMac", "file:///x/reference/src/key-schedule.ts"), children: [6] },
    { id: 6, callFrame: frame("hmacSha256", "file:///x/reference/src/crypto.ts"), children: [13] },
    { id: 13, callFrame: frame("createHmac", "node:crypto"), children: [7] },
    { id: 7, callFrame: frame("Hmac", "node:internal/crypto/hash") },
    { id: 8, callFrame: frame("mixHash", "file:///x/reference/src/key-schedule.ts"), children: [9] },
    { id: 9, callFrame: frame("sha256", "file:///x/reference/src/crypto.ts"), children: [10] },
    { id: 10, callFrame: frame("digest", "node:internal/crypto/hash") },
    { id: 11, callFrame: frame("ed25519PointProblem", "file:///x/reference/src/crypto.ts"), children: [12] },
    { id: 12, callFrame: frame("fromBytes", "file:///x/node_modules/@noble/curves/esm/abstract/edwards.js") },
  ],
  samples: [2, 3, 4, 6, 7, 9, 10, 12, 8],
  timeDeltas: [1, 10, 100, 1000, 10_000, 100_000, 1_000_000, 10_000_000, 5],
};

describe("groupProfile's crypto parts", () => {
  test("charge each crypto sample to the library or the key-schedule step it serves, and the reference's own frames to checks and glue", () => {
    const grouped = groupProfile(handshakeProfile);
    expect(grouped.micros.crypto).toBe(11_111_111);
    expect(grouped.cryptoMicros).toEqual({
      libsodium: 110, // the wrapper and the native call under it
      noble: 10_000_000,
      "HKDF/HMAC": 11_000, // hmacSha256 and the node:crypto internals it calls
      "SHA-256": 1_100_000,
      random: 0,
      "node:crypto AEAD": 0,
      "checks and glue": 1, // ed25519VerifyStrict's own time: the strict checks
    });
    expect(grouped.micros.other).toBe(5); // mixHash is not crypto
  });
});
