/**
 * What a server keeps of an idle session (issue 15: 10,000 sessions at no more than 10 KB each). A
 * small Buffer is often a view into a shared 8 KiB pool slab, and a view kept for a session's
 * lifetime keeps the whole slab alive: the identity key did so after ea7ee58, measured at 5.5 KB per
 * session at 10,000 sessions. These tests look at the memory behind what the server holds, not at
 * RSS, so they hold on any machine.
 */
import { describe, expect, test } from "vitest";
import { RawPeer } from "./support/raw-peer.ts";
import { serversPerTest } from "./support/servers.ts";

const { server, peers } = serversPerTest();

/** The four keys and IVs of both directions, the resumption secret and the handshake hash (32 + 12 + 32 + 12 + 32 + 32 bytes). */
const EPOCH_SECRET_BYTES = 152;

describe("an established server session", () => {
  test("keeps its identity key and its epoch's secrets in memory of their own, not in a shared Buffer pool", async () => {
    const s = await server();
    const peer = await RawPeer.open(s.wsUrl);
    peers.push(peer);
    const client = await peer.handshake("lena");
    const held = s.service.store.sessionOf("lena");
    expect(held?.id).toBe(client.id);
    if (!held) return;
    expect(held.identityKey).toBe(held.session.peerIdentityKey); // one copy, bound at SESSION_CONFIRM (PP-AUTH-010)
    expect(held.identityKey.length).toBe(32);
    expect(held.identityKey.buffer.byteLength).toBe(32);
    const bound = s.service.store.boundKey("lena");
    expect(bound?.equals(held.identityKey)).toBe(true);
    expect(bound?.buffer.byteLength).toBe(32);
    expect(held.session.resumptionSecret.equals(client.resumptionSecret)).toBe(true);
    expect(held.session.handshakeHash.equals(client.handshakeHash)).toBe(true);
    expect(held.session.resumptionSecret.buffer).toBe(held.session.handshakeHash.buffer);
    expect(held.session.resumptionSecret.buffer.byteLength).toBe(EPOCH_SECRET_BYTES);
  });
});
