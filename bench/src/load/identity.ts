/**
 * The bench's Ed25519 identities, derived from the entity id: a server binds an entity id to the
 * first key that authenticates for it (PP-AUTH-010), so every run, against the same long-running
 * server too, must present the same key for the same id. Derived keys are cached per thread.
 */
import { ed25519FromSeed, sha256, type Ed25519Identity } from "../../../reference/src/crypto.ts";

const cache = new Map<string, Ed25519Identity>();

export function benchIdentity(name: string): Ed25519Identity {
  let identity = cache.get(name);
  if (!identity) {
    identity = ed25519FromSeed(sha256(Buffer.from(`peer-bench identity ${name}`, "utf8")));
    cache.set(name, identity);
  }
  return identity;
}
