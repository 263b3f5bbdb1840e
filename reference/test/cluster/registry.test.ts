/**
 * The cluster's Redis scripts (reference/src/server/cluster/registry.ts) against a real Redis: each
 * decision two nodes could make at once is taken once (a binding, a resume's secret rotation, a
 * message's append and its de-duplication), and secrets sealed at rest do not appear in Redis.
 */
import fc from "fast-check";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { randomBytes } from "../../src/crypto.ts";
import type { SessionKeys } from "../../src/key-schedule.ts";
import { AtRestError, PLAIN_AT_REST, sealedAtRest } from "../../src/server/cluster/at-rest.ts";
import { Registry, type NodeNotice, type SharedSession } from "../../src/server/cluster/registry.ts";
import { describeWithRedis, redisForSuite } from "../support/redis-server.ts";

function keys(): SessionKeys {
  return { i2r: { key: randomBytes(32), iv: randomBytes(12) }, r2i: { key: randomBytes(32), iv: randomBytes(12) }, resumptionSecret: randomBytes(32), handshakeHash: randomBytes(32) };
}

function session(id: string, entity: string, owner: string, identityKey = randomBytes(32)): SharedSession {
  return { id, entity, identityKey, version: "1.2", capabilities: ["resume"], aead: "chacha20-poly1305", expiresAt: Date.now() + 60_000, keys: keys(), epoch: 0, owner, resumeNonces: [] };
}

const BOUNDS = { dedupeMemory: 4, maxQueued: 3, resumeWindowMs: 60_000 };

describe("secrets at rest", () => {
  test("a sealed value opens under its key and context only, and one flipped bit anywhere fails", () => {
    const key = randomBytes(32);
    const atRest = sealedAtRest(key);
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 200 }), fc.string({ minLength: 1, maxLength: 40 }), fc.nat(), (bytes, context, flip) => {
        const value = Buffer.from(bytes);
        const stored = atRest.wrap(value, context);
        expect(atRest.unwrap(stored, context).equals(value)).toBe(true);
        expect(() => atRest.unwrap(stored, context + "x")).toThrow(AtRestError);
        expect(() => sealedAtRest(randomBytes(32)).unwrap(stored, context)).toThrow(AtRestError);
        const raw = Buffer.from(stored, "base64");
        const at = flip % raw.length;
        raw[at] = (raw[at] as number) ^ (1 << (flip % 8));
        expect(() => atRest.unwrap(raw.toString("base64"), context)).toThrow(AtRestError);
      }),
      { numRuns: 50 },
    );
  });

  test("the key must be 32 bytes", () => {
    expect(() => sealedAtRest(randomBytes(31))).toThrow(/32 bytes, got 31/);
    expect(() => sealedAtRest(randomBytes(33))).toThrow(/32 bytes, got 33/);
  });
});

describeWithRedis("the cluster registry on a real Redis", () => {
  const redis = redisForSuite();
  let a: Registry;
  let b: Registry;
  let raw: Redis;
  const noticesOfB: NodeNotice[] = [];

  beforeAll(async () => {
    a = await Registry.connect(redis().url, { nodeId: "node-a", atRest: PLAIN_AT_REST });
    b = await Registry.connect(redis().url, { nodeId: "node-b", atRest: PLAIN_AT_REST });
    b.onNodeNotice((notice) => noticesOfB.push(notice));
    raw = new Redis(redis().url);
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    raw?.disconnect();
  });

  test("a HANDSHAKE_INIT nonce is fresh once in the whole cluster (PP-RPL-002)", async () => {
    expect(await a.claimHandshakeNonce("nonce-1", 10_000)).toBe(true);
    expect(await b.claimHandshakeNonce("nonce-1", 10_000)).toBe(false);
    expect(await a.claimHandshakeNonce("nonce-1", 10_000)).toBe(false);
    expect(await b.claimHandshakeNonce("nonce-2", 10_000)).toBe(true);
  });

  test("the first key that confirms binds the entity; another key is refused on every node (PP-AUTH-010, PP-AUTH-011)", async () => {
    const first = session("s-bind-1", "ent-bind", "node-a");
    expect(await a.confirm(first)).toEqual({ status: "ok" });
    expect((await b.boundKey("ent-bind"))?.equals(first.identityKey)).toBe(true);
    expect(await b.confirm(session("s-bind-2", "ent-bind", "node-b"))).toEqual({ status: "bound-other" });
    expect(await raw.get("pp:ent:ent-bind")).toBe("s-bind-1"); // the refused one took nothing over
    // The same key again: the newer session replaces the older one, named with its node.
    expect(await b.confirm(session("s-bind-3", "ent-bind", "node-b", first.identityKey))).toEqual({ status: "ok", previous: { id: "s-bind-1", owner: "node-a" } });
    expect(await raw.get("pp:ent:ent-bind")).toBe("s-bind-3");
    expect(await raw.get("pp:owner:ent-bind")).toBe("node-b");
  });

  test("a session read on another node is the one confirmed, keys included", async () => {
    const shared = session("s-load", "ent-load", "node-a");
    shared.peerLimits = { max_chunk_bytes: 1000 };
    await a.confirm(shared);
    const loaded = await b.load("s-load");
    expect(loaded).toBeDefined();
    expect({ ...loaded, identityKey: undefined, keys: undefined }).toEqual({ ...shared, identityKey: undefined, keys: undefined });
    expect(loaded?.identityKey.equals(shared.identityKey)).toBe(true);
    expect(loaded?.keys.resumptionSecret.equals(shared.keys.resumptionSecret)).toBe(true);
    expect(loaded?.keys.r2i.iv.equals(shared.keys.r2i.iv)).toBe(true);
    expect(await b.load("s-unknown")).toBeUndefined();
  });

  test("two nodes resuming one session at once: exactly one rotates the secret; the nonce and the spent epoch are refused after (PP-SES-007, PP-RPL-006)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 5 }), async (earlier) => {
        const id = `s-race-${randomBytes(4).toString("hex")}`;
        const shared = session(id, `ent-${id}`, "node-a");
        await a.confirm(shared);
        // Some resumes before, so the race happens at a later epoch.
        for (let i = 0; i < earlier; i++) expect(await a.resume({ ...shared, epoch: i }, `n-${id}-${i}`, keys())).toEqual({ status: "ok", previousOwner: "node-a" });
        const atEpoch = { ...shared, epoch: earlier };
        const [left, right] = await Promise.all([a.resume(atEpoch, `left-${id}`, keys()), b.resume(atEpoch, `right-${id}`, keys())]);
        const statuses = [left.status, right.status].sort();
        expect(statuses).toEqual(["ok", "stale"]);
        const winner = left.status === "ok" ? "node-a" : "node-b";
        expect(await raw.hget(`pp:sess:${id}`, "owner")).toBe(winner);
        expect(await raw.hget(`pp:sess:${id}`, "epoch")).toBe(String(earlier + 1));
        expect(await raw.get(`pp:owner:ent-${id}`)).toBe(winner);
        // The winner's nonce replayed at the new epoch is a replay, whatever the node.
        const used = left.status === "ok" ? `left-${id}` : `right-${id}`;
        expect(await b.resume({ ...shared, epoch: earlier + 1 }, used, keys())).toEqual({ status: "replayed" });
        expect(await a.resume({ ...shared, epoch: earlier + 2 }, `fresh-${id}`, keys())).toEqual({ status: "stale" });
      }),
      { numRuns: 6 },
    );
  });

  test("a message is appended once per (sender, message_id), refused for an unknown recipient or a full stream, and handed to the recipient's node (PP-DLV-003, PP-DLV-007, PP-DLV-013)", async () => {
    await b.confirm(session("s-rcpt", "rcpt", "node-b"));
    const message = (id: string, sender = "sender") => ({ message_id: id, type: "PEER_MESSAGE", inner: { n: id }, sender_id: sender, recipient_id: "rcpt" });
    expect(await a.deliver(message("m1"), "nobody", BOUNDS)).toEqual({ status: "unknown" });
    const first = await a.deliver(message("m1"), "rcpt", BOUNDS);
    expect(first.status).toBe("ok");
    expect(await a.deliver(message("m1"), "rcpt", BOUNDS)).toEqual({ status: "duplicate" });
    expect((await a.deliver(message("m1", "another-sender"), "rcpt", BOUNDS)).status).toBe("ok"); // ids are unique per sender only
    expect((await a.deliver(message("m2"), "rcpt", BOUNDS)).status).toBe("ok");
    expect(await a.deliver(message("m3"), "rcpt", BOUNDS)).toEqual({ status: "full" }); // maxQueued 3
    expect((await a.deliver(message("m3"), "rcpt", BOUNDS)).status).toBe("full"); // a refused message is not marked delivered
    const queued = await b.queued("rcpt");
    expect(queued.map((m) => [m.sender_id, m.message_id, m.inner])).toEqual([["sender", "m1", { n: "m1" }], ["another-sender", "m1", { n: "m1" }], ["sender", "m2", { n: "m2" }]]);
    // Each append reached node-b, the recipient's node, on its channel, in order.
    await expect.poll(() => noticesOfB.filter((n) => n.kind === "message").length).toBe(3);
    expect(noticesOfB.filter((n) => n.kind === "message").map((n) => (n.kind === "message" ? [n.entity, n.message.message_id, n.message.streamId] : []))).toEqual(queued.map((m) => ["rcpt", m.message_id, m.streamId]));
    // Acknowledged by the recipient: gone from the stream; the rest stays.
    await b.acknowledged("rcpt", [{ sender_id: "sender", message_id: "m1" }]);
    expect((await b.queued("rcpt")).map((m) => `${m.sender_id}/${m.message_id}`)).toEqual(["another-sender/m1", "sender/m2"]);
    // Acknowledged before its append landed: the append stores nothing.
    await b.acknowledged("rcpt", [{ sender_id: "sender", message_id: "m9" }]);
    expect(await a.deliver(message("m9"), "rcpt", BOUNDS)).toEqual({ status: "ok", streamId: "", owner: null });
    expect((await b.queued("rcpt")).map((m) => m.message_id)).toEqual(["m1", "m2"]);
  });

  test("an ended session leaves the cluster; its queue goes with it unless a newer session took it over (PP-SES-015, PP-DLV-008)", async () => {
    const older = session("s-end-1", "ent-end", "node-a");
    await a.confirm(older);
    expect((await b.deliver({ message_id: "q1", type: "PEER_MESSAGE", inner: {}, sender_id: "x" }, "ent-end", BOUNDS)).status).toBe("ok");
    const newer = session("s-end-2", "ent-end", "node-b", older.identityKey);
    await b.confirm(newer);
    await a.end("s-end-1", "ent-end", false); // replaced: the queue is the newer session's now
    expect(await raw.exists("pp:sess:s-end-1")).toBe(0);
    expect(await raw.get("pp:ent:ent-end")).toBe("s-end-2");
    expect((await b.queued("ent-end")).map((m) => m.message_id)).toEqual(["q1"]);
    await b.end("s-end-2", "ent-end", true); // BYE: nothing is left of the entity but its binding
    expect(await raw.exists("pp:sess:s-end-2", "pp:ent:ent-end", "pp:owner:ent-end", "pp:q:ent-end", "pp:qi:ent-end")).toBe(0);
    expect(await raw.exists("pp:bind:ent-end")).toBe(1);
    expect(await a.deliver({ message_id: "q2", type: "PEER_MESSAGE", inner: {}, sender_id: "x" }, "ent-end", BOUNDS)).toEqual({ status: "unknown" });
  });

  test("with an at-rest key, no key, secret or message body is readable in Redis, and another key does not open them", async () => {
    const key = randomBytes(32);
    const sealedA = await Registry.connect(redis().url, { nodeId: "sealed-a", atRest: sealedAtRest(key) });
    const otherKey = await Registry.connect(redis().url, { nodeId: "sealed-x", atRest: sealedAtRest(randomBytes(32)) });
    try {
      const shared = session("s-sealed", "ent-sealed", "sealed-a");
      await sealedA.confirm(shared);
      expect((await sealedA.deliver({ message_id: "secret-msg", type: "PEER_MESSAGE", inner: { text: "attack at dawn" }, sender_id: "x" }, "ent-sealed", BOUNDS)).status).toBe("ok");
      const dump = JSON.stringify([await raw.hgetall("pp:sess:s-sealed"), await raw.xrange("pp:q:ent-sealed", "-", "+")]);
      for (const secret of [shared.keys.resumptionSecret, shared.keys.i2r.key, shared.keys.r2i.key, shared.keys.handshakeHash]) {
        expect(dump).not.toContain(secret.toString("base64"));
        expect(dump).not.toContain(secret.toString("hex"));
      }
      expect(dump).not.toContain("attack at dawn");
      expect((await sealedA.load("s-sealed"))?.keys.resumptionSecret.equals(shared.keys.resumptionSecret)).toBe(true);
      expect((await sealedA.queued("ent-sealed"))[0]?.inner).toEqual({ text: "attack at dawn" });
      await expect(otherKey.load("s-sealed")).rejects.toThrow(AtRestError);
      await expect(otherKey.queued("ent-sealed")).rejects.toThrow(AtRestError);
    } finally {
      await Promise.all([sealedA.close(), otherKey.close()]);
    }
  });
});
