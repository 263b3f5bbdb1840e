/**
 * What the run seed fixes, and what is fresh per run.
 *
 * - The run seed fixes each case's fast-check seed (`caseSeed`): seed and path determine every
 *   generated input, so a shrunk counterexample is replayed exactly.
 * - Probe identities (Ed25519 key and entity id) come from the seed AND a run salt (`runSalt`),
 *   drawn once per run. A live target remembers entities across runs: it queues what was
 *   addressed to them and not acknowledged (PP-DLV-008, e.g. the TASK_RESPONSE of a probe that
 *   closed early), binds each entity id to its identity key (PP-AUTH-010/011) and replaces their
 *   sessions. With identities fixed by the seed alone, a second run or a replay with the same seed
 *   would receive the first run's leftovers and fail; the salt makes every run meet the target as
 *   new entities. Within a run, identities are deterministic in (seed, salt, case, probe index).
 *   The salt is not recorded in the report or the replay file: a replay reproduces the inputs,
 *   not the entity names (those are in the trace).
 * - Ephemeral keys, nonces, message ids and task ids stay random (PP-HS-002): replaying a nonce
 *   would trip the target's replay cache.
 */
import { hash, randomBytes, utf8, type Bytes } from "./crypto.ts";
import { identityFromSeed, type ProbeIdentity } from "./peer.ts";

export function deriveBytes(seed: number, ...labels: string[]): Bytes {
  const seedBytes = new Uint8Array(4);
  new DataView(seedBytes.buffer).setUint32(0, seed >>> 0);
  return hash(utf8("peer-conformance/v1 "), seedBytes, utf8(JSON.stringify(labels)));
}

/** A 32-bit fast-check seed for one case, derived from the run seed and the case id only. */
export function caseSeed(runSeed: number, caseId: string): number {
  const bytes = deriveBytes(runSeed, "case seed", caseId);
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getInt32(0);
}

/** A fresh run salt (64 random bits, hex): draw one per run, never derive it from the seed. */
export function runSalt(): string {
  return Buffer.from(randomBytes(8)).toString("hex");
}

/** The identity of probe `index` of a case, fresh per run through `salt` (see above). */
export function probeIdentity(runSeed: number, salt: string, caseId: string, index: number): ProbeIdentity {
  return identityFromSeed(deriveBytes(runSeed, "identity", salt, caseId, String(index)));
}
