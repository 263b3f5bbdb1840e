/**
 * Spec §7.4 (key and signature validation) with PP-HS-004 to PP-HS-007: the inputs that permissive
 * X25519 and Ed25519 implementations accept and a conforming responder must refuse.
 */
import { suite } from "../case.ts";
import { CaseFailure } from "../failure.ts";
import { ed25519Sign } from "../probe/crypto.ts";
import { BAD_ED25519_KEYS, BAD_KEY_UNDER_TOKENS_NOTE, BAD_KEY_WITHOUT_TOKEN_ENDPOINT, badKeyTokenGate, expectHandshakeRejected, fromHex, IDENTITY_FORGERY, IDENTITY_POINT, SMALL_ORDER_X25519, withScalarPlusL } from "./support.ts";

const ZERO_DH = new Uint8Array(32);

export const keyValidationCases = suite("keys", "7.4 Key and signature validation", [
  {
    id: "zero-shared-secret",
    title: "A responder aborts with AUTHENTICATION_FAILED when the initiator's ephemeral gives an all-zero X25519 shared secret",
    requirements: ["PP-HS-004", "PP-KS-017", "PP-ERR-003"],
    level: "MUST",
    async run(ctx) {
      // The probe knows the shared secret is zero, so if the target goes on it can finish the
      // handshake with keys derived from dh = 0: exactly the attack the check prevents.
      for (const point of SMALL_ORDER_X25519) {
        const probe = await ctx.probe();
        await expectHandshakeRejected(probe, { ephemeral: { publicKey: fromHex(point.key), dh: ZERO_DH } }, "AUTHENTICATION_FAILED", `ephemeral_key ${point.name} gives an all-zero shared secret`);
        probe.close();
      }
    },
  },
  {
    id: "identity-point-forgery",
    title: "A responder rejects the identity-point forgery: identity key 01 00..00 with signature R = identity, S = 0",
    requirements: ["PP-HS-006", "PP-HS-007", "PP-KS-014", "PP-KS-016"],
    level: "MUST",
    async run(ctx) {
      // node:crypto and ZIP-215 verifiers accept this signature for every message (spec §16).
      const probe = await ctx.probe();
      // A target requiring tokens must refuse the key at its token gate first (see badKeyTokenGate).
      const gate = await badKeyTokenGate(ctx, probe, IDENTITY_POINT, "the identity point 01 00..00");
      if (gate === "no token endpoint") ctx.skip(BAD_KEY_WITHOUT_TOKEN_ENDPOINT);
      await expectHandshakeRejected(probe, { identityKey: IDENTITY_POINT, signature: IDENTITY_FORGERY }, "AUTHENTICATION_FAILED", "identity_key is the identity point and sig_I is R = identity, S = 0");
      if (gate === "refused") ctx.note(BAD_KEY_UNDER_TOKENS_NOTE);
    },
  },
  {
    id: "small-order-identity-keys",
    title: "A responder rejects identity keys of small order or with a non-canonical encoding",
    requirements: ["PP-HS-006", "PP-KS-013", "PP-KS-014"],
    level: "MUST",
    async run(ctx) {
      // The forged signature R = identity, S = 0 verifies under every small-order key for a
      // cofactored verifier, so a target that skips the key check can be fooled by it.
      let gate: Awaited<ReturnType<typeof badKeyTokenGate>> = "no tokens";
      for (const bad of BAD_ED25519_KEYS) {
        const probe = await ctx.probe();
        // A target requiring tokens must refuse the key at its token gate first (see badKeyTokenGate).
        gate = await badKeyTokenGate(ctx, probe, fromHex(bad.key), `identity key ${bad.key.slice(0, 8)}…, ${bad.name}`);
        if (gate === "no token endpoint") ctx.skip(BAD_KEY_WITHOUT_TOKEN_ENDPOINT);
        await expectHandshakeRejected(probe, { identityKey: fromHex(bad.key), signature: IDENTITY_FORGERY }, "AUTHENTICATION_FAILED", `identity_key ${bad.key.slice(0, 8)}… is ${bad.name}`);
        probe.close();
      }
      if (gate === "refused") ctx.note(BAD_KEY_UNDER_TOKENS_NOTE);
      // The positive neighbour: a canonical identity key of large order, signed for honestly, must
      // complete the handshake on the same target; a target that refuses every key is not validating.
      const valid = await ctx.probe();
      try {
        await valid.handshake();
      } catch (error) {
        if (error instanceof CaseFailure) throw new CaseFailure([`${error.expected.join(" or ")}: a canonical identity key of large order completes the handshake (PP-KS-013, PP-KS-014 refuse only bad keys)`], error.actual);
        throw error;
      }
    },
  },
  {
    id: "non-canonical-signature-s",
    title: "A responder rejects a signature whose scalar S is not below the group order (valid signature with S + L)",
    requirements: ["PP-KS-015", "PP-HS-007"],
    level: "MUST",
    async run(ctx) {
      const probe = await ctx.probe();
      await expectHandshakeRejected(probe, { sign: (m) => withScalarPlusL(ed25519Sign(probe.identity.seed, m)) }, "AUTHENTICATION_FAILED", "sig_I is a valid signature with L added to S");
    },
  },
  {
    id: "small-order-signature-r",
    title: "A responder rejects a signature whose R is of small order",
    requirements: ["PP-KS-016", "PP-HS-007"],
    level: "MUST",
    async run(ctx) {
      // R = identity with the real S of a valid signature: never valid under a real key, and
      // the R check must reject it before any equation is tried.
      const probe = await ctx.probe();
      await expectHandshakeRejected(
        probe,
        {
          sign: (m) => {
            const sig = ed25519Sign(probe.identity.seed, m);
            sig.set(IDENTITY_POINT, 0);
            return sig;
          },
        },
        "AUTHENTICATION_FAILED",
        "sig_I has R = identity",
      );
    },
  },
]);
