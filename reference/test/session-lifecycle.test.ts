/**
 * The life of a server session in time: a handshake becomes a session only once SESSION_CONFIRM is
 * verified (PP-HS-009, PP-AUTH-010), a session is not used past its lifetime (PP-SES-012,
 * PP-SES-018) and its connection is back in START after it (PP-SES-020), and the handshake timer
 * fires on time (PP-HS-011).
 */
import { describe, expect, test } from "vitest";
import { ed25519FromSeed, randomBytes, type Ed25519Identity } from "../src/crypto.ts";
import { toBase64Url } from "../src/encoding.ts";
import type { Envelope } from "../src/envelope.ts";
import { InitiatorHandshake } from "../src/handshake/initiator.ts";
import { startResume } from "../src/session/resume-initiator.ts";
import { Session } from "../src/session/session.ts";
import { RawPeer } from "./support/raw-peer.ts";
import { serversPerTest } from "./support/servers.ts";

const { server, peers } = serversPerTest();

async function open(url: string): Promise<RawPeer> {
  const peer = await RawPeer.open(url);
  peers.push(peer);
  return peer;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs the handshake up to SESSION_ESTABLISHED (step 4) and stops before SESSION_CONFIRM. */
async function unconfirmed(peer: RawPeer, entityId: string, identity: Ed25519Identity = ed25519FromSeed(randomBytes(32))) {
  const initiator = new InitiatorHandshake({ identity, entityId, versions: ["1.2"], capabilities: ["websocket", "resume", "chunking", "events"], now: Date.now });
  peer.sendRaw(initiator.start());
  const ack = (await peer.next()) as unknown as Envelope;
  peer.sendRaw(initiator.onInitAck(ack));
  const established = (await peer.next()) as unknown as Envelope;
  expect(established.type).toBe("SESSION_ESTABLISHED");
  const result = initiator.onEstablished(established);
  const session = new Session(result, { now: Date.now, dedupeMemory: 1024 });
  peer.session = session;
  const confirm = () => peer.sendRaw(session.seal("SESSION_CONFIRM", { handshake_hash: toBase64Url(result.keys.handshakeHash) }, { recipient_id: result.peerId }));
  return { session, confirm };
}

describe("a handshake becomes a session only at SESSION_CONFIRM", () => {
  test("an unconfirmed session cannot be resumed: NOT_FOUND (PP-HS-009, PP-SES-004)", async () => {
    const s = await server();
    const { session } = await unconfirmed(await open(s.wsUrl), "ivan");
    const resumer = await open(`${s.wsUrl}?session_id=${session.id}`);
    resumer.sendRaw(startResume(session.resumptionSecret, { sessionId: session.id, entityId: "ivan", peerId: s.serverId, lastRxSeq: -1, now: Date.now() }).resume);
    expect((await resumer.next()).payload).toMatchObject({ status: "NOT_FOUND" });
  });

  test("nothing is routed to an entity whose only handshake is unconfirmed: UNKNOWN_RECIPIENT (PP-HS-009)", async () => {
    const s = await server();
    await unconfirmed(await open(s.wsUrl), "judy");
    const sender = await open(s.wsUrl);
    await sender.handshake("kate");
    const sent = sender.sendRecord("PEER_MESSAGE", { content: "hello" }, { recipient_id: "judy" });
    const error = await sender.nextOfType("ERROR");
    expect(error.payload).toMatchObject({ code: "UNKNOWN_RECIPIENT", related_message_id: sent.message_id });
  });

  test("an unconfirmed handshake binds no identity key: another key completes a handshake for the entity (PP-AUTH-010)", async () => {
    const s = await server();
    await unconfirmed(await open(s.wsUrl), "leo");
    const other = await open(s.wsUrl);
    await expect(other.handshake("leo")).resolves.toBeDefined();
  });

  test("an older unconfirmed handshake is not answered READY once a newer session of its entity is established (PP-HS-017)", async () => {
    const s = await server();
    const identity = ed25519FromSeed(randomBytes(32));
    const older = await open(s.wsUrl);
    const pending = await unconfirmed(older, "mia", identity);
    const newer = await open(s.wsUrl);
    const current = await unconfirmed(newer, "mia", identity);
    current.confirm();
    expect((await newer.next()).type).toBe("READY");
    pending.confirm();
    const answer = await older.next();
    expect(answer.type).toBe("ERROR");
    expect(answer.payload).toMatchObject({ code: "SESSION_NOT_FOUND" });
  });
});

describe("a session is not used past its lifetime", () => {
  test("a connected recipient past its lifetime gets nothing; the sender is told SESSION_NOT_FOUND (PP-SES-012)", async () => {
    const lifetime = 1500;
    const s = await server({ limits: { session_lifetime_ms: lifetime } });
    const recipient = await open(s.wsUrl);
    await recipient.handshake("nina");
    const recipientStart = Date.now();
    await sleep(800);
    const sender = await open(s.wsUrl);
    await sender.handshake("olga");
    await sleep(recipientStart + lifetime + 200 - Date.now()); // the recipient's lifetime is over, the sender's is not
    const sent = sender.sendRecord("PEER_MESSAGE", { content: "too late" }, { recipient_id: "nina" });
    const error = await sender.nextOfType("ERROR");
    expect(error.payload).toMatchObject({ code: "UNKNOWN_RECIPIENT", related_message_id: sent.message_id }); // PP-DLV-017: no session to deliver to
    await sleep(100);
    expect(recipient.history.filter((f) => f.type === "PEER_MESSAGE")).toHaveLength(0);
    // PP-SES-018: the recipient's own next record is answered SESSION_EXPIRED, and its connection stays open.
    recipient.sendRecord("PING", { ping_id: "p1" });
    expect((await recipient.nextOfType("ERROR")).payload).toMatchObject({ code: "SESSION_EXPIRED" });
    expect(recipient.closeCode).toBeUndefined();
  });
});

describe("after SESSION_EXPIRED the connection is back in START (PP-SES-020)", () => {
  test("a record is INVALID_STATE and closes with 4409, a silent connection times out, a new handshake completes", async () => {
    const timeout = 400;
    const s = await server({ limits: { session_lifetime_ms: 150, handshake_timeout_ms: timeout } });
    const [eager, silent, again] = [await open(s.wsUrl), await open(s.wsUrl), await open(s.wsUrl)];
    await eager.handshake("pia");
    await silent.handshake("quinn");
    await again.handshake("rosa");
    await sleep(250);
    for (const peer of [eager, silent, again]) {
      peer.sendRecord("PING", { ping_id: "late" });
      expect((await peer.nextOfType("ERROR")).payload).toMatchObject({ code: "SESSION_EXPIRED" });
    }
    const expiredAt = Date.now();
    // In START a record is a message out of order (PP-HS-001), not a second SESSION_EXPIRED.
    eager.sendRecord("PING", { ping_id: "later" });
    expect((await eager.nextOfType("ERROR")).payload).toMatchObject({ code: "INVALID_STATE" });
    expect(await eager.closed()).toBe(4409);
    // A new handshake runs within the restarted handshake timer.
    await expect(again.handshake("sami")).resolves.toBeDefined(); // another entity: RawPeer draws a new identity key
    // The handshake timer runs again from SESSION_EXPIRED (PP-HS-011).
    expect((await silent.next(timeout + 1000)).payload).toMatchObject({ code: "HANDSHAKE_TIMEOUT" });
    expect(await silent.closed()).toBe(4408);
    expect(Date.now() - expiredAt).toBeGreaterThanOrEqual(timeout - 100);
    expect(again.closeCode).toBeUndefined();
  });
});

describe("timers fire on time", () => {
  test("the handshake timeout closes each silent connection with HANDSHAKE_TIMEOUT within 150 ms of its own handshake_timeout_ms (PP-HS-011)", async () => {
    // Six connections opened 70 ms apart cover any period up to 420 ms: a timer served by a periodic
    // sweep of period handshake_timeout_ms / 5 (400 ms) fires at least 330 ms late for one of them.
    const timeout = 2000;
    const s = await server({ limits: { handshake_timeout_ms: timeout } });
    const silent: { peer: RawPeer; opened: number }[] = [];
    for (let i = 0; i < 6; i++) {
      const opened = Date.now();
      silent.push({ peer: await open(s.wsUrl), opened });
      await sleep(70);
    }
    const late = await Promise.all(
      silent.map(async ({ peer, opened }) => {
        const error = await peer.next(timeout + 1000);
        const elapsed = Date.now() - opened;
        expect(error.payload).toMatchObject({ code: "HANDSHAKE_TIMEOUT" });
        expect(await peer.closed()).toBe(4408);
        return elapsed;
      }),
    );
    for (const elapsed of late) expect(elapsed).toBeGreaterThanOrEqual(timeout - 50);
    expect(Math.max(...late)).toBeLessThan(timeout + 150);
  });
});
