/**
 * Deterministic probe identities: the same run seed, case and probe index give the same Ed25519
 * identity and entity id, so a replay talks to the target as the same entities. Ephemeral keys and
 * nonces stay random (PP-HS-002): replaying a nonce would trip the target's replay cache.
 */
import { hash, utf8, type Bytes } from "./crypto.ts";
import { identityFromSeed, type ProbeIdentity } from "./peer.ts";

export function deriveBytes(seed: number, ...labels: string[]): Bytes {
  const seedBytes = new Uint8Array(4);
  new DataView(seedBytes.buffer).setUint32(0, seed >>> 0);
  return hash(utf8("peer-conformance/v1 "), seedBytes, utf8(JSON.stringify(labels)));
}

/** A 32-bit fast-check seed for one case, derived from the run seed and the case id. */
export function caseSeed(runSeed: number, caseId: string): number {
  const bytes = deriveBytes(runSeed, "case seed", caseId);
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getInt32(0);
}

export function probeIdentity(runSeed: number, caseId: string, index: number): ProbeIdentity {
  return identityFromSeed(deriveBytes(runSeed, "identity", caseId, String(index)));
}
