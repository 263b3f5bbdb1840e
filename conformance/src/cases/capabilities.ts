/**
 * Spec §11 (capabilities): selection from the offer, unknown names ignored, CAPABILITY_EXCHANGE.
 */
import { suite } from "../case.ts";
import { ProbePeer } from "../probe/peer.ts";
import { b64u, unb64u } from "../probe/wire.ts";
import { flipBit, jcsEqual } from "./support.ts";

export const capabilityCases = suite("capabilities", "11. Capabilities", [
  {
    id: "selected-from-offer",
    title: "A responder selects capabilities only from those offered and ignores names it does not know",
    requirements: ["PP-HS-015", "PP-CAP-005"],
    level: "MUST",
    async run(ctx) {
      const offers = [["websocket", "x-unknown-capability"], [], ["x-future", "resume"], ctx.target.capabilities];
      for (const offer of offers) {
        const probe = await ctx.probe();
        await probe.handshake({ capabilities: offer });
        const selected = probe.capabilities;
        const outside = selected.filter((c) => !offer.includes(c));
        ctx.check(outside.length === 0, `capabilities selected from the offer ${JSON.stringify(offer)}`, `also ${JSON.stringify(outside)}`);
        ctx.check(!selected.some((c) => c.startsWith("x-")), "unknown capability names not selected (PP-CAP-005)", JSON.stringify(selected));
        probe.close();
      }
    },
  },
  {
    id: "exchange-reply",
    title: "A server answers CAPABILITY_EXCHANGE with reply: true, its selected capabilities and its limits",
    requirements: ["PP-CAP-003", "PP-CAP-004"],
    level: "MUST",
    async run(ctx) {
      const probe = await ctx.session();
      probe.sendRecord("CAPABILITY_EXCHANGE", { capabilities: probe.capabilities, limits: { ...ctx.limits } });
      const item = await probe.expectMessage((m) => m.envelope.type === "CAPABILITY_EXCHANGE", { describe: "CAPABILITY_EXCHANGE with reply: true", skip: (m) => m.envelope.type === "ACK" });
      const payload = ProbePeer.payloadOf(item);
      ctx.check(payload.reply === true, "reply: true (PP-CAP-003)", `reply ${JSON.stringify(payload.reply)}`);
      ctx.check(jcsEqual([...(payload.capabilities as string[])].sort(), [...probe.capabilities].sort()), `the capabilities selected in the handshake ${JSON.stringify(probe.capabilities)} (PP-CAP-004)`, JSON.stringify(payload.capabilities));
      ctx.check(jcsEqual(payload.limits, probe.limits), `the limits of HANDSHAKE_INIT_ACK`, JSON.stringify(payload.limits));
      // A reply is not answered again.
      probe.sendRecord("CAPABILITY_EXCHANGE", { capabilities: probe.capabilities, limits: { ...ctx.limits }, reply: true });
      await probe.expectSilence(300, "no answer to CAPABILITY_EXCHANGE with reply: true", { allow: (m) => m.envelope.type !== "CAPABILITY_EXCHANGE" });
    },
  },
  {
    id: "exchange-other-capabilities",
    title: "A server answers a CAPABILITY_EXCHANGE naming other capabilities than those selected with INVALID_MESSAGE and no reply, and answers the selected set",
    requirements: ["PP-CAP-009", "PP-CAP-004", "PP-CAP-003"],
    level: "MUST",
    async run(ctx) {
      // Offer part of what the target advertises, so that a capability it could select is left out.
      const plain = ctx.target.capabilities.filter((c) => c !== "aes-256-gcm" && c !== "message-signatures");
      const offer = plain.filter((c) => ["websocket", "resume", "chunking"].includes(c));
      const probe = await ctx.probe();
      await probe.handshake({ capabilities: offer });
      const selected = probe.capabilities;
      const extra = plain.find((c) => !selected.includes(c));
      const variants: { capabilities: string[]; what: string }[] = [];
      if (extra) variants.push({ capabilities: [...selected, extra], what: `the selected ${JSON.stringify(selected)} and ${extra}, which was not selected` });
      else ctx.note(`the target advertises no capability beyond the selected ${JSON.stringify(selected)}: no CAPABILITY_EXCHANGE with one more was sent`);
      if (selected.length > 0) variants.push({ capabilities: selected.slice(1), what: `the selected ${JSON.stringify(selected)} without ${selected[0]}` });
      else ctx.note("the target selected no capability: no CAPABILITY_EXCHANGE with one less was sent");
      for (const variant of variants) {
        const sent = probe.sendRecord("CAPABILITY_EXCHANGE", { capabilities: variant.capabilities, limits: { ...ctx.limits } });
        await probe.expectError("INVALID_MESSAGE", { relatedMessageId: String(sent.message_id) });
        await probe.expectSilence(300, `no CAPABILITY_EXCHANGE in answer to one naming ${variant.what} (PP-CAP-009)`, { allow: (m) => m.envelope.type !== "CAPABILITY_EXCHANGE" });
        const replied = probe.history.some((i) => i.kind === "message" && i.envelope.type === "CAPABILITY_EXCHANGE");
        ctx.check(!replied, `no CAPABILITY_EXCHANGE in answer to one naming ${variant.what} (PP-CAP-009)`, "a CAPABILITY_EXCHANGE reply");
      }
      // The neighbour: the selected set, in another order, is answered (PP-CAP-003).
      probe.sendRecord("CAPABILITY_EXCHANGE", { capabilities: [...selected].reverse(), limits: { ...ctx.limits } });
      const item = await probe.expectMessage("CAPABILITY_EXCHANGE", { describe: "CAPABILITY_EXCHANGE with reply: true for the selected capabilities (PP-CAP-003)" });
      ctx.check(ProbePeer.payloadOf(item).reply === true, "reply: true (PP-CAP-003)", `reply ${JSON.stringify(ProbePeer.payloadOf(item).reply)}`);
    },
  },
  {
    id: "unselected-not-used",
    title: "A server uses no capability that was not selected: ChaCha20-Poly1305 records without signatures",
    requirements: ["PP-CAP-001"],
    level: "MUST",
    async run(ctx) {
      // The probe opens records with ChaCha20-Poly1305 unless aes-256-gcm was selected, and flags a
      // record signature that message-signatures did not allow.
      const probe = await ctx.probe();
      await probe.handshake({ capabilities: ["websocket"] });
      ctx.check(!probe.capabilities.includes("aes-256-gcm") && !probe.capabilities.includes("message-signatures"), "neither aes-256-gcm nor message-signatures selected when not offered", JSON.stringify(probe.capabilities));
      await probe.echo({ plain: true });
    },
  },
  {
    id: "aes-256-gcm",
    title: "A server that selects aes-256-gcm seals and opens records with AES-256-GCM",
    requirements: ["PP-CAP-001", "PP-KS-006", "PP-KS-007"],
    level: "MUST",
    requires: ["aes-256-gcm"],
    async run(ctx) {
      const probe = await ctx.probe();
      await probe.handshake({ capabilities: ["websocket", "aes-256-gcm"] });
      if (!probe.capabilities.includes("aes-256-gcm")) ctx.skip("the target did not select aes-256-gcm");
      await probe.echo({ aead: "aes-256-gcm" });
    },
  },
  {
    id: "message-signatures",
    title: "With message-signatures, a server signs every record and closes with AUTHENTICATION_FAILED on a bad record signature",
    requirements: ["PP-CAP-006", "PP-CAP-007"],
    level: "MUST",
    requires: ["message-signatures"],
    async run(ctx) {
      const probe = await ctx.probe();
      await probe.handshake({ capabilities: ["websocket", "message-signatures"] });
      if (!probe.capabilities.includes("message-signatures")) ctx.skip("the target did not select message-signatures");
      await probe.echo({ signed: true });
      probe.sendRecord("TASK_REQUEST", { task_id: "task-badsig", action: "echo", params: {} }, { after: (e) => ({ ...e, signature: b64u(flipBit(unb64u(e.signature) ?? new Uint8Array(64), 5)) }) });
      await probe.expectError("AUTHENTICATION_FAILED");
      const unsigned = await ctx.probe();
      await unsigned.handshake({ capabilities: ["websocket", "message-signatures"] });
      unsigned.sendRecord("TASK_REQUEST", { task_id: "task-nosig", action: "echo", params: {} }, { after: (e) => {
        const { signature: _dropped, ...rest } = e;
        return rest;
      } });
      await unsigned.expectError(["AUTHENTICATION_FAILED"]);
    },
  },
]);
