/**
 * Which bearer token a probe presents. A target that requires tokens (discovery `auth.required`,
 * PP-AUTH-006) refuses every upgrade and HTTP binding request without one, so each probe identity
 * gets its own: a token names one entity and one key (`sub` and `cnf.jwk.x`, PP-AUTH-007), and a
 * handshake under any other identity is refused. Tokens come from the target's own §4.5 flow
 * (tokens.ts), or from the user (`--token-command`, the `tokenProvider` option) for servers whose
 * tokens come from elsewhere; a provider also makes probes present tokens when discovery does not
 * say they are required.
 *
 * Tokens are kept per (entity id, key) for the run and fetched again before they expire: a case
 * reconnects the same identity (resume, scenarios) and the HTTP binding asks on every request.
 */
import { CaseFailure } from "../failure.ts";
import type { ProbeIdentity } from "./peer.ts";
import { authRequired, decodeJwt, identityHolder, obtainToken, tokenEndpoints, type TokenHttp } from "./tokens.ts";
import { b64u } from "./wire.ts";

/** What a token provider is asked: the identity the token is for, and where the target is. */
export interface TokenRequest {
  entityId: string;
  /** The Ed25519 identity key, base64url: the token's `cnf.jwk.x` (PP-AUTH-007). */
  publicKey: string;
  /**
   * The identity's Ed25519 private key (the 32-byte seed, base64url), for providers that prove
   * possession as §4.5 does. Probe identities are throwaway keys made for this run (keys.ts).
   */
  privateKey: string;
  /** The target's http(s) base URL. */
  target: string;
}

/** Gives the token for one identity; a throw is a harness error (TokenProviderError), not the target's failure. */
export type TokenProvider = (request: TokenRequest) => Promise<string>;

/** The user's token provider failed: the run cannot go on, and no case is to blame (exit code 2). */
export class TokenProviderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TokenProviderError";
  }
}

/** The target did not issue a token for a probe identity through §4.5: the target's failure, in the case that needed it. */
export class TokenRefused extends CaseFailure {
  constructor(
    expected: string[],
    actual: string,
    readonly status: number,
    readonly code: string | undefined,
  ) {
    super(expected, actual);
    this.name = "TokenRefused";
  }
}

interface Issued {
  token: string;
  issuedAt: number;
  expiresAt: number;
}

/** A token whose expiry is unknown (not a JWT, no `expires_at`) is used for a minute at most. */
const UNKNOWN_LIFETIME_MS = 60_000;
/** A token is fetched again when less than this, or half its lifetime, remains: a case takes a while. */
const REFRESH_MARGIN_MS = 30_000;

export interface TokenSourceOptions {
  baseUrl: string;
  discovery: Record<string, unknown> | null;
  provider?: TokenProvider;
  /** How long one request of the §4.5 flow may take. */
  timeoutMs?: number;
  now?: () => number;
}

export class TokenSource {
  /** Whether probes present tokens of their own: the target requires them, or the user gives them. */
  readonly presents: boolean;
  private readonly cache = new Map<string, { pending: Promise<Issued>; issued?: Issued }>();
  private readonly now: () => number;

  constructor(private readonly options: TokenSourceOptions) {
    this.presents = options.provider !== undefined || authRequired(options.discovery);
    this.now = options.now ?? Date.now;
  }

  /** The token `identity` presents: cached per (entity id, key), fetched again before it expires. */
  async tokenFor(identity: ProbeIdentity): Promise<string> {
    const key = `${identity.entityId}\n${b64u(identity.publicKey)}`;
    const entry = this.cache.get(key);
    if (entry && (entry.issued === undefined || this.fresh(entry.issued))) return (await entry.pending).token;
    const pending = this.fetch(identity);
    const fresh: { pending: Promise<Issued>; issued?: Issued } = { pending };
    this.cache.set(key, fresh);
    try {
      fresh.issued = await pending;
      return fresh.issued.token;
    } catch (error) {
      if (this.cache.get(key) === fresh) this.cache.delete(key);
      throw error;
    }
  }

  private fresh(issued: Issued): boolean {
    const margin = Math.min(REFRESH_MARGIN_MS, (issued.expiresAt - issued.issuedAt) / 2);
    return issued.expiresAt - this.now() > margin;
  }

  private async fetch(identity: ProbeIdentity): Promise<Issued> {
    const issuedAt = this.now();
    const token = this.options.provider ? await this.fromProvider(identity) : await this.fromTarget(identity);
    return { token: token.token, issuedAt, expiresAt: token.expiresAt ?? jwtExpiry(token.token) ?? issuedAt + UNKNOWN_LIFETIME_MS };
  }

  private async fromProvider(identity: ProbeIdentity): Promise<{ token: string; expiresAt?: number }> {
    const provider = this.options.provider as TokenProvider;
    let token: unknown;
    try {
      token = await provider({ entityId: identity.entityId, publicKey: b64u(identity.publicKey), privateKey: b64u(identity.seed), target: this.options.baseUrl });
    } catch (error) {
      if (error instanceof TokenProviderError) throw error;
      throw new TokenProviderError(`the token provider failed for entity ${identity.entityId}: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (typeof token !== "string" || token.trim() === "") throw new TokenProviderError(`the token provider gave no token for entity ${identity.entityId}`);
    return { token: token.trim() };
  }

  /** The spec's flow at the target (§4.5); a refusal is the target's (TokenRefused). */
  private async fromTarget(identity: ProbeIdentity): Promise<{ token: string; expiresAt?: number }> {
    const endpoints = tokenEndpoints(this.options.discovery);
    const outcome = await obtainToken(this.http, endpoints, identityHolder(identity));
    if (outcome.ok) return outcome;
    const { answer, step } = outcome;
    const code = (answer.json as { payload?: { code?: unknown } } | undefined)?.payload?.code;
    const request = step === "challenge" ? `GET ${endpoints.challenge}` : `POST ${endpoints.verify}`;
    throw new TokenRefused(
      [`a token for probe entity ${identity.entityId} (a valid Ed25519 key) through GET ${endpoints.challenge} and POST ${endpoints.verify}: the target requires tokens (discovery auth.required, PP-AUTH-006) and issues them by spec §4.5 (PP-AUTH-001 to PP-AUTH-003)`],
      `${request} answered ${answer.status === 0 ? answer.text : `HTTP ${answer.status} ${answer.text.slice(0, 200)}`}`,
      answer.status,
      typeof code === "string" ? code : undefined,
    );
  }

  private readonly http: TokenHttp = async (method, path, body) => {
    try {
      const response = await fetch(`${this.options.baseUrl}${path}`, {
        method,
        ...(body !== undefined ? { body, headers: { "content-type": "application/json" } } : {}),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 5000),
      });
      const text = await response.text();
      let json: unknown = undefined;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      return { status: response.status, json, text };
    } catch (error) {
      const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error);
      return { status: 0, json: undefined, text: `no response (${cause})` };
    }
  };
}

/** `exp` of a JWT (seconds) in milliseconds, when the token is one (PP-AUTH-003). */
function jwtExpiry(token: string): number | undefined {
  const exp = decodeJwt(token).claims.exp;
  return typeof exp === "number" && Number.isFinite(exp) ? exp * 1000 : undefined;
}
