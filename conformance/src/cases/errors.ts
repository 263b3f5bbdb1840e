/**
 * Spec §12 (errors) and the registry of §17.2: codes, retryable values and close codes, no ERROR
 * answering an ERROR, and one connection's error never harms the others.
 */
import { suite } from "../case.ts";
import { randomBytes } from "../probe/crypto.ts";
import { ProbePeer, type Envelope } from "../probe/peer.ts";
import { b64u } from "../probe/wire.ts";
import { ERROR_CODES } from "../schemas.ts";
import { flipBit } from "./support.ts";

export const errorCases = suite("errors", "12. Errors", [
  {
    id: "registry-values",
    title: "Every ERROR carries a registry code, the registry's retryable value and the registry's transport behaviour",
    requirements: ["PP-ERR-001", "PP-ERR-002", "PP-ERR-003", "PP-ERR-004", "PP-ERR-008"],
    level: "MUST",
    async run(ctx) {
      // One error of each transport behaviour; the probe checks code, retryable and the absence of
      // keys and session secrets in ERROR.message (PP-ERR-008) of every ERROR in every case.
      const open = await ctx.session();
      open.sendRecord("TASK_REQUEST", { task_id: "task-e" });
      await open.expectError("INVALID_MESSAGE");
      // A well-formed CHALLENGE_RESPONSE as the first message: the state check (INVALID_STATE,
      // which closes) decides, not the schema.
      const closing = await ctx.probe();
      const session = `sess_${b64u(randomBytes(16)).slice(0, 22)}`;
      closing.sendJson(closing.plaintextEnvelope("CHALLENGE_RESPONSE", { signature: b64u(randomBytes(64)), finished: b64u(randomBytes(32)) }, { sessionId: session }));
      const item = await closing.expectMessage("ERROR");
      const code = String(ProbePeer.payloadOf(item).code);
      ctx.check(code in ERROR_CODES, "a code from the error registry (PP-ERR-001)", code);
      await closing.checkError(item, code);
    },
  },
  {
    id: "no-error-for-error",
    title: "A server does not answer an ERROR with an ERROR",
    requirements: ["PP-ERR-007"],
    level: "MUST",
    async run(ctx) {
      const probe = await ctx.session();
      probe.sendRecord("ERROR", { code: "INVALID_MESSAGE", message: "probe: a test error", retryable: false });
      await probe.expectSilence(Math.max(300, (ctx.limits.ack_delay_ms ?? 100) * 3), "no ERROR in answer to an ERROR");
      await probe.expectOpen();
    },
  },
  {
    id: "related-message-id",
    title: "An ERROR names the message that caused it in related_message_id",
    requirements: ["PP-ERR-006"],
    level: "SHOULD",
    async run(ctx) {
      const probe = await ctx.session();
      const sent = probe.sendRecord("TASK_REQUEST", { task_id: 1 });
      await probe.expectError("INVALID_MESSAGE", { relatedMessageId: String(sent.message_id) });
      const bad: Envelope = { ...probe.buildInit(), type: "NOT_A_TYPE" };
      const pre = await ctx.probe();
      pre.sendJson(bad);
      await pre.expectError("INVALID_MESSAGE", { relatedMessageId: String(bad.message_id), checkConnection: false });
    },
  },
  {
    id: "other-connections-unharmed",
    title: "A server keeps serving its other connections after an error closes one",
    requirements: ["PP-ERR-009"],
    level: "MUST",
    async run(ctx) {
      const bystander = await ctx.session();
      const offender = await ctx.session();
      offender.sendRecord("TASK_REQUEST", { task_id: "task-bad", action: "echo", params: {} }, { ciphertext: (s) => flipBit(s, 0) });
      await offender.expectError("AUTHENTICATION_FAILED");
      const garbage = await ctx.probe();
      garbage.sendBytes(Uint8Array.of(0xff, 0xfe, 0x00));
      await garbage.next(500);
      await bystander.echo({ still: "served" });
      const fresh = await ctx.session();
      await fresh.echo({ fresh: true });
    },
  },
]);
