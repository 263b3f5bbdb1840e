/**
 * The token flow of spec §4.5, as a client: ask for a challenge with an entity id and its Ed25519
 * identity key, sign SigInput("token challenge", challenge bytes, "") with that key, and trade the
 * signature for a token. Written from the spec on @noble (crypto.ts), never from the reference.
 *
 * Two users share it: the probe's own tokens (token-source.ts), which every probe presents when the
 * target requires them (PP-AUTH-006), and the auth cases (cases/auth.ts), which test each step and
 * so pass their traced `ctx.http` and their own signatures.
 */
import { ed25519Sign, type Bytes } from "./crypto.ts";
import { sigInput } from "./schedule.ts";
import { b64u, unb64u } from "./wire.ts";

/** One HTTP request of the flow; the answer body is parsed when it is JSON. */
export type TokenHttp = (method: "GET" | "POST", path: string, body?: string) => Promise<TokenHttpAnswer>;

export interface TokenHttpAnswer {
  status: number;
  json: unknown;
  text: string;
}

export interface TokenEndpoints {
  /** `GET <challenge>?entity_id=&public_key=` answers `{challenge, expires_at}`. */
  challenge: string;
  /** `POST <verify>` with `{entity_id, public_key, challenge, signature}` answers `{token, expires_at}`. */
  verify: string;
}

/** The spec's paths (§4.3 table), used when discovery names none. */
export const SPEC_TOKEN_ENDPOINTS: Readonly<TokenEndpoints> = { challenge: "/auth/token", verify: "/auth/verify" };

function authOf(discovery: Record<string, unknown> | null): Record<string, unknown> {
  const auth = discovery?.auth;
  return auth && typeof auth === "object" ? (auth as Record<string, unknown>) : {};
}

/** Whether discovery says tokens are required (`auth.required`, PP-AUTH-006). */
export function authRequired(discovery: Record<string, unknown> | null): boolean {
  return authOf(discovery).required === true;
}

/** The endpoints discovery names (`auth.token_endpoint`, `auth.verify_endpoint`), else the spec's. */
export function tokenEndpoints(discovery: Record<string, unknown> | null): TokenEndpoints {
  const auth = authOf(discovery);
  const path = (value: unknown, fallback: string) => (typeof value === "string" && value.startsWith("/") ? value : fallback);
  return { challenge: path(auth.token_endpoint, SPEC_TOKEN_ENDPOINTS.challenge), verify: path(auth.verify_endpoint, SPEC_TOKEN_ENDPOINTS.verify) };
}

export interface ChallengeAnswer extends TokenHttpAnswer {
  /** The challenge (base64url) when the answer carries one. */
  challenge?: string;
  expiresAt?: number;
}

export interface TokenAnswer extends TokenHttpAnswer {
  token?: string;
  /** Integer milliseconds since the epoch, like every protocol timestamp (PP-ENV-005; schemas AuthTokenSchema). */
  expiresAt?: number;
}

/** Step 1: `GET /auth/token?entity_id=<id>&public_key=<b64u>`. */
export async function requestChallenge(http: TokenHttp, endpoints: TokenEndpoints, entityId: string, publicKey: Bytes): Promise<ChallengeAnswer> {
  const answer = await http("GET", `${endpoints.challenge}?entity_id=${encodeURIComponent(entityId)}&public_key=${b64u(publicKey)}`);
  const body = (answer.json ?? {}) as { challenge?: unknown; expires_at?: unknown };
  return { ...answer, ...(typeof body.challenge === "string" ? { challenge: body.challenge } : {}), ...(typeof body.expires_at === "number" ? { expiresAt: body.expires_at } : {}) };
}

/** The bytes a holder signs for `challenge` (base64url): SigInput("token challenge", challenge, ""), spec §4.5 and §7.1. */
export function challengeSigningInput(challenge: string): Bytes {
  return sigInput("token challenge", unb64u(challenge) ?? new Uint8Array(0));
}

/** Ed25519 of the identity seed over the challenge's signing input. */
export function signChallenge(seed: Bytes, challenge: string): Bytes {
  return ed25519Sign(seed, challengeSigningInput(challenge));
}

export interface VerifyRequest {
  entity_id: string;
  public_key: string;
  challenge: string;
  signature: string;
}

/** Step 3: `POST /auth/verify` with the signed challenge. */
export async function requestToken(http: TokenHttp, endpoints: TokenEndpoints, request: VerifyRequest): Promise<TokenAnswer> {
  const answer = await http("POST", endpoints.verify, JSON.stringify(request));
  const body = (answer.json ?? {}) as { token?: unknown; expires_at?: unknown };
  return { ...answer, ...(typeof body.token === "string" ? { token: body.token } : {}), ...(typeof body.expires_at === "number" ? { expiresAt: body.expires_at } : {}) };
}

/** Who asks for a token: the entity id and key it is for, and how it signs (a case may forge). */
export interface TokenHolder {
  entityId: string;
  publicKey: Bytes;
  sign(message: Bytes): Bytes;
}

export type TokenOutcome = { ok: true; token: string; expiresAt?: number } | { ok: false; step: "challenge" | "verify"; answer: TokenHttpAnswer };

/** The whole flow for `holder`; a refusal says at which step and with what answer. */
export async function obtainToken(http: TokenHttp, endpoints: TokenEndpoints, holder: TokenHolder): Promise<TokenOutcome> {
  const asked = await requestChallenge(http, endpoints, holder.entityId, holder.publicKey);
  if (asked.status !== 200 || asked.challenge === undefined) return { ok: false, step: "challenge", answer: asked };
  const signature = holder.sign(challengeSigningInput(asked.challenge));
  const issued = await requestToken(http, endpoints, { entity_id: holder.entityId, public_key: b64u(holder.publicKey), challenge: asked.challenge, signature: b64u(signature) });
  if (issued.status !== 200 || issued.token === undefined) return { ok: false, step: "verify", answer: issued };
  return { ok: true, token: issued.token, ...(issued.expiresAt !== undefined ? { expiresAt: issued.expiresAt } : {}) };
}

/** The holder of a probe identity: it signs with its own seed. */
export function identityHolder(identity: { entityId: string; publicKey: Bytes; seed: Bytes }): TokenHolder {
  return { entityId: identity.entityId, publicKey: identity.publicKey, sign: (message) => ed25519Sign(identity.seed, message) };
}

/** The JOSE header and claims of a compact JWT (PP-AUTH-003), without verifying it; `{}` for a part that does not decode. */
export function decodeJwt(token: string): { header: Record<string, unknown>; claims: Record<string, unknown> } {
  const [header, claims] = token.split(".").map((part) => {
    try {
      const value = JSON.parse(Buffer.from(part, "base64url").toString("utf8")) as unknown;
      return value && typeof value === "object" ? (value as Record<string, unknown>) : {};
    } catch {
      return {};
    }
  });
  return { header: header ?? {}, claims: claims ?? {} };
}
