/**
 * The client and RATE_LIMIT_EXCEEDED (PP-LIM-003, PP-DLV-001): a record the server discarded is
 * sent again later as a new record, so that nothing is lost. The server's clock is moved past the
 * 60-second window instead of waiting for it.
 */
import { afterEach, expect, test } from "vitest";
import { PeerClient, type ReceivedMessage } from "../src/client/peer-client.ts";
import { PeerServer } from "../src/server/server.ts";

const servers: PeerServer[] = [];
const clients: PeerClient[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function take(client: PeerClient, count: number): Promise<ReceivedMessage[]> {
  const received: ReceivedMessage[] = [];
  for await (const message of client.messages()) {
    received.push(message);
    if (received.length === count) break;
  }
  return received;
}

test("every message refused with RATE_LIMIT_EXCEEDED reaches the recipient once, after the window moves on (PP-LIM-003, PP-DLV-001, PP-DLV-003)", async () => {
  const LIMIT = 20;
  const SENT = 30;
  let offsetMs = 0;
  // A long ping interval: moving the clock must not look like a silent connection.
  const server = await PeerServer.start({ logLevel: "silent", now: () => Date.now() + offsetMs, limits: { rate_limit_per_minute: LIMIT, ping_interval_ms: 600_000 } });
  servers.push(server);
  const options = { url: server.url, reconnect: { initialDelayMs: 20, maxDelayMs: 200 }, rateLimitRetry: { initialDelayMs: 20, maxDelayMs: 100 } };
  const alice = await PeerClient.connect({ ...options, entityId: "alice" });
  const bob = await PeerClient.connect({ ...options, entityId: "bob" });
  clients.push(alice, bob);
  const refused: string[] = [];
  alice.on("remote-error", (error: { code: string; related_message_id?: string }) => {
    if (error.code === "RATE_LIMIT_EXCEEDED" && error.related_message_id) refused.push(error.related_message_id);
  });
  const sent = Array.from({ length: SENT }, (_, n) => alice.send("bob", { n }));
  const first = await take(bob, LIMIT);
  await expect.poll(() => refused.length).toBeGreaterThanOrEqual(SENT - LIMIT);
  expect(alice.pendingCount).toBeGreaterThan(0); // the refused messages are still the client's to deliver
  offsetMs = 61_000; // the window of the first LIMIT acceptances is over
  const rest = await take(bob, SENT - LIMIT);
  const ids = [...first, ...rest].map((message) => message.message_id);
  expect(new Set(ids).size).toBe(SENT);
  expect(ids.sort()).toEqual([...sent].sort());
  await expect.poll(() => alice.pendingCount).toBe(0);
});
