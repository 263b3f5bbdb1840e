/**
 * Spec §14 (replay protection): the HANDSHAKE_INIT timestamp window and nonce cache, and strict
 * record order over the WebSocket.
 */
import { suite } from "../case.ts";
import { randomBytes } from "../probe/crypto.ts";
import { ProbePeer } from "../probe/peer.ts";
import { unb64u } from "../probe/wire.ts";
import { keepsServing } from "./support.ts";

export const replayCases = suite("replay", "14. Replay protection", [
  {
    id: "init-nonce-reused",
    title: "A responder rejects a HANDSHAKE_INIT whose nonce it has already seen with REPLAY_DETECTED",
    requirements: ["PP-RPL-002", "PP-ERR-004"],
    level: "MUST",
    async run(ctx) {
      const first = await ctx.probe();
      const init = first.buildInit();
      first.sendHandshake(init);
      await first.receiveInitAck();
      first.close();
      // The same INIT again, byte for byte, on a new connection; then the same nonce in a fresh INIT.
      const exact = await ctx.probe();
      exact.sendJson(init);
      await exact.expectError("REPLAY_DETECTED", { checkConnection: false });
      await keepsServing(exact);
      const sameNonce = await ctx.probe();
      sameNonce.sendHandshake(sameNonce.buildInit({ nonce: unb64u(init.nonce) as Uint8Array }));
      await sameNonce.expectError("REPLAY_DETECTED", { checkConnection: false });
      await keepsServing(sameNonce);
    },
  },
  {
    id: "init-timestamp-skew",
    title: "A responder rejects a HANDSHAKE_INIT whose timestamp is outside max_clock_skew_ms with REPLAY_DETECTED",
    requirements: ["PP-RPL-001"],
    level: "MUST",
    async run(ctx) {
      const skew = ctx.limits.max_clock_skew_ms ?? 300_000;
      await ctx.property(ctx.fc.record({ direction: ctx.fc.constantFrom(-1, 1), beyond: ctx.fc.integer({ min: 2_000, max: 24 * 3600_000 }) }), async ({ direction, beyond }) => {
        const probe = await ctx.probe();
        probe.sendHandshake(probe.buildInit({ timestamp: Date.now() + direction * (skew + beyond) }));
        await probe.expectError("REPLAY_DETECTED", { checkConnection: false });
      });
    },
  },
  {
    id: "init-timestamp-within-skew",
    title: "A responder accepts a HANDSHAKE_INIT whose timestamp is within max_clock_skew_ms",
    requirements: ["PP-RPL-001"],
    level: "MUST",
    async run(ctx) {
      const skew = ctx.limits.max_clock_skew_ms ?? 300_000;
      for (const offset of [-skew / 2, skew / 2]) {
        const probe = await ctx.probe();
        await probe.handshake({ timestamp: Math.round(Date.now() + offset) });
        probe.close();
      }
    },
  },
  {
    id: "record-replayed",
    title: "A receiver rejects a replayed record with REPLAY_DETECTED, discards it and keeps the session",
    requirements: ["PP-RPL-003", "PP-ERR-004"],
    level: "MUST",
    async run(ctx) {
      const probe = await ctx.session();
      const { request, taskId } = await probe.echo({ once: true });
      probe.sendText(JSON.stringify(request));
      await probe.expectError("REPLAY_DETECTED", { checkConnection: false });
      // The replay was discarded: the next seq is still accepted, and the task ran once.
      await probe.echo({ after: "replay" });
      const answers = probe.history.filter((i) => i.kind === "message" && i.envelope.type === "TASK_RESPONSE" && ProbePeer.payloadOf(i).task_id === taskId).length;
      ctx.check(answers === 1, "one TASK_RESPONSE for the replayed TASK_REQUEST", `${answers}`);
    },
  },
  {
    id: "record-seq-not-greater",
    title: "A receiver rejects a fresh record whose seq is not greater than the last accepted one with REPLAY_DETECTED",
    requirements: ["PP-RPL-003"],
    level: "MUST",
    async run(ctx) {
      await ctx.property(ctx.fc.nat(3), async (back) => {
        const probe = await ctx.session();
        for (let i = 0; i < 3; i++) await probe.echo({ i });
        const last = probe.txSeq - 1;
        probe.sendRecord("TASK_REQUEST", { task_id: `task-old-${back}`, action: "echo", params: {} }, { seq: last - back });
        await probe.expectError("REPLAY_DETECTED");
      });
    },
  },
  {
    id: "record-seq-gap",
    title: "A receiver treats a record whose seq skips a number as INVALID_STATE and closes with 4409",
    requirements: ["PP-RPL-004", "PP-ERR-003"],
    level: "MUST",
    async run(ctx) {
      await ctx.property(ctx.fc.integer({ min: 1, max: 1000 }), async (skip) => {
        const probe = await ctx.session();
        probe.sendRecord("TASK_REQUEST", { task_id: "task-gap", action: "echo", params: {} }, { seq: probe.txSeq + skip });
        await probe.expectError("INVALID_STATE");
      });
    },
  },
  {
    id: "init-nonce-fresh-per-connection",
    title: "A responder accepts distinct nonces from the same initiator identity",
    requirements: ["PP-RPL-002"],
    level: "MUST",
    async run(ctx) {
      for (let i = 0; i < 3; i++) {
        const probe = await ctx.probe({ identityIndex: 0 });
        await probe.handshake({ nonce: randomBytes(32) });
        probe.close();
      }
    },
  },
]);
