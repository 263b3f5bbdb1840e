/**
 * Malformed input fuzzed at the frame and JSON level (PP-TRN-002, PP-ENV-007, PP-ERR-009): the
 * server never crashes, answers with the right ERROR, and keeps serving other sessions.
 */
import fc from "fast-check";
import { afterAll, beforeAll, expect, test } from "vitest";
import { PeerClient } from "../src/client/peer-client.ts";
import { PeerServer } from "../src/server/server.ts";
import { RawPeer } from "./support/raw-peer.ts";

let server: PeerServer;
let bystander: PeerClient;
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

beforeAll(async () => {
  process.on("unhandledRejection", onUnhandled);
  server = await PeerServer.start({ logLevel: "silent", limits: { rate_limit_per_minute: 1_000_000 } });
  bystander = await PeerClient.connect({ url: server.url, entityId: "bystander" });
});

afterAll(async () => {
  process.off("unhandledRejection", onUnhandled);
  await bystander.close();
  await server.close();
});

const validInit = () => ({
  message_id: "fuzz-init-0001",
  type: "HANDSHAKE_INIT",
  version: "1.2",
  timestamp: Date.now(),
  sender_id: "fuzzer",
  nonce: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
  payload: { versions: ["1.2"], ephemeral_key: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", identity_key: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", capabilities: [] },
});

/** Mutations of a valid envelope: drop, retype or replace one member at any depth. */
const mutatedEnvelope = fc
  .tuple(fc.constantFrom("message_id", "type", "version", "timestamp", "sender_id", "nonce", "payload", "payload.versions", "payload.ephemeral_key", "payload.identity_key"), fc.oneof(fc.constant(undefined), fc.jsonValue()))
  .map(([path, value]) => {
    const envelope = validInit() as Record<string, unknown>;
    const [head, tail] = path.split(".") as [string, string | undefined];
    const target = tail ? (envelope.payload as Record<string, unknown>) : envelope;
    const key = tail ?? head;
    if (value === undefined) delete target[key];
    else target[key] = value;
    return JSON.stringify(envelope);
  });

const frames = fc.oneof(
  fc.string(),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  mutatedEnvelope,
  fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes).toString("latin1")),
);

test("answers malformed frames with INVALID_MESSAGE or INVALID_STATE, never crashing, while other sessions keep working", async () => {
  await fc.assert(
    fc.asyncProperty(frames, async (frame) => {
      const peer = await RawPeer.open(server.wsUrl);
      try {
        peer.sendRaw(frame);
        const answer = await peer.next();
        expect(answer.type).toBe("ERROR");
        const code = (answer.payload as { code: string }).code;
        // A mutated but still valid INIT may get a handshake answer-related code instead.
        expect(["INVALID_MESSAGE", "INVALID_STATE", "AUTHENTICATION_FAILED", "REPLAY_DETECTED", "VERSION_NOT_SUPPORTED"]).toContain(code);
      } finally {
        peer.close();
      }
    }),
    { numRuns: 150 },
  );
  await expect(bystander.request(server.serverId, "echo", "still here")).resolves.toBe("still here");
  expect(unhandled).toEqual([]);
}, 60_000);

test("answers malformed records inside a session and keeps the session usable", async () => {
  const peer = await RawPeer.open(server.wsUrl);
  await peer.handshake("fuzz-session");
  await fc.assert(
    fc.asyncProperty(fc.jsonValue(), async (payload) => {
      // A syntactically valid record whose decrypted payload violates the PEER_MESSAGE schema.
      peer.sendRecord("TASK_REQUEST", { not: "a task", junk: payload }, { recipient_id: server.serverId });
      const answer = await peer.nextOfType("ERROR");
      expect((answer.payload as { code: string }).code).toBe("INVALID_MESSAGE");
    }),
    { numRuns: 50 },
  );
  peer.sendRecord("TASK_REQUEST", { task_id: "t-ok", action: "echo", params: 1 }, { recipient_id: server.serverId });
  const response = await peer.nextOfType("TASK_RESPONSE");
  expect(response.payload).toEqual({ task_id: "t-ok", status: "ok", result: 1 });
  peer.close();
}, 60_000);
