/**
 * Client cases of spec §11 (capabilities): CAPABILITY_EXCHANGE restates the handshake's selection.
 * The client answers one without `reply` once, with exactly the selected set (PP-CAP-003,
 * PP-CAP-004), does not answer a reply, and refuses any other set, a superset or a near-miss
 * subset, with INVALID_MESSAGE and no reply (PP-CAP-009).
 */
import { flipBit } from "../../cases/support.ts";
import { CaseSkip } from "../../failure.ts";
import { b64u, unb64u } from "../../probe/wire.ts";
import { VALIDATORS } from "../../schemas.ts";
import { clientSuite, type ClientCaseContext } from "../client-case.ts";
import type { ProbeResponder } from "../responder.ts";
import { checkClientErrors, clientRecords, describeEvent, endWithBye, expectAbort, expectDelivered, expectError, messageId, nextEvent, readySession, RECEIVE_LIMITS, sendMessage } from "./receiving.ts";

function sendExchange(r: ProbeResponder, capabilities: string[], reply?: boolean): string {
  const id = messageId("exchange");
  r.sendRecord("CAPABILITY_EXCHANGE", { capabilities, limits: r.limits, ...(reply === undefined ? {} : { reply }) }, { envelope: { message_id: id } });
  return id;
}

/** The client's CAPABILITY_EXCHANGE records so far. */
const exchanges = (r: ProbeResponder) => clientRecords(r, "CAPABILITY_EXCHANGE");

async function expectNoReply(ctx: ClientCaseContext, r: ProbeResponder, before: number, why: string): Promise<void> {
  const m = sendMessage(r, { n: "after-exchange" });
  await expectDelivered(ctx, r, m, { n: "after-exchange" }, "the session goes on");
  ctx.check(exchanges(r).length === before, `no CAPABILITY_EXCHANGE in answer (${why})`, `${exchanges(r).length - before} CAPABILITY_EXCHANGE records`);
}

/** The offer the message-signatures case asks the client to make (PEER_CAPABILITIES, spec §18.1). */
const WITH_SIGNATURES = ["websocket", "http", "resume", "chunking", "events", "message-signatures"];

export const clientCapabilityCases = clientSuite("capabilities", "11. Capabilities", [
  {
    id: "exchange-answered",
    title: "A client answers a CAPABILITY_EXCHANGE without reply once, with reply: true, exactly the capabilities selected in the handshake and valid limits; it does not answer one with reply: true",
    requirements: ["PP-CAP-003", "PP-CAP-004"],
    level: "MUST",
    scenario: "receive",
    limits: RECEIVE_LIMITS,
    async run(ctx) {
      const r = await readySession(ctx);
      sendExchange(r, [...r.capabilities]);
      const event = await nextEvent(r, 10_000);
      const inner = event.kind === "other" && event.item.kind === "message" && event.item.envelope.type === "CAPABILITY_EXCHANGE" ? (event.item.inner as { capabilities?: unknown; limits?: unknown; reply?: unknown }) : null;
      ctx.check(inner !== null, "a CAPABILITY_EXCHANGE record in answer (PP-CAP-003)", describeEvent(event));
      if (!inner) return;
      ctx.check(inner.reply === true, "the answer carries reply: true (PP-CAP-003)", `reply ${JSON.stringify(inner.reply)}`);
      const named = Array.isArray(inner.capabilities) ? inner.capabilities.map(String) : [];
      const equal = named.length === r.capabilities.length && r.capabilities.every((c) => named.includes(c));
      ctx.check(equal, `exactly the selected capabilities ${JSON.stringify(r.capabilities)} (PP-CAP-004)`, JSON.stringify(inner.capabilities));
      const schema = VALIDATORS.validateInnerPayload("1.2", "CAPABILITY_EXCHANGE", inner, { strict: true });
      ctx.check(schema.ok, "the answer's payload, limits included, as its schema defines (PP-CAP-003)", schema.ok ? "" : `${schema.path} ${schema.error}`);
      const before = exchanges(r).length;
      sendExchange(r, [...r.capabilities], true);
      await expectNoReply(ctx, r, before, "a reply is not answered again, PP-CAP-003");
      checkClientErrors(ctx, r);
      await endWithBye(ctx, r);
    },
  },
  {
    id: "message-signatures",
    title: "With message-signatures selected, a client signs every record it sends (verified strictly under its identity key) and closes with AUTHENTICATION_FAILED on a record whose signature has one bit flipped, delivering nothing of it",
    requirements: ["PP-CAP-006", "PP-CAP-007"],
    level: "MUST",
    scenario: "receive",
    env: { PEER_CAPABILITIES: WITH_SIGNATURES.join(",") },
    limits: RECEIVE_LIMITS,
    async run(ctx) {
      const r = await readySession(ctx, { capabilities: WITH_SIGNATURES });
      if (!r.capabilities.includes("message-signatures")) {
        r.sendRecord("BYE", { reason: "message-signatures not offered" });
        throw new CaseSkip(`the client did not offer message-signatures (it offered ${JSON.stringify(r.offeredCapabilities)}); PP-CAP-006 and PP-CAP-007 apply only when it is selected`);
      }
      const signed = sendMessage(r, { n: 1 });
      await expectDelivered(ctx, r, signed, { n: 1 }, "a record signed by the server");
      const id = messageId("bad-signature");
      const { envelope } = r.sealRecord("PEER_MESSAGE", { content: { n: 2 } }, { envelope: { message_id: id } });
      envelope.signature = b64u(flipBit(unb64u(envelope.signature) as Uint8Array, 100));
      r.sendText(JSON.stringify(envelope));
      await expectAbort(ctx, r, "AUTHENTICATION_FAILED", "PP-CAP-007");
      ctx.check(r.violations.length === 0, "every record the client sent carries a valid record signature (PP-CAP-006)", r.violations.join("; "));
      const unsigned = clientRecords(r).filter((m) => typeof m.envelope.signature !== "string").map((m) => String(m.envelope.type));
      ctx.check(unsigned.length === 0, "every record the client sent carries a signature (PP-CAP-006)", `unsigned: ${unsigned.join(", ")}`);
      checkClientErrors(ctx, r);
      const exit = await ctx.exit(10_000);
      ctx.check(exit.code === 1, "the driver reports the session lost: exit 1", `exit ${exit.code}`);
    },
  },
  {
    id: "exchange-other-capabilities",
    title: "A client answers a CAPABILITY_EXCHANGE naming one capability more than selected, and one naming one fewer, each with INVALID_MESSAGE and no reply",
    requirements: ["PP-CAP-009"],
    level: "MUST",
    scenario: "receive",
    limits: RECEIVE_LIMITS,
    async run(ctx) {
      const r = await readySession(ctx);
      const unselected = ["sealed-relay", "message-signatures", "aes-256-gcm", "events", "chunking", "resume", "http"].find((c) => !r.capabilities.includes(c)) as string;
      const before = exchanges(r).length;
      const more = sendExchange(r, [...r.capabilities, unselected]);
      await expectError(ctx, r, "INVALID_MESSAGE", more, `a CAPABILITY_EXCHANGE naming ${unselected} too (PP-CAP-009)`);
      const fewer = sendExchange(r, r.capabilities.slice(1));
      await expectError(ctx, r, "INVALID_MESSAGE", fewer, `a CAPABILITY_EXCHANGE without ${r.capabilities[0]} (PP-CAP-009)`);
      await expectNoReply(ctx, r, before, "PP-CAP-009");
      checkClientErrors(ctx, r);
      await endWithBye(ctx, r);
    },
  },
]);
