/**
 * Spec §7.3 (records): numbering, nonce and AAD, direction keys; a record that fails to decrypt
 * closes the connection with AUTHENTICATION_FAILED.
 */
import { suite } from "../case.ts";
import type { Envelope } from "../probe/peer.ts";
import { nonceFor } from "../probe/schedule.ts";
import { flipBit } from "./support.ts";

/**
 * Changes to the envelope after sealing: each alters what the AAD covers (PP-KS-007). Each changes
 * one member that every reading of the spec knows, so that the only possible answer is the AEAD
 * failure. (A member added after sealing is in envelope.unknown-members-ignored.)
 */
const AAD_TAMPERS: Record<string, (e: Envelope) => Envelope> = {
  "timestamp + 1": (e) => ({ ...e, timestamp: (e.timestamp as number) + 1 }),
  "message_id changed": (e) => ({ ...e, message_id: `${String(e.message_id).slice(0, -1)}${String(e.message_id).endsWith("A") ? "B" : "A"}` }),
  "type changed to PEER_MESSAGE": (e) => ({ ...e, type: "PEER_MESSAGE" }),
  "recipient_id changed": (e) => ({ ...e, recipient_id: `${String(e.recipient_id)}-x` }),
  "sender_id changed": (e) => ({ ...e, sender_id: `${String(e.sender_id)}-x` }),
};

export const recordCases = suite("records", "7. Key schedule and records", [
  {
    id: "numbered-from-zero",
    title: "A server numbers its records from 0 and by one, sealed with the r2i key and IV",
    requirements: ["PP-KS-005", "PP-KS-006", "PP-KS-007", "PP-KS-011", "PP-KS-012"],
    level: "MUST",
    async run(ctx) {
      // The probe checks seq, session_id and decryption of every inbound record as it arrives.
      const probe = await ctx.session();
      for (let i = 0; i < 5; i++) await probe.echo({ i });
      const seqs = probe.history.flatMap((i) => (i.kind === "message" && i.record ? [i.envelope.seq as number] : []));
      ctx.check(
        seqs.every((seq, i) => seq === i),
        "target records numbered 0 (READY), 1, 2, …",
        `seq values ${seqs.join(", ")}`,
      );
    },
  },
  {
    id: "tampered-ciphertext",
    title: "A receiver closes with AUTHENTICATION_FAILED (4401) when any bit of a record's ciphertext or tag is flipped",
    requirements: ["PP-KS-008", "PP-ERR-003"],
    level: "MUST",
    async run(ctx) {
      await ctx.property(ctx.fc.nat(8 * 64 - 1), async (bit) => {
        const probe = await ctx.session();
        probe.sendRecord("TASK_REQUEST", { task_id: "task-tamper", action: "echo", params: { pad: "0123456789abcdef0123456789" } }, {
          ciphertext: (sealed) => flipBit(sealed, bit % (sealed.length * 8)),
        });
        await probe.expectError("AUTHENTICATION_FAILED");
        ctx.check(!probe.history.some((i) => i.kind === "message" && i.envelope.type === "TASK_RESPONSE"), "no TASK_RESPONSE to a tampered record", "a TASK_RESPONSE");
      });
    },
  },
  {
    id: "tampered-aad",
    title: "A receiver closes with AUTHENTICATION_FAILED when an envelope member covered by the AAD changed after sealing",
    requirements: ["PP-KS-007", "PP-KS-008"],
    level: "MUST",
    async run(ctx) {
      await ctx.property(ctx.fc.constantFrom(...Object.keys(AAD_TAMPERS)), async (name) => {
        const probe = await ctx.session();
        probe.sendRecord("TASK_REQUEST", { task_id: "task-aad", action: "echo", params: {} }, { after: AAD_TAMPERS[name] });
        await probe.expectError("AUTHENTICATION_FAILED");
      });
    },
  },
  {
    id: "wrong-direction-key",
    title: "A receiver rejects a record sealed with the key and IV of the other direction",
    requirements: ["PP-KS-011", "PP-KS-008"],
    level: "MUST",
    async run(ctx) {
      const probe = await ctx.session();
      const keys = probe.keys;
      if (!keys) return ctx.fail("traffic keys", "none");
      probe.sendRecord("TASK_REQUEST", { task_id: "task-dir", action: "echo", params: {} }, { keys: { key: keys.r2iKey, iv: keys.r2iIv } });
      await probe.expectError("AUTHENTICATION_FAILED");
    },
  },
  {
    id: "wrong-nonce",
    title: "A receiver rejects a record sealed with the nonce of another seq",
    requirements: ["PP-KS-006", "PP-KS-008"],
    level: "MUST",
    async run(ctx) {
      const probe = await ctx.session();
      const keys = probe.keys;
      if (!keys) return ctx.fail("traffic keys", "none");
      const seq = probe.txSeq;
      // iv' such that iv' XOR seq = iv XOR (seq + 1): the record is sealed under the next seq's nonce.
      const shiftedIv = nonceFor(nonceFor(keys.i2rIv, seq), seq + 1);
      probe.sendRecord("TASK_REQUEST", { task_id: "task-nonce", action: "echo", params: {} }, { keys: { key: keys.i2rKey, iv: shiftedIv } });
      await probe.expectError("AUTHENTICATION_FAILED");
    },
  },
  {
    id: "foreign-session-id",
    title: "A receiver answers a record whose session_id is not the session's with INVALID_MESSAGE and does not process it",
    requirements: ["PP-KS-012", "PP-RPL-008"],
    level: "MUST",
    async run(ctx) {
      const other = await ctx.session();
      const probe = await ctx.session();
      const sent = probe.sendRecord("TASK_REQUEST", { task_id: "task-foreign", action: "echo", params: {} }, { envelope: { session_id: other.sessionId } });
      const item = await probe.expectMessage(["ERROR", "TASK_RESPONSE"], { describe: "an ERROR, not a TASK_RESPONSE" });
      ctx.check(item.envelope.type === "ERROR", "an ERROR for a record of another session", "TASK_RESPONSE: the record was processed");
      await probe.checkError(item, "INVALID_MESSAGE", { checkConnection: false });
      await probe.expectSeqNotUsedUp(sent.seq as number);
    },
  },
]);
