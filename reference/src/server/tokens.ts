/**
 * Bearer tokens (spec §4.5): a single-use challenge (PP-AUTH-001, PP-RPL-007), an Ed25519 signature
 * over SigInput("token challenge", challenge) verified strictly (PP-AUTH-002), then a short-lived
 * EdDSA JWT (PP-AUTH-003) issued with `jose`, never hand-rolled.
 */
import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { jwtVerify, SignJWT } from "jose";
import { ed25519KeyProblemCached, ed25519VerifyStrict, randomBytes } from "../crypto.ts";
import { fromBase64Url, toBase64Url } from "../encoding.ts";
import { ProtocolError } from "../errors.ts";
import { signatureInput } from "../key-schedule.ts";

const CHALLENGE_TTL_MS = 60_000;
const AUDIENCE = "peer-protocol";

export interface TokenSubject {
  entityId: string;
  identityKey: Buffer;
}

export class TokenIssuer {
  private readonly signingKey: KeyObject;
  private readonly verifyKey: KeyObject;
  private readonly challenges = new Map<string, { entityId: string; publicKey: string; expiresAt: number }>();

  constructor(
    private readonly issuer: string,
    private readonly lifetimeSeconds = 300,
    private readonly now: () => number = Date.now,
  ) {
    const pair = generateKeyPairSync("ed25519");
    this.signingKey = pair.privateKey;
    this.verifyKey = pair.publicKey;
  }

  /** GET /auth/token?entity_id&public_key */
  challenge(entityId: string, publicKey: string): { challenge: string; expires_at: number } {
    const key = fromBase64Url(publicKey);
    if (!key || key.length !== 32) throw new ProtocolError("INVALID_MESSAGE", "public_key must be 32 bytes of base64url");
    const problem = ed25519KeyProblemCached(key);
    if (problem) throw new ProtocolError("AUTHENTICATION_FAILED", `public_key refused: ${problem}`);
    this.sweep();
    const challenge = toBase64Url(randomBytes(32));
    const expiresAt = this.now() + CHALLENGE_TTL_MS;
    this.challenges.set(challenge, { entityId, publicKey, expiresAt });
    return { challenge, expires_at: expiresAt }; // PP-AUTH-012: milliseconds since the epoch
  }

  /** POST /auth/verify */
  async verify(request: { entity_id: string; public_key: string; challenge: string; signature: string }): Promise<{ token: string; expires_at: number }> {
    const issued = this.challenges.get(request.challenge);
    this.challenges.delete(request.challenge); // single use, whatever the outcome (PP-RPL-007, PP-AUTH-013)
    if (!issued || issued.expiresAt <= this.now()) throw new ProtocolError("AUTHENTICATION_FAILED", "challenge is unknown, used or expired");
    if (issued.entityId !== request.entity_id || issued.publicKey !== request.public_key) throw new ProtocolError("AUTHENTICATION_FAILED", "challenge was issued for another entity or key");
    const signature = fromBase64Url(request.signature);
    const challengeBytes = fromBase64Url(request.challenge) as Buffer;
    const key = fromBase64Url(request.public_key) as Buffer;
    if (!signature || !ed25519VerifyStrict(key, signatureInput("token challenge", challengeBytes), signature)) throw new ProtocolError("AUTHENTICATION_FAILED", "challenge signature does not verify");
    const issuedAt = Math.floor(this.now() / 1000);
    const expiresAt = issuedAt + this.lifetimeSeconds;
    const token = await new SignJWT({ cnf: { jwk: { kty: "OKP", crv: "Ed25519", x: request.public_key } } })
      .setProtectedHeader({ alg: "EdDSA", typ: "JWT" })
      .setSubject(request.entity_id)
      .setIssuer(this.issuer)
      .setAudience(AUDIENCE)
      .setIssuedAt(issuedAt)
      .setExpirationTime(expiresAt)
      .sign(this.signingKey);
    return { token, expires_at: expiresAt * 1000 }; // PP-AUTH-012: exp is in seconds, expires_at in milliseconds
  }

  /** The token's subject, or an AUTHENTICATION_FAILED error (PP-AUTH-006). */
  async check(token: string): Promise<TokenSubject> {
    try {
      const { payload } = await jwtVerify(token, this.verifyKey, { algorithms: ["EdDSA"], issuer: this.issuer, audience: AUDIENCE, currentDate: new Date(this.now()) });
      const x = (payload.cnf as { jwk?: { x?: string } } | undefined)?.jwk?.x;
      const identityKey = typeof x === "string" ? fromBase64Url(x) : null;
      if (!payload.sub || !identityKey) throw new Error("token lacks sub or cnf.jwk.x");
      return { entityId: payload.sub, identityKey };
    } catch {
      throw new ProtocolError("AUTHENTICATION_FAILED", "token is missing, invalid or expired");
    }
  }

  private sweep(): void {
    const now = this.now();
    for (const [challenge, issued] of this.challenges) if (issued.expiresAt <= now) this.challenges.delete(challenge);
  }
}
