/**
 * Spec §4.5 (tokens) and §4.6 (identity binding), with PP-RPL-007 and PP-EVT-006. Token issuance
 * is tested on every target; the refusal of token-less connections only where discovery says
 * tokens are required (`auth.required`).
 *
 * The steps of §4.5 are the probe's own (probe/tokens.ts), driven here through `ctx.http` so that
 * the trace shows them. When the target requires tokens every probe presents one of its own
 * (probe/token-source.ts); the cases below that test what a server does with a missing, foreign or
 * misplaced token open theirs with `token: false` and present exactly the token under test.
 */
import { suite, type CaseContext } from "../case.ts";
import { CaseFailure } from "../failure.ts";
import { ed25519Sign, randomBytes } from "../probe/crypto.ts";
import { identityFromSeed, ProbePeer } from "../probe/peer.ts";
import { sigInput } from "../probe/schedule.ts";
import { TokenRefused } from "../probe/token-source.ts";
import { authRequired as discoveryRequiresTokens, decodeJwt, identityHolder, obtainToken, requestChallenge, requestToken, signChallenge, tokenEndpoints, type VerifyRequest } from "../probe/tokens.ts";
import { b64u, unb64u } from "../probe/wire.ts";
import { expectHandshakeRejected, expectNoTokenForForgedKey, expectTokenRefused, IDENTITY_POINT, tracedTokenHttp as traced, type IssuedToken } from "./support.ts";

const authRequired = (ctx: CaseContext) => discoveryRequiresTokens(ctx.target.discovery);

async function challenge(ctx: CaseContext, entityId: string, publicKey: Uint8Array): Promise<{ challenge: string; expires_at: number }> {
  const response = await requestChallenge(traced(ctx), tokenEndpoints(ctx.target.discovery), entityId, publicKey);
  ctx.check(response.status === 200, "HTTP 200 with a token challenge", `HTTP ${response.status} ${response.text.slice(0, 200)}`);
  return response.json as { challenge: string; expires_at: number };
}

async function verify(ctx: CaseContext, body: VerifyRequest): Promise<IssuedToken> {
  const response = await requestToken(traced(ctx), tokenEndpoints(ctx.target.discovery), body);
  return { status: response.status, token: response.token, body: response.json };
}

/** The whole §4.5 flow for probe identity `seed`: the answer of POST /auth/verify, which must carry a token. */
async function issueToken(ctx: CaseContext, probeSeed: Uint8Array, entityId: string): Promise<IssuedToken & { token: string }> {
  const identity = identityFromSeed(probeSeed, entityId);
  const { challenge: c } = await challenge(ctx, entityId, identity.publicKey);
  const issued = await verify(ctx, { entity_id: entityId, public_key: b64u(identity.publicKey), challenge: c, signature: b64u(signChallenge(probeSeed, c)) });
  ctx.check(issued.status === 200 && issued.token !== undefined, "HTTP 200 with a token", `HTTP ${issued.status} ${JSON.stringify(issued.body).slice(0, 200)}`);
  return issued as IssuedToken & { token: string };
}

/** A token for probe identity `seed` (the whole §4.5 flow, at the target). */
async function tokenFor(ctx: CaseContext, probeSeed: Uint8Array, entityId: string): Promise<string> {
  const outcome = await obtainToken(traced(ctx), tokenEndpoints(ctx.target.discovery), identityHolder(identityFromSeed(probeSeed, entityId)));
  if (!outcome.ok) ctx.fail(outcome.step === "challenge" ? "HTTP 200 with a token challenge" : "HTTP 200 with a token", `HTTP ${outcome.answer.status} ${outcome.answer.text.slice(0, 200)}`);
  return outcome.token;
}

export const authCases = suite("auth", "4.5 Tokens", [
  {
    id: "challenge",
    title: "A server issues a token challenge of at least 32 random bytes that expires within 60 seconds, its expires_at in integer milliseconds",
    requirements: ["PP-AUTH-001", "PP-AUTH-012"],
    level: "MUST",
    async run(ctx) {
      const probe = identityFromSeed(randomBytes(32));
      const before = Date.now();
      const first = await challenge(ctx, probe.entityId, probe.publicKey);
      const second = await challenge(ctx, probe.entityId, probe.publicKey);
      ctx.check((unb64u(first.challenge)?.length ?? 0) >= 32, "a challenge of at least 32 bytes, base64url", String(first.challenge));
      ctx.check(first.challenge !== second.challenge, "a fresh challenge per request", "the same challenge twice");
      ctx.check(Number.isSafeInteger(first.expires_at) && first.expires_at > before && first.expires_at <= Date.now() + 60_000 + 1000, "expires_at in integer milliseconds since the epoch (PP-AUTH-012), within 60 s", `expires_at ${String(first.expires_at)} at ${before}`);
    },
  },
  {
    id: "token",
    title: "A server issues an EdDSA JWT of at most 3600 s whose sub is the entity and cnf.jwk.x its key, and says when it expires in integer milliseconds",
    requirements: ["PP-AUTH-003", "PP-AUTH-002", "PP-AUTH-012"],
    level: "MUST",
    async run(ctx) {
      const seed = randomBytes(32);
      const identity = identityFromSeed(seed);
      const before = Date.now();
      const issued = await issueToken(ctx, seed, identity.entityId);
      const token = issued.token;
      const { header, claims } = decodeJwt(token);
      ctx.check(header.alg === "EdDSA", 'JWT header alg "EdDSA"', `alg ${JSON.stringify(header.alg)}`);
      ctx.check(claims.sub === identity.entityId, `sub ${identity.entityId}`, `sub ${JSON.stringify(claims.sub)}`);
      const x = ((claims.cnf as { jwk?: { x?: unknown } } | undefined)?.jwk ?? {}).x;
      ctx.check(x === b64u(identity.publicKey), "cnf.jwk.x equal to the identity key", `cnf.jwk.x ${JSON.stringify(x)}`);
      const exp = claims.exp as number;
      const iat = typeof claims.iat === "number" ? claims.iat : Math.floor(Date.now() / 1000);
      ctx.check(typeof exp === "number" && exp - iat <= 3600 && exp > Date.now() / 1000, "exp at most 3600 s after iat, in the future", `iat ${String(claims.iat)}, exp ${String(claims.exp)}`);
      // PP-AUTH-012: the token's expiry in integer milliseconds; exp counts seconds, so the two agree to the second.
      const expiresAt = (issued.body as { expires_at?: unknown } | undefined)?.expires_at;
      ctx.check(
        typeof expiresAt === "number" && Number.isSafeInteger(expiresAt) && Math.abs(expiresAt - exp * 1000) < 1000 && expiresAt > before && expiresAt <= Date.now() + 3_600_000 + 1000,
        "expires_at in integer milliseconds since the epoch: the JWT exp × 1000 (to the second), in the future, at most 3600 s ahead (PP-AUTH-012)",
        `expires_at ${JSON.stringify(expiresAt)}, exp ${String(claims.exp)}, at ${before}`,
      );
    },
  },
  {
    id: "challenge-single-use",
    title: "A server refuses a token challenge that was already used",
    requirements: ["PP-RPL-007", "PP-AUTH-001"],
    level: "MUST",
    async run(ctx) {
      const seed = randomBytes(32);
      const identity = identityFromSeed(seed);
      const { challenge: c } = await challenge(ctx, identity.entityId, identity.publicKey);
      const body = { entity_id: identity.entityId, public_key: b64u(identity.publicKey), challenge: c, signature: b64u(signChallenge(seed, c)) };
      const first = await verify(ctx, body);
      ctx.check(first.status === 200, "HTTP 200 for the first use", `HTTP ${first.status}`);
      expectTokenRefused(ctx, await verify(ctx, body), ["AUTHENTICATION_FAILED", "REPLAY_DETECTED"], "the challenge was already used");
    },
  },
  {
    id: "challenge-used-by-failed-verify",
    title: "A server counts a token challenge as used by a POST /auth/verify that fails: the right signature sent after a wrong one is refused",
    requirements: ["PP-AUTH-013", "PP-RPL-007"],
    level: "MUST",
    async run(ctx) {
      const seed = randomBytes(32);
      const identity = identityFromSeed(seed);
      const request = (c: string, signature: Uint8Array) => ({ entity_id: identity.entityId, public_key: b64u(identity.publicKey), challenge: c, signature: b64u(signature) });
      const signed = (c: string) => ed25519Sign(seed, sigInput("token challenge", unb64u(c) ?? new Uint8Array(0)));
      const { challenge: c } = await challenge(ctx, identity.entityId, identity.publicKey);
      const wrong = ed25519Sign(randomBytes(32), sigInput("token challenge", unb64u(c) ?? new Uint8Array(0)));
      expectTokenRefused(ctx, await verify(ctx, request(c, wrong)), ["AUTHENTICATION_FAILED"], "a signature by another key");
      expectTokenRefused(ctx, await verify(ctx, request(c, signed(c))), ["AUTHENTICATION_FAILED", "REPLAY_DETECTED"], "the right signature of a challenge already used by a failed POST /auth/verify (PP-AUTH-013)");
      // The neighbour: the right signature of a fresh challenge is accepted.
      const { challenge: fresh } = await challenge(ctx, identity.entityId, identity.publicKey);
      const issued = await verify(ctx, request(fresh, signed(fresh)));
      ctx.check(issued.status === 200 && issued.token !== undefined, "HTTP 200 with a token for the right signature of a fresh challenge", `HTTP ${issued.status} ${JSON.stringify(issued.body).slice(0, 200)}`);
    },
  },
  {
    id: "strict-challenge-signature",
    title: "A server verifies the challenge signature strictly: no identity-point forgery, no wrong label, no other key",
    requirements: ["PP-AUTH-002"],
    level: "MUST",
    async run(ctx) {
      // The small-order key may already be refused when the challenge is requested.
      const gate = await expectNoTokenForForgedKey(ctx, `probe-forger-${b64u(randomBytes(6))}`, IDENTITY_POINT, "the small-order key 01 00..00");
      ctx.check(gate === "refused", "a token challenge endpoint that refuses the small-order key 01 00..00, or a token endpoint that refuses its forged signature", "HTTP 404: no token challenge endpoint");
      const seed = randomBytes(32);
      const identity = identityFromSeed(seed);
      const c2 = await challenge(ctx, identity.entityId, identity.publicKey);
      const wrongLabel = ed25519Sign(seed, sigInput("initiator signature", unb64u(c2.challenge) ?? new Uint8Array(0)));
      expectTokenRefused(ctx, await verify(ctx, { entity_id: identity.entityId, public_key: b64u(identity.publicKey), challenge: c2.challenge, signature: b64u(wrongLabel) }), ["AUTHENTICATION_FAILED"], 'a signature with the label "initiator signature"');
      const c3 = await challenge(ctx, identity.entityId, identity.publicKey);
      const otherKey = signChallenge(randomBytes(32), c3.challenge);
      expectTokenRefused(ctx, await verify(ctx, { entity_id: identity.entityId, public_key: b64u(identity.publicKey), challenge: c3.challenge, signature: b64u(otherKey) }), ["AUTHENTICATION_FAILED"], "a signature by another key");
    },
  },
  {
    id: "bearer-header-and-query",
    title: "A server accepts a token in the Authorization: Bearer header and in the token query parameter",
    requirements: ["PP-AUTH-004", "PP-AUTH-005"],
    level: "MUST",
    async run(ctx) {
      for (const where of ["header", "query"] as const) {
        const index = where === "header" ? 0 : 1;
        const identity = ctx.identity(index);
        const token = await tokenFor(ctx, identity.seed, identity.entityId);
        // token: false: the probe adds no token of its own, so the one under test is the only one sent.
        const withToken = await ctx.probe({ identityIndex: index, token: false, ...(where === "header" ? { headers: { authorization: `Bearer ${token}` } } : { query: { token } }) });
        await withToken.handshake();
        withToken.close();
      }
    },
  },
  {
    id: "token-must-match",
    title: "A server fails a handshake whose sender_id or identity key differs from the presented token's",
    requirements: ["PP-AUTH-007"],
    level: "MUST",
    async run(ctx) {
      // Each negative input breaks only the token check: the token's entity id and key are bound to
      // nothing yet (no handshake has completed for them; PP-AUTH-010), and the other entity id and
      // key are fresh, so the identity binding (PP-AUTH-011) has no reason to refuse either.
      // Every probe presents the owner's token and no token of its own (token: false).
      const owner = ctx.identity(0);
      const token = await tokenFor(ctx, owner.seed, owner.entityId);
      const bearer = { authorization: `Bearer ${token}` };
      // Another key (fresh, never used) under the token's entity id.
      const otherKey = await ctx.probe({ identityIndex: 1, entityId: owner.entityId, headers: bearer, token: false });
      await expectHandshakeRejected(otherKey, {}, "AUTHENTICATION_FAILED", "an identity key that is not the token's cnf.jwk.x");
      // The token's key under a fresh entity id.
      const otherId = await ctx.probe({ identityIndex: 0, entityId: `${owner.entityId}-x`, headers: bearer, token: false });
      await expectHandshakeRejected(otherId, {}, "AUTHENTICATION_FAILED", "a sender_id that is not the token's sub");
      // The positive neighbour, last so that its binding cannot stand in for the token check above:
      // the token's own sub and key complete the handshake with the same token.
      const match = await ctx.probe({ identityIndex: 0, headers: bearer, token: false });
      ctx.check(match.identity.entityId === owner.entityId, `the token's sub ${owner.entityId} as sender_id`, match.identity.entityId);
      try {
        await match.handshake();
      } catch (error) {
        if (error instanceof CaseFailure) throw new CaseFailure([`${error.expected.join(" or ")}: the token's own sub and key complete the handshake (PP-AUTH-007 refuses only a mismatch)`], error.actual);
        throw error;
      }
    },
  },
  {
    id: "identity-binding",
    title: "A server binds an entity id to the first key that completes a handshake and refuses another key for it",
    requirements: ["PP-AUTH-010", "PP-AUTH-011"],
    level: "MUST",
    async run(ctx) {
      const first = await ctx.session({ identityIndex: 0 });
      first.close();
      const again = await ctx.session({ identityIndex: 0 });
      again.close();
      // When tokens are required the impostor presents a token of its own entity id and key, so
      // that PP-AUTH-007 has nothing to refuse and only the binding (PP-AUTH-011) can. A target may
      // already refuse to issue that token: the binding then holds at the token endpoint.
      let impostor: ProbePeer;
      try {
        impostor = await ctx.probe({ identityIndex: 1, entityId: first.identity.entityId });
      } catch (error) {
        if (error instanceof TokenRefused && error.code === "AUTHENTICATION_FAILED") {
          ctx.note(`the target would not issue a token for entity ${first.identity.entityId} with another identity key: the binding holds at the token endpoint`);
          return;
        }
        throw error;
      }
      await expectHandshakeRejected(impostor, {}, "AUTHENTICATION_FAILED", `entity ${first.identity.entityId} is bound to another identity key`);
    },
  },
  {
    id: "origin-allowlist",
    title: "A server refuses an upgrade whose Origin is not on its allowlist with HTTP 401, and accepts one without Origin",
    requirements: ["PP-AUTH-009"],
    level: "MUST",
    async run(ctx) {
      const forbidden = ctx.target.forbiddenOrigin ?? ctx.skip("no --forbidden-origin given: a target's Origin allowlist is not advertised");
      for (const endpoint of ["peers", "events"] as const) {
        if (endpoint === "events" && !ctx.target.capabilities.includes("events")) continue;
        const expected = `HTTP 401 (AUTHENTICATION_FAILED) for an upgrade to /ws/v1/${endpoint} with Origin ${forbidden}`;
        const attempt = await ctx.tryProbe({ endpoint, headers: { origin: forbidden } });
        if (attempt instanceof ProbePeer) {
          attempt.close();
          ctx.fail(expected, "the upgrade succeeded");
        } else ctx.check(attempt.refusedStatus === 401, expected, attempt.message);
      }
      // Each attempt presents a valid token when tokens are required, so that only the Origin can
      // be the reason of a refusal. Non-browser clients send no Origin; the allowlist does not apply to them.
      const plain = await ctx.session();
      plain.close();
    },
  },
  {
    id: "required-on-session-routes",
    title: "A server that requires tokens refuses POST /peers/message and GET /peers/poll of a session without a token of the session's peer with HTTP 401",
    requirements: ["PP-AUTH-006", "PP-AUTH-007", "PP-TRN-019"],
    level: "MUST",
    requires: ["http"],
    async run(ctx) {
      if (!authRequired(ctx)) ctx.skip("discovery auth.required is false");
      // token: false: the case sets each request's token itself (own, none, another entity's).
      const { probe, http } = ctx.httpProbe({ identityIndex: 0, token: false });
      const own = { authorization: `Bearer ${await tokenFor(ctx, probe.identity.seed, probe.identity.entityId)}` };
      Object.assign(http.headers, own);
      await probe.handshake();
      const otherSeed = randomBytes(32);
      const other = { authorization: `Bearer ${await tokenFor(ctx, otherSeed, identityFromSeed(otherSeed).entityId)}` };
      // One record and one poll, sent as they are each time: only the token changes. A request
      // refused before the record opens does not use up its seq (PP-RPL-008), so the neighbour
      // below can send the very same record.
      const { envelope, text } = probe.sealRecord("PING", { ping_id: "token-check" });
      const poll = `/peers/poll?session_id=${encodeURIComponent(probe.sessionId ?? "")}&after=-1`;
      const refused = (answer: { status: number; json: unknown; text: string }, what: string) => {
        const body = answer.json as { type?: unknown; payload?: { code?: unknown } } | undefined;
        ctx.check(answer.status === 401 && body?.type === "ERROR" && body.payload?.code === "AUTHENTICATION_FAILED", `HTTP 401 AUTHENTICATION_FAILED for ${what} (PP-AUTH-006)`, `HTTP ${answer.status} ${answer.text.slice(0, 200)}`);
      };
      for (const [headers, which] of [
        [{}, "without a token"],
        [other, "with a valid token of another entity"],
      ] as const) {
        refused(await ctx.http("POST", "/peers/message", { body: text, headers, token: false }), `POST /peers/message of a session ${which}`);
        refused(await ctx.http("GET", poll, { headers, token: false }), `GET /peers/poll of a session ${which}`);
      }
      // The neighbour: the same record and poll with the token of the session's peer.
      const posted = await ctx.http("POST", "/peers/message", { body: text, headers: own, token: false });
      ctx.check(posted.status === 200 && (posted.json as { ack?: unknown } | undefined)?.ack === envelope.seq, `HTTP 200 {"ack": ${String(envelope.seq)}} with the token of the session's peer`, `HTTP ${posted.status} ${posted.text.slice(0, 200)}`);
      const polled = await ctx.http("GET", poll, { headers: own, token: false });
      ctx.check(polled.status === 200, "HTTP 200 for GET /peers/poll with the token of the session's peer", `HTTP ${polled.status} ${polled.text.slice(0, 200)}`);
    },
  },
  {
    id: "required",
    title: "A server that requires tokens refuses a peer or events upgrade without a valid token with HTTP 401",
    requirements: ["PP-AUTH-006", "PP-EVT-006"],
    level: "MUST",
    async run(ctx) {
      if (!authRequired(ctx)) ctx.skip("discovery auth.required is false");
      for (const endpoint of ["peers", "events"] as const) {
        const headerSets: Record<string, string>[] = [{}, { authorization: "Bearer not.a.token" }];
        for (const headers of headerSets) {
          const expected = `HTTP 401 (AUTHENTICATION_FAILED) for an upgrade to /ws/v1/${endpoint} ${Object.keys(headers).length ? "with an invalid token" : "without a token"}`;
          const attempt = await ctx.tryProbe({ endpoint, headers, token: false });
          if (attempt instanceof ProbePeer) {
            attempt.close();
            ctx.fail(expected, "the upgrade succeeded");
          } else ctx.check(attempt.refusedStatus === 401, expected, attempt.message);
        }
      }
    },
  },
]);
