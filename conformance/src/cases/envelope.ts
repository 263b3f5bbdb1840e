/**
 * Spec §5 (envelope and encoding), with PP-VER-001 and PP-ENV-001 of §2: what a server emits
 * follows the schema; what it receives is validated, unknown members are ignored, and a schema
 * violation is answered with INVALID_MESSAGE naming the message.
 */
import fc from "fast-check";
import { suite, type CaseContext } from "../case.ts";
import { ProbePeer, type Envelope } from "../probe/peer.ts";
import { b64u } from "../probe/wire.ts";
import { expectRefusedAcknowledged, jcsEqual, keepsServing } from "./support.ts";

interface Mutation {
  /** JSON pointer of the member changed. */
  path: string;
  remove?: true;
  value?: unknown;
}

const REQUIRED_INIT_MEMBERS = ["/message_id", "/type", "/version", "/timestamp", "/sender_id", "/nonce", "/payload", "/payload/versions", "/payload/ephemeral_key", "/payload/identity_key", "/payload/capabilities"];

/** n bytes drawn by fast-check (not by the probe's RNG), so that a replay sends the same values. */
const bytes = (f: typeof fc, min: number, max = min) => f.uint8Array({ minLength: min, maxLength: max });

/** Strings that are not canonical base64url of 32 bytes (PP-ENV-003, PP-ENV-004). */
function badKey(f: typeof fc): fc.Arbitrary<unknown> {
  return f.oneof(
    bytes(f, 0, 31).map(b64u),
    bytes(f, 33, 64).map(b64u),
    bytes(f, 32).map((b) => `${b64u(b)}=`),
    bytes(f, 32).map((b) => Buffer.from(b).toString("base64").replace(/=+$/, "").replace(/^./, "+")),
    bytes(f, 32).map((b) => `${b64u(b).slice(0, 42)}B`), // 'B' sets low bits of the last character: non-canonical
    f.integer(),
    f.constant(null),
  );
}

function mutations(f: typeof fc): fc.Arbitrary<Mutation> {
  const replace = (path: string, values: fc.Arbitrary<unknown>) => values.map((value): Mutation => ({ path, value }));
  return f.oneof(
    f.constantFrom(...REQUIRED_INIT_MEMBERS).map((path): Mutation => ({ path, remove: true })),
    replace("/message_id", f.oneof(f.string({ maxLength: 7 }), f.constant("has spaces in it"), f.constant("x".repeat(129)), f.integer())),
    replace("/timestamp", f.oneof(f.double({ min: 1, max: 1e13, noNaN: true }).filter((x) => !Number.isInteger(x)), f.constant(-1), f.constant(2 ** 53 + 2), f.constant("1767225600000"))),
    replace("/sender_id", f.oneof(f.constant(""), f.constant("x".repeat(129)), f.constant("bad id"), f.integer())),
    replace("/nonce", f.oneof(bytes(f, 1, 15).map(b64u), bytes(f, 33, 48).map(b64u), bytes(f, 32).map((b) => `${b64u(b)}=`), f.integer())),
    replace("/payload/ephemeral_key", badKey(f)),
    replace("/payload/identity_key", badKey(f)),
    replace("/payload/versions", f.constantFrom<unknown>([], "1.2", ["1.2", "1.2"], [1.2], ["v1.2"])),
    replace("/payload/capabilities", f.constantFrom<unknown>("websocket", ["Web Socket"], ["websocket", "websocket"], [42])),
    replace("/payload", f.constantFrom<unknown>("a string", null, [], 42)),
    replace("/type", f.constantFrom<unknown>(42, null, ["HANDSHAKE_INIT"])),
  );
}

function applyMutation(envelope: Envelope, mutation: Mutation): Envelope {
  const copy = JSON.parse(JSON.stringify(envelope)) as Envelope;
  const keys = mutation.path.split("/").slice(1);
  let target: Record<string, unknown> = copy;
  for (const key of keys.slice(0, -1)) target = target[key] as Record<string, unknown>;
  const last = keys.at(-1) as string;
  if (mutation.remove) delete target[last];
  else target[last] = mutation.value;
  return copy;
}

function expectNoTaskResponse(ctx: CaseContext, probe: ProbePeer, why: string): void {
  ctx.check(!probe.history.some((i) => i.kind === "message" && i.envelope.type === "TASK_RESPONSE"), `no TASK_RESPONSE: ${why}`, "a TASK_RESPONSE");
}

export const envelopeCases = suite("envelope", "5. Envelope and encoding", [
  {
    id: "emitted-envelopes-follow-schema",
    title: "Every envelope and inner payload a server emits follows the schema of the negotiated version",
    requirements: ["PP-ENV-001", "PP-ENV-002", "PP-ENV-003", "PP-ENV-005", "PP-ENV-010", "PP-ENV-011", "PP-VER-006", "PP-KS-012"],
    level: "MUST",
    async run(ctx) {
      if (!ctx.validators) ctx.skip("schema validators are disabled");
      // The probe validates every inbound message strictly; this case exercises the common ones:
      // the handshake, TASK_RESPONSE, ACK, PONG and an ERROR record.
      const probe = await ctx.session();
      await probe.echo({ text: "schema" });
      await probe.expectAck(probe.txSeq - 1, 1000).catch(() => undefined);
      probe.sendRecord("TASK_REQUEST", { task_id: "task-bad" }, {});
      await probe.expectError("INVALID_MESSAGE");
    },
  },
  {
    id: "message-ids-unique",
    title: "A server never reuses a message_id for a different message within a session",
    requirements: ["PP-ENV-006"],
    level: "MUST",
    async run(ctx) {
      const probe = await ctx.session();
      for (let i = 0; i < 10; i++) await probe.echo({ i });
      const ids = probe.history.flatMap((i) => (i.kind === "message" ? [String(i.envelope.message_id)] : []));
      const dupes = ids.filter((id, i) => ids.indexOf(id) !== i);
      ctx.check(dupes.length === 0, `${ids.length} different message_id values`, `repeated: ${[...new Set(dupes)].join(", ")}`);
    },
  },
  {
    id: "schema-violations",
    title: "A server answers a HANDSHAKE_INIT that violates its schema with INVALID_MESSAGE naming it, and keeps serving",
    requirements: ["PP-ENV-007", "PP-ENV-013", "PP-VER-012", "PP-ENV-002", "PP-ENV-004", "PP-ENV-005", "PP-ENV-011", "PP-ERR-004"],
    level: "MUST",
    async run(ctx) {
      await ctx.property(mutations(ctx.fc), async (mutation) => {
        const probe = await ctx.probe();
        const sent = applyMutation(probe.buildInit(), mutation);
        // Only mutations that really break the schema (the validator is the oracle).
        if (ctx.validators) fc.pre(!ctx.validators.validateEnvelope("1.2", sent).ok);
        probe.sendJson(sent);
        const readable = mutation.path !== "/message_id" && typeof sent.message_id === "string";
        await probe.expectError("INVALID_MESSAGE", { checkConnection: false, ...(readable ? { relatedMessageId: String(sent.message_id) } : {}) });
        await keepsServing(probe);
      });
    },
  },
  {
    id: "non-canonical-base64url",
    title: "A server rejects binary values that are not canonical base64url without padding",
    requirements: ["PP-ENV-004", "PP-ENV-003"],
    level: "MUST",
    async run(ctx) {
      const variants: [string, (k: string) => string][] = [
        ["with padding", (k) => `${k}=`],
        ["with the standard alphabet", (k) => k.replace(/-/g, "+").replace(/_/g, "/").replace(/^./, "+")],
        ["with non-zero trailing bits", (k) => `${k.slice(0, 42)}${"AEIMQUYcgkosw048".includes(k.at(-1) as string) ? "B" : "A"}`],
      ];
      for (const [why, mangle] of variants) {
        const probe = await ctx.probe();
        const init = probe.buildInit();
        const payload = init.payload as Record<string, unknown>;
        payload.ephemeral_key = mangle(String(payload.ephemeral_key));
        probe.sendJson(init);
        await probe.expectError("INVALID_MESSAGE", { checkConnection: false });
        ctx.check(!probe.history.some((i) => i.kind === "message" && i.envelope.type === "HANDSHAKE_INIT_ACK"), `no HANDSHAKE_INIT_ACK to an ephemeral_key ${why}`, "HANDSHAKE_INIT_ACK");
        probe.close();
      }
    },
  },
  {
    id: "unknown-type",
    title: "A server answers an envelope whose type is not in the registry with INVALID_MESSAGE",
    requirements: ["PP-ENV-008", "PP-ERR-004", "PP-RPL-008"],
    level: "MUST",
    async run(ctx) {
      const probe = await ctx.probe();
      const init = probe.buildInit();
      probe.sendJson({ ...init, type: "HANDSHAKE_HELLO" });
      await probe.expectError("INVALID_MESSAGE", { checkConnection: false });
      await keepsServing(probe);
      const sent = probe.sendRecord("TASK_ORDER", { task_id: "task-unknown", action: "echo", params: {} });
      await probe.expectError("INVALID_MESSAGE", { checkConnection: false });
      await probe.expectSeqNotUsedUp(sent.seq as number);
      expectNoTaskResponse(ctx, probe, "the record's type is not in the registry");
    },
  },
  {
    id: "unknown-members-ignored",
    title: "A server ignores unknown envelope and payload members, absorbs them into the transcript and authenticates them in the AAD",
    requirements: ["PP-VER-001", "PP-ENV-012", "PP-KS-001", "PP-KS-007"],
    level: "MUST",
    async run(ctx) {
      const probe = await ctx.probe();
      await probe.handshake({
        init: (env) => ({ ...env, x_extension: { future: true }, payload: { ...(env.payload as object), x_hint: "ignored" } }),
        challengeResponse: (env) => ({ ...env, x_trace: "abc", payload: { ...(env.payload as object), x_note: 1 } }),
      });
      const { response } = await probe.echo({ text: "unknown members" }, { overrides: { envelope: { x_meta: 7 } } });
      ctx.check(response.envelope.type === "TASK_RESPONSE", "TASK_RESPONSE to a record with an unknown envelope member", String(response.envelope.type));
      probe.sendRecord("TASK_REQUEST", { task_id: "task-x", action: "echo", params: { a: 1 }, x_priority: "high" });
      await probe.expectMessage((m) => m.envelope.type === "TASK_RESPONSE" && ProbePeer.payloadOf(m).task_id === "task-x", { describe: "TASK_RESPONSE to a TASK_REQUEST with an unknown inner member" });
      // Ignored is not unauthenticated: the AAD is the envelope as received, unknown members
      // included (PP-KS-007), so one added after sealing fails the AEAD.
      probe.sendRecord("TASK_REQUEST", { task_id: "task-added", action: "echo", params: {} }, { after: (e) => ({ ...e, x_added: true }) });
      await probe.expectError("AUTHENTICATION_FAILED");
    },
  },
  {
    id: "member-order-and-whitespace",
    title: "A server hashes the JCS form of HANDSHAKE_INIT: member order and whitespace do not change the transcript",
    requirements: ["PP-ENV-009", "PP-KS-001"],
    level: "MUST",
    async run(ctx) {
      const probe = await ctx.probe();
      const init = probe.buildInit();
      const reversed = (value: unknown): unknown =>
        value && typeof value === "object" && !Array.isArray(value) ? Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, reversed(v)])) : value;
      probe.sendHandshake(init, JSON.stringify(reversed(init), null, 3));
      await probe.receiveInitAck();
      probe.sendHandshake(probe.buildChallengeResponse());
      await probe.receiveEstablished();
      probe.sendConfirm();
      await probe.receiveReady();
    },
  },
  {
    id: "inner-schema-violation",
    title: "A receiver answers a record whose decrypted payload violates its schema with INVALID_MESSAGE, and acknowledges a data record so refused",
    requirements: ["PP-KS-010", "PP-ENV-007", "PP-ERR-004", "PP-DLV-016"],
    level: "MUST",
    async run(ctx) {
      const probe = await ctx.session();
      const variants: [string, unknown][] = [
        ["no action", { task_id: "task-a", params: {} }],
        ["task_id not a string", { task_id: 42, action: "echo", params: {} }],
        ["payload not an object", ["echo"]],
      ];
      for (const [why, inner] of variants) {
        const sent = probe.sendRecord("TASK_REQUEST", inner);
        await probe.expectError("INVALID_MESSAGE", { relatedMessageId: String(sent.message_id) });
        await expectRefusedAcknowledged(probe, sent.seq as number, `a TASK_REQUEST refused for its payload: ${why}`);
        expectNoTaskResponse(ctx, probe, why);
      }
      const ping = probe.sendRecord("PING", { ping_id: "" });
      await probe.expectError("INVALID_MESSAGE", { relatedMessageId: String(ping.message_id) });
    },
  },
  {
    id: "inner-not-json",
    title: "A receiver answers a record whose plaintext is not JSON with INVALID_MESSAGE",
    requirements: ["PP-KS-010", "PP-TRN-002"],
    level: "MUST",
    async run(ctx) {
      const notJson = new TextEncoder().encode("{not json");
      // In a session: only the plaintext is wrong (sealed under the right key, nonce and AAD).
      const probe = await ctx.session();
      probe.sendRecord("TASK_REQUEST", null, { plaintext: notJson });
      await probe.expectError("INVALID_MESSAGE");
      expectNoTaskResponse(ctx, probe, "the record's plaintext is not JSON");
      // Step 5: SESSION_CONFIRM is a record too (spec §6.1), sealed correctly at seq 0 with a
      // plaintext that is not JSON. INVALID_MESSAGE keeps the connection open (registry 17.2).
      const confirming = await ctx.probe();
      await confirming.handshake({ until: "ESTABLISHED" });
      confirming.sendConfirm({ plaintext: notJson });
      await confirming.expectError("INVALID_MESSAGE");
      // The positive neighbour: the valid SESSION_CONFIRM then completes the handshake. The refused
      // record authenticated, so whether it used up seq 0 is the target's choice (PP-RPL-008 covers
      // only records refused before they authenticate): seq 0 again gets READY, or REPLAY_DETECTED
      // and then seq 1 gets READY.
      confirming.sendConfirm({ seq: 0 });
      const answer = await confirming.expectMessage(["READY", "ERROR"], { describe: "READY for the valid SESSION_CONFIRM, or REPLAY_DETECTED when the refused one used up seq 0" });
      if (answer.envelope.type === "ERROR" && ProbePeer.payloadOf(answer).code !== "REPLAY_DETECTED") {
        // The spec does not say whether a refused SESSION_CONFIRM ends the handshake; a target that
        // ends it must still keep the connection open, as the INVALID_MESSAGE row says (PP-ERR-004).
        ctx.note(`after the refused SESSION_CONFIRM the target answered ERROR ${String(ProbePeer.payloadOf(answer).code)} to a valid one: it ended the handshake`);
        await confirming.expectOpen("the connection stays open after INVALID_MESSAGE (PP-ERR-004)");
        return;
      }
      if (answer.envelope.type === "ERROR") {
        await confirming.checkError(answer, "REPLAY_DETECTED");
        confirming.sendConfirm({ seq: 1 });
        confirming.txSeq = 2;
        await confirming.receiveReady();
      } else {
        const hash = (answer.inner as { handshake_hash?: unknown } | undefined)?.handshake_hash;
        ctx.check(confirming.th !== null && hash === b64u(confirming.th), `READY with handshake_hash ${confirming.th ? b64u(confirming.th) : "?"}`, `handshake_hash ${JSON.stringify(hash)}`);
        confirming.stage = "READY";
        confirming.txSeq = 1;
      }
      const { response } = await confirming.echo({ after: "a refused SESSION_CONFIRM" });
      ctx.check(jcsEqual(ProbePeer.payloadOf(response).result, { after: "a refused SESSION_CONFIRM" }), "TASK_RESPONSE result equal to params: the session works", JSON.stringify(ProbePeer.payloadOf(response).result));
    },
  },
]);
