/**
 * Spec §6 (handshake) and §7.2 (handshake schedule): the six steps as a responder must run them,
 * the state table, and the aborts a responder owes a broken initiator.
 */
import { suite } from "../case.ts";
import { ed25519PublicKey, ed25519Sign, randomBytes, x25519PublicKey } from "../probe/crypto.ts";
import type { Envelope, ProbePeer } from "../probe/peer.ts";
import { sigInput } from "../probe/schedule.ts";
import { b64u, unb64u } from "../probe/wire.ts";
import { expectHandshakeRejected, expectInvalidState, flipBit } from "./support.ts";

const SESSION_ID = /^sess_[A-Za-z0-9_-]{22}$/;

export const handshakeCases = suite("handshake", "6. Handshake", [
  {
    id: "complete",
    title: "A responder completes the six-step handshake with a correct initiator",
    requirements: ["PP-TRN-003", "PP-KS-001", "PP-KS-002", "PP-KS-004", "PP-KS-006", "PP-KS-007", "PP-KS-011", "PP-ENV-009", "PP-CAP-002"],
    level: "MUST",
    async run(ctx) {
      // The probe verifies sig_R strictly over SigInput("responder signature", h3), fin_R, and
      // READY under the r2i keys with handshake_hash = TH: any deviation fails here.
      const probe = await ctx.session();
      const ack = probe.initAck as Envelope;
      ctx.check(typeof (ack.payload as Record<string, unknown>).limits === "object", "HANDSHAKE_INIT_ACK.payload.limits in a v1.2 session (PP-CAP-002)", "no limits member");
      ctx.check(probe.stage === "READY", "READY", probe.stage);
    },
  },
  {
    id: "session-id",
    title: "A server assigns a session_id of 128 random bits and repeats it in SESSION_ESTABLISHED",
    requirements: ["PP-HS-012"],
    level: "MUST",
    async run(ctx) {
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        const probe = await ctx.probe();
        await probe.handshake({ until: "ESTABLISHED" });
        const id = String(probe.initAck?.session_id);
        ctx.check(SESSION_ID.test(id), "a session_id of the form sess_ + 22 base64url characters (128 bits)", id);
        ctx.check((probe.established?.payload as Record<string, unknown>).session_id === id, "SESSION_ESTABLISHED.payload.session_id equal to HANDSHAKE_INIT_ACK.session_id", String((probe.established?.payload as Record<string, unknown>).session_id));
        ids.push(id);
        probe.close();
      }
      ctx.check(new Set(ids).size === ids.length, "a different session_id for every handshake", ids.join(", "));
    },
  },
  {
    id: "fresh-ephemeral-and-challenge",
    title: "A responder uses a fresh ephemeral key and a fresh 32-byte challenge in every HANDSHAKE_INIT_ACK",
    requirements: ["PP-HS-003", "PP-ENV-010"],
    level: "MUST",
    async run(ctx) {
      const seen = { ephemeral: new Set<string>(), challenge: new Set<string>(), nonce: new Set<string>() };
      const rounds = 4;
      for (let i = 0; i < rounds; i++) {
        const probe = await ctx.probe();
        await probe.handshake({ until: "INIT_ACK" });
        const ack = probe.initAck as Envelope;
        const payload = ack.payload as Record<string, unknown>;
        ctx.check(unb64u(payload.challenge)?.length === 32, "a 32-byte challenge", String(payload.challenge));
        seen.ephemeral.add(String(payload.ephemeral_key));
        seen.challenge.add(String(payload.challenge));
        seen.nonce.add(String(ack.nonce));
        probe.close();
      }
      ctx.check(seen.ephemeral.size === rounds, `${rounds} different ephemeral keys in ${rounds} handshakes`, `${seen.ephemeral.size} different`);
      ctx.check(seen.challenge.size === rounds, `${rounds} different challenges in ${rounds} handshakes`, `${seen.challenge.size} different`);
      ctx.check(seen.nonce.size === rounds, `${rounds} different envelope nonces in ${rounds} handshakes (PP-ENV-010)`, `${seen.nonce.size} different`);
    },
  },
  {
    id: "unexpected-first-message",
    title: "A responder answers any first message other than HANDSHAKE_INIT or SESSION_RESUME with INVALID_STATE and closes",
    requirements: ["PP-HS-001", "PP-ERR-003"],
    level: "MUST",
    async run(ctx) {
      // Well-formed messages of the wrong type, so that the state check (not the schema) decides.
      const builders: Record<string, (p: ProbePeer) => Envelope> = {
        CHALLENGE_RESPONSE: (p) => ({ message_id: p.newId("m"), type: "CHALLENGE_RESPONSE", version: "1.2", timestamp: Date.now(), session_id: `sess_${b64u(randomBytes(16)).slice(0, 22)}`, sender_id: p.identity.entityId, nonce: b64u(randomBytes(32)), payload: { signature: b64u(randomBytes(64)), finished: b64u(randomBytes(32)) } }),
        HANDSHAKE_INIT_ACK: (p) => ({ message_id: p.newId("m"), type: "HANDSHAKE_INIT_ACK", version: "1.2", timestamp: Date.now(), session_id: `sess_${b64u(randomBytes(16)).slice(0, 22)}`, sender_id: p.identity.entityId, nonce: b64u(randomBytes(32)), payload: { version_selected: "1.2", ephemeral_key: b64u(x25519PublicKey(randomBytes(32))), identity_key: b64u(p.identity.publicKey), challenge: b64u(randomBytes(32)), capabilities: [], limits: { ...ctx.limits } } }),
        SESSION_CONFIRM: (p) => ({ message_id: p.newId("m"), type: "SESSION_CONFIRM", version: "1.2", timestamp: Date.now(), seq: 0, session_id: `sess_${b64u(randomBytes(16)).slice(0, 22)}`, sender_id: p.identity.entityId, payload: b64u(randomBytes(48)) }),
        PEER_MESSAGE: (p) => ({ message_id: p.newId("m"), type: "PEER_MESSAGE", version: "1.2", timestamp: Date.now(), seq: 1, session_id: `sess_${b64u(randomBytes(16)).slice(0, 22)}`, sender_id: p.identity.entityId, recipient_id: ctx.target.serverId, payload: b64u(randomBytes(48)) }),
      };
      for (const [type, build] of Object.entries(builders)) {
        const probe = await ctx.probe();
        await expectInvalidState(probe, () => probe.sendJson(build(probe)), `${type} as the first message`);
        probe.close();
      }
    },
  },
  {
    id: "init-twice",
    title: "A responder that has answered HANDSHAKE_INIT answers a second HANDSHAKE_INIT with INVALID_STATE",
    requirements: ["PP-HS-001"],
    level: "MUST",
    async run(ctx) {
      const probe = await ctx.probe();
      await probe.handshake({ until: "INIT_ACK" });
      await expectInvalidState(probe, () => probe.sendJson(probe.buildInit()), "a second HANDSHAKE_INIT in state SENT_INIT_ACK");
    },
  },
  {
    id: "reflected-init-ack",
    title: "A responder answers its own HANDSHAKE_INIT_ACK sent back to it with INVALID_STATE",
    requirements: ["PP-HS-014", "PP-HS-001"],
    level: "MUST",
    async run(ctx) {
      const probe = await ctx.probe();
      await probe.handshake({ until: "INIT_ACK" });
      await expectInvalidState(probe, () => probe.sendJson(probe.initAck), "a reflected HANDSHAKE_INIT_ACK (roles reversed)");
    },
  },
  {
    id: "reflected-established",
    title: "A responder answers its own SESSION_ESTABLISHED sent back to it with INVALID_STATE",
    requirements: ["PP-HS-014", "PP-HS-001"],
    level: "MUST",
    async run(ctx) {
      const probe = await ctx.probe();
      await probe.handshake({ until: "ESTABLISHED" });
      await expectInvalidState(probe, () => probe.sendJson(probe.established), "a reflected SESSION_ESTABLISHED in state SENT_ESTABLISHED");
    },
  },
  {
    id: "data-before-confirm",
    title: "A responder does not process application data before SESSION_CONFIRM and answers it with INVALID_STATE",
    requirements: ["PP-HS-001", "PP-HS-009"],
    level: "MUST",
    async run(ctx) {
      const probe = await ctx.probe();
      await probe.handshake({ until: "ESTABLISHED" });
      await expectInvalidState(probe, () => probe.sendRecord("TASK_REQUEST", { task_id: "task-early", action: "echo", params: { early: true } }), "a TASK_REQUEST record in place of SESSION_CONFIRM");
      ctx.check(!probe.history.some((i) => i.kind === "message" && i.envelope.type === "TASK_RESPONSE"), "no TASK_RESPONSE before SESSION_CONFIRM (PP-HS-009)", "a TASK_RESPONSE");
    },
  },
  {
    id: "wrong-finished",
    title: "A responder aborts with AUTHENTICATION_FAILED when the initiator's Finished MAC differs in any bit",
    requirements: ["PP-HS-008", "PP-ERR-003"],
    level: "MUST",
    async run(ctx) {
      await ctx.property(ctx.fc.nat(255), async (bit) => {
        const probe = await ctx.probe();
        await expectHandshakeRejected(
          probe,
          { challengeResponse: (env, secrets) => ({ ...env, payload: { ...(env.payload as object), finished: b64u(flipBit(unb64u((env.payload as Record<string, unknown>).finished) ?? secrets.fkI, bit)) } }) },
          "AUTHENTICATION_FAILED",
          `fin_I with bit ${bit} flipped`,
        );
      });
    },
  },
  {
    id: "wrong-signature",
    title: "A responder aborts with AUTHENTICATION_FAILED when the initiator's signature differs in any bit",
    requirements: ["PP-HS-007", "PP-ERR-003"],
    level: "MUST",
    async run(ctx) {
      await ctx.property(ctx.fc.nat(511), async (bit) => {
        const probe = await ctx.probe();
        await expectHandshakeRejected(
          probe,
          { challengeResponse: (env) => ({ ...env, payload: { ...(env.payload as object), signature: b64u(flipBit(unb64u((env.payload as Record<string, unknown>).signature) as Uint8Array, bit)) } }) },
          "AUTHENTICATION_FAILED",
          `sig_I with bit ${bit} flipped`,
        );
      });
    },
  },
  {
    id: "signature-label",
    title: "A responder rejects an initiator signature made with another role's label or without the challenge",
    requirements: ["PP-KS-004", "PP-HS-007"],
    level: "MUST",
    async run(ctx) {
      // SigInput(label, h, extra) = 64 spaces || "pp12 " || label || 0x00 || h || extra: re-sign with the wrong label or extra.
      const variants: { why: string; label: string; withChallenge: boolean }[] = [
        { why: 'signed with the label "responder signature"', label: "responder signature", withChallenge: true },
        { why: 'signed with the label "record signature"', label: "record signature", withChallenge: true },
        { why: "signed without the challenge", label: "initiator signature", withChallenge: false },
      ];
      for (const v of variants) {
        const probe = await ctx.probe();
        const sign = () => {
          const secrets = probe.handshakeSecrets();
          return ed25519Sign(probe.identity.seed, sigInput(v.label, secrets.h2, v.withChallenge ? secrets.challenge : new Uint8Array(0)));
        };
        await expectHandshakeRejected(probe, { challengeResponse: (env) => ({ ...env, payload: { ...(env.payload as object), signature: b64u(sign()) } }) }, "AUTHENTICATION_FAILED", v.why);
        probe.close();
      }
    },
  },
  {
    id: "signature-by-other-key",
    title: "A responder rejects a valid signature by a key other than the offered identity key",
    requirements: ["PP-HS-007"],
    level: "MUST",
    async run(ctx) {
      const probe = await ctx.probe();
      const otherSeed = randomBytes(32);
      const other = ed25519PublicKey(otherSeed);
      ctx.check(b64u(other) !== b64u(probe.identity.publicKey), "two different keys", "the same key");
      await expectHandshakeRejected(probe, { sign: (m) => ed25519Sign(otherSeed, m) }, "AUTHENTICATION_FAILED", "sig_I made with a key that is not identity_key");
    },
  },
  {
    id: "transcript-binding",
    title: "A responder's transcript covers HANDSHAKE_INIT as received: a Finished MAC over another INIT is rejected",
    requirements: ["PP-KS-001", "PP-HS-008"],
    level: "MUST",
    async run(ctx) {
      // The probe sends one INIT but hashes a different one (capabilities changed in transit).
      const probe = await ctx.probe();
      const sent = probe.buildInit({ capabilities: ["websocket", "resume"] });
      const hashed = { ...sent, payload: { ...(sent.payload as object), capabilities: ["websocket"] } };
      probe.sendHandshake(hashed, JSON.stringify(sent));
      const first = await probe.expectMessage("HANDSHAKE_INIT_ACK");
      probe.acceptInitAck(first.envelope);
      probe.sendHandshake(probe.buildChallengeResponse());
      const second = await probe.expectMessage(["ERROR", "SESSION_ESTABLISHED"], { describe: "ERROR AUTHENTICATION_FAILED: the transcripts differ" });
      ctx.check(second.envelope.type === "ERROR", "ERROR AUTHENTICATION_FAILED: the transcripts differ", "SESSION_ESTABLISHED: the target accepted a Finished MAC over a transcript it did not see");
      await probe.checkError(second, "AUTHENTICATION_FAILED");
    },
  },
  {
    id: "wrong-confirm-hash",
    title: "A responder does not send READY when SESSION_CONFIRM carries a wrong handshake_hash",
    requirements: ["PP-KS-001", "PP-HS-009"],
    level: "MUST",
    async run(ctx) {
      const probe = await ctx.probe();
      await probe.handshake({ until: "ESTABLISHED" });
      probe.sendConfirm({ handshakeHash: randomBytes(32) });
      const item = await probe.expectMessage(["ERROR", "READY"], { describe: "ERROR AUTHENTICATION_FAILED: SESSION_CONFIRM does not confirm TH" });
      ctx.check(item.envelope.type === "ERROR", "ERROR AUTHENTICATION_FAILED: SESSION_CONFIRM does not confirm TH", "READY: the target accepted a wrong handshake_hash");
      ctx.note("spec §6.2 names no code for a handshake_hash mismatch; AUTHENTICATION_FAILED (key confirmation failed) is expected");
      await probe.checkError(item, ["AUTHENTICATION_FAILED"]);
    },
  },
  {
    id: "confirm-does-not-decrypt",
    title: "A responder closes with AUTHENTICATION_FAILED when SESSION_CONFIRM fails to decrypt",
    requirements: ["PP-KS-008", "PP-ERR-003"],
    level: "MUST",
    async run(ctx) {
      const probe = await ctx.probe();
      await probe.handshake({ until: "ESTABLISHED" });
      probe.sendConfirm({ ciphertext: (sealed) => flipBit(sealed, 3) });
      await probe.expectError("AUTHENTICATION_FAILED");
    },
  },
  {
    id: "timeout",
    title: "A responder closes a connection with HANDSHAKE_TIMEOUT when the handshake does not finish in handshake_timeout_ms",
    requirements: ["PP-HS-011", "PP-ERR-003"],
    level: "MUST",
    async run(ctx) {
      const timeout = ctx.limits.handshake_timeout_ms ?? 5000;
      if (timeout > 10_000 && !ctx.slow) ctx.skip(`handshake_timeout_ms is ${timeout}: run with --slow`);
      const slack = 1500;
      // Two connections at once: one silent, one stalled after HANDSHAKE_INIT_ACK.
      const silent = await ctx.probe({ stepTimeoutMs: timeout + slack });
      const stalled = await ctx.probe({ stepTimeoutMs: timeout + slack });
      const opened = Date.now();
      await stalled.handshake({ until: "INIT_ACK" });
      await Promise.all(
        [silent, stalled].map(async (probe) => {
          await probe.expectError("HANDSHAKE_TIMEOUT", { timeoutMs: timeout + slack });
        }),
      );
      ctx.note(`closed after about ${Date.now() - opened} ms (handshake_timeout_ms ${timeout})`);
    },
  },
  {
    id: "reflected-ephemeral",
    title: "A responder never completes a handshake whose initiator ephemeral equals its own ephemeral",
    requirements: ["PP-HS-005", "PP-HS-003"],
    level: "MUST",
    async run(ctx) {
      // A responder draws its ephemeral after HANDSHAKE_INIT, so the probe replays the ephemeral the
      // target sent on an earlier connection: a fresh ephemeral differs (PP-HS-003); a reused one
      // equals e_I and must be refused with AUTHENTICATION_FAILED (PP-HS-005).
      const first = await ctx.probe();
      await first.handshake({ until: "INIT_ACK" });
      const reflected = unb64u((first.initAck?.payload as Record<string, unknown>).ephemeral_key) as Uint8Array;
      first.close();
      const probe = await ctx.probe();
      probe.sendHandshake(probe.buildInit({ ephemeral: { publicKey: reflected } }));
      const item = await probe.expectMessage(["HANDSHAKE_INIT_ACK", "ERROR"], { describe: "HANDSHAKE_INIT_ACK with a fresh ephemeral, or ERROR AUTHENTICATION_FAILED" });
      if (item.envelope.type === "ERROR") {
        await probe.checkError(item, "AUTHENTICATION_FAILED");
        return;
      }
      const ephemeral = String((item.envelope.payload as Record<string, unknown>).ephemeral_key);
      ctx.check(ephemeral !== b64u(reflected), "a fresh responder ephemeral, or AUTHENTICATION_FAILED for e_I = e_R (PP-HS-005)", "HANDSHAKE_INIT_ACK whose ephemeral_key equals the initiator's");
    },
  },
]);
