/**
 * Inputs and steps several suites share: the small-order points of X25519 and Ed25519, signature
 * malleations, "drive a handshake that the target must reject", and tours (one value of every
 * arbitrary per property run) for properties over many kinds of input.
 */
import fc from "fast-check";
import negative from "../../../spec/vectors/negative.json" with { type: "json" };
import { CaseFailure } from "../failure.ts";
import type { Bytes } from "../probe/crypto.ts";
import type { CaseContext } from "../case.ts";
import { describeInbound, ProbePeer, type HandshakeOptions, type Inbound } from "../probe/peer.ts";
import { requestChallenge, requestToken, tokenEndpoints, type TokenHttp } from "../probe/tokens.ts";
import { b64u, canonical } from "../probe/wire.ts";
import { errorRow } from "../schemas.ts";

export const fromHex = (hex: string): Bytes => new Uint8Array(Buffer.from(hex, "hex"));
export const toHex = (bytes: Bytes): string => Buffer.from(bytes).toString("hex");

/**
 * X25519 public keys whose shared secret with any private key is all zero (RFC 7748 §6.1): the
 * points of small order, their non-canonical encodings (u >= p) and the high-bit variants, which
 * X25519 masks away.
 */
export const SMALL_ORDER_X25519: readonly { name: string; key: string }[] = [
  { name: "u = 0", key: "0000000000000000000000000000000000000000000000000000000000000000" },
  { name: "u = 1", key: "0100000000000000000000000000000000000000000000000000000000000000" },
  { name: "order 8 (e0eb…)", key: "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800" },
  { name: "order 8 (5f9c…)", key: "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157" },
  { name: "u = p - 1 (order 2)", key: "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f" },
  { name: "u = p (non-canonical 0)", key: "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f" },
  { name: "u = p + 1 (non-canonical 1)", key: "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f" },
  { name: "u = 0 with the high bit set", key: "0000000000000000000000000000000000000000000000000000000000000080" },
];

interface NegativeKey {
  name: string;
  kind: string;
  public_key?: string;
}

/** Ed25519 public keys an endpoint must reject (spec/vectors/negative.json; PP-KS-013, PP-KS-014). */
export const BAD_ED25519_KEYS: readonly { name: string; key: string }[] = [
  ...(negative.cases as NegativeKey[]).filter((c) => c.kind === "ed25519-public-key" && c.public_key).map((c) => ({ name: c.name.replace(/^ed25519 /, ""), key: c.public_key as string })),
  { name: "non-canonical identity (y = p + 1)", key: "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f" },
];

/** The Ed25519 identity point, encoded canonically. */
export const IDENTITY_POINT = fromHex("01" + "00".repeat(31));

/** R = identity, S = 0: verifies for every message under a small-order key in permissive (ZIP-215, node:crypto) verifiers. */
export const IDENTITY_FORGERY = new Uint8Array(64).fill(0);
IDENTITY_FORGERY.set(IDENTITY_POINT, 0);

/** The order L of the Ed25519 base point. */
export const GROUP_ORDER = 2n ** 252n + 27742317777372353535851937790883648493n;

/** The same signature with S + L: the same point equation, a non-canonical scalar (PP-KS-015). */
export function withScalarPlusL(signature: Bytes): Bytes {
  let s = 0n;
  for (let i = 31; i >= 0; i--) s = (s << 8n) | BigInt(signature[32 + i] as number);
  s += GROUP_ORDER;
  const out = Uint8Array.from(signature);
  for (let i = 0; i < 32; i++) {
    out[32 + i] = Number(s & 0xffn);
    s >>= 8n;
  }
  return out;
}

export function flipBit(bytes: Bytes, bit: number): Bytes {
  const out = Uint8Array.from(bytes);
  const index = Math.floor(bit / 8) % out.length;
  out[index] = (out[index] as number) ^ (1 << bit % 8);
  return out;
}

/**
 * Runs a handshake that the target must abort with `code` at step 2 or step 4: an ERROR with the
 * code (and its registry close code) must come instead of HANDSHAKE_INIT_ACK, or instead of
 * SESSION_ESTABLISHED. Returns the step the target rejected.
 */
export async function expectHandshakeRejected(probe: ProbePeer, options: HandshakeOptions, code: string, why: string): Promise<"HANDSHAKE_INIT" | "CHALLENGE_RESPONSE"> {
  const expected = `ERROR ${code} and close: ${why}`;
  let init = probe.buildInit(options);
  init = options.init?.(init) ?? init;
  probe.sendHandshake(init);
  const first = await probe.expectMessage(["ERROR", "HANDSHAKE_INIT_ACK"], { describe: expected });
  if (first.envelope.type === "ERROR") {
    await probe.checkError(first, code);
    return "HANDSHAKE_INIT";
  }
  probe.acceptInitAck(first.envelope);
  let response = probe.buildChallengeResponse(options);
  response = options.challengeResponse?.(response, probe.handshakeSecrets()) ?? response;
  probe.sendHandshake(response);
  const second = await probe.expectMessage(["ERROR", "SESSION_ESTABLISHED"], { describe: expected });
  if (second.envelope.type === "SESSION_ESTABLISHED") throw new CaseFailure([expected], "SESSION_ESTABLISHED: the target accepted the handshake");
  await probe.checkError(second, code);
  return "CHALLENGE_RESPONSE";
}

/** `ctx.http` as the §4.5 flow (probe/tokens.ts) takes it: the case's trace shows every step. */
export const tracedTokenHttp =
  (ctx: CaseContext): TokenHttp =>
  (method, path, body) =>
    ctx.http(method, path, body === undefined ? {} : { body });

/** An answer of the §4.5 flow: its status, the token if one was issued, the body. */
export interface IssuedToken {
  status: number;
  token?: string;
  body: unknown;
}

/** Fails unless the target refused to issue a token, with one of `codes` and its registry status. */
export function expectTokenRefused(ctx: CaseContext, issued: IssuedToken, codes: string[], what: string): void {
  const code = String((issued.body as { payload?: { code?: unknown } } | undefined)?.payload?.code);
  const statuses = codes.map((c) => errorRow(c)?.http);
  ctx.check(issued.token === undefined && statuses.includes(issued.status) && codes.includes(code), `${codes.map((c) => `HTTP ${errorRow(c)?.http} ${c}`).join(" or ")}: ${what}`, `HTTP ${issued.status} ${JSON.stringify(issued.body).slice(0, 200)}`);
}

/**
 * The token gate (spec §4.5) for an Ed25519 key that no one can hold (small order or non-canonical,
 * PP-KS-013, PP-KS-014): the target must refuse the challenge for it (AUTHENTICATION_FAILED or
 * INVALID_MESSAGE), or refuse the token for the forged signature R = identity, S = 0, which
 * permissive verifiers accept under such keys for every message (AUTHENTICATION_FAILED, PP-AUTH-002).
 * Returns "no token endpoint" when the challenge endpoint answers HTTP 404, for the caller to judge.
 */
export async function expectNoTokenForForgedKey(ctx: CaseContext, entityId: string, key: Bytes, what: string): Promise<"refused" | "no token endpoint"> {
  const endpoints = tokenEndpoints(ctx.target.discovery);
  const asked = await requestChallenge(tracedTokenHttp(ctx), endpoints, entityId, key);
  if (asked.status === 404) return "no token endpoint";
  if (asked.status !== 200 || asked.challenge === undefined) {
    expectTokenRefused(ctx, { status: asked.status, body: asked.json }, ["AUTHENTICATION_FAILED", "INVALID_MESSAGE"], `a challenge for ${what}`);
    return "refused";
  }
  const issued = await requestToken(tracedTokenHttp(ctx), endpoints, { entity_id: entityId, public_key: b64u(key), challenge: asked.challenge, signature: b64u(IDENTITY_FORGERY) });
  expectTokenRefused(ctx, { status: issued.status, token: issued.token, body: issued.json }, ["AUTHENTICATION_FAILED"], `${what} with the signature R = identity, S = 0`);
  return "refused";
}

/**
 * The part of a bad-identity-key case (an identity key of small order or non-canonical, with the
 * forged signature R = identity, S = 0: PP-HS-006, PP-KS-013, PP-KS-014) that a target requiring
 * tokens needs. Its handshake can only present a token of some valid key: no token can name a bad
 * key, and the probe presents the token of its own key under the same entity id. The target then
 * owes AUTHENTICATION_FAILED to PP-AUTH-007 (the key is not the token's `cnf.jwk.x`) as much as to
 * PP-HS-006, so that refusal, still checked by the case, cannot show the handshake's key check; no
 * client holding a matching token can reach that check. What does show that the key is refused is
 * the token gate, where the bad key enters with a matching credential request: §4.5 must refuse a
 * challenge or a token for it (expectNoTokenForForgedKey). Returns "no tokens" when probes present
 * none (nothing to add), "refused" after the gate held, "no token endpoint" when there is no §4.5
 * flow to ask (HTTP 404), for the caller to skip or note.
 */
export async function badKeyTokenGate(ctx: CaseContext, probe: ProbePeer, key: Bytes, what: string): Promise<"no tokens" | "refused" | "no token endpoint"> {
  if (!ctx.presentsTokens) return "no tokens";
  return expectNoTokenForForgedKey(ctx, probe.identity.entityId, key, what);
}

/** The note of a bad-key case that ran against a target requiring tokens (badKeyTokenGate). */
export const BAD_KEY_UNDER_TOKENS_NOTE =
  "the target requires tokens: the bad keys were refused at the token endpoint (PP-KS-013, PP-KS-014, PP-AUTH-002); each handshake under one, presenting the token of the probe's valid key, was refused with AUTHENTICATION_FAILED, which PP-AUTH-007 requires as well, so the handshake's own key check (PP-HS-006) is not isolated";

/** Why a bad-key case is skipped when the target requires tokens and serves no §4.5 flow (badKeyTokenGate). */
export const BAD_KEY_WITHOUT_TOKEN_ENDPOINT =
  "the target requires tokens and serves no §4.5 token endpoint (HTTP 404): a handshake under a bad key can only present a token of another key, which PP-AUTH-007 refuses with the same AUTHENTICATION_FAILED, so the key check (PP-HS-006, PP-KS-013, PP-KS-014) cannot be told apart";

/** After an error whose connection stays open, a whole handshake still runs on the connection (PP-ERR-004). */
export async function keepsServing(probe: ProbePeer): Promise<void> {
  try {
    await probe.handshake();
  } catch (error) {
    if (error instanceof CaseFailure) throw new CaseFailure([`${error.expected.join(" or ")}: after an ERROR that keeps the connection open, a new handshake on it completes (PP-ERR-004)`], error.actual);
    throw error;
  }
}

/** Sends `envelope` as the next message and expects INVALID_STATE and close 4409 (PP-HS-001). */
export async function expectInvalidState(probe: ProbePeer, send: () => void, why: string): Promise<void> {
  send();
  const item = await probe.expectMessage("ERROR", { describe: `ERROR INVALID_STATE and close 4409: ${why}` });
  await probe.checkError(item, "INVALID_STATE");
}

/** Equality of two JSON values as JCS sees it (member order and number spelling do not matter). */
export function jcsEqual(a: unknown, b: unknown): boolean {
  return Buffer.from(canonical(a)).equals(Buffer.from(canonical(b)));
}

interface TourContext<T> {
  arbitraries: fc.Arbitrary<T>[];
  values: fc.Value<T>[];
}

/**
 * A tour: one value of every arbitrary, in a generated order. A property over tours meets every
 * kind of input in each run, even with few runs (the self-test's --runs 5), where a property over
 * one input at a time would miss most kinds. A failing tour shrinks to the one value that fails,
 * alone, and then within that value's own arbitrary, so the counterexample is a single readable
 * input (`[{ transport: "websocket", state: "in-session", input: { kind: "seq-gap", skip: 3 } }]`).
 * The predicate should run the values in order and stop at the first failure.
 */
export class Tour<T> extends fc.Arbitrary<T[]> {
  constructor(private readonly arbitraries: readonly fc.Arbitrary<T>[]) {
    super();
  }

  generate(mrng: fc.Random, biasFactor: number | undefined): fc.Value<T[]> {
    const order = this.arbitraries.map((_, i) => i);
    for (let i = order.length - 1; i > 0; i--) {
      const j = mrng.nextInt(0, i);
      [order[i], order[j]] = [order[j] as number, order[i] as number];
    }
    const arbitraries = order.map((i) => this.arbitraries[i] as fc.Arbitrary<T>);
    return Tour.wrap({ arbitraries, values: arbitraries.map((a) => a.generate(mrng, biasFactor)) });
  }

  canShrinkWithoutContext(_value: unknown): _value is T[] {
    return false;
  }

  shrink(_value: T[], context: unknown): fc.Stream<fc.Value<T[]>> {
    const tour = context as TourContext<T> | undefined;
    if (!tour) return fc.Stream.nil();
    // First each value alone; a single value then shrinks as its own arbitrary does.
    if (tour.values.length > 1) return fc.Stream.of(...tour.values.map((v, i) => Tour.wrap({ arbitraries: [tour.arbitraries[i] as fc.Arbitrary<T>], values: [v] })));
    const [arbitrary] = tour.arbitraries as [fc.Arbitrary<T>];
    const [value] = tour.values as [fc.Value<T>];
    return arbitrary.shrink(value.value_, value.context).map((v) => Tour.wrap({ arbitraries: [arbitrary], values: [v] }));
  }

  private static wrap<T>(tour: TourContext<T>): fc.Value<T[]> {
    return new fc.Value(
      tour.values.map((v) => v.value),
      tour,
    );
  }
}

/**
 * How many tours a property runs for --runs (25 by default): one tour already meets every kind of
 * input, so the default run makes one and --runs 250 ten, each with fresh orders and parameters.
 */
export const toursFor = (runs: number): number => Math.max(1, Math.round(runs / 25));

/** A data payload whose plaintext, JCS(payload), is exactly `size` bytes: the size of a data record (PP-DLV-014). */
export function payloadOfSize(size: number): { content: string } {
  const overhead = canonical({ content: "" }).length;
  if (size < overhead) throw new RangeError(`a payload of ${size} bytes is smaller than its ${overhead} bytes of JSON`);
  return { content: "z".repeat(size - overhead) };
}

/** Closes `probe`'s connection and resumes its session on a new one as identity `identityIndex`; fails unless READY. */
export async function resumeOnNewConnection(ctx: CaseContext, probe: ProbePeer, identityIndex: number, why: string): Promise<ProbePeer> {
  const ticket = probe.ticket();
  probe.close();
  const again = await ctx.probe({ identityIndex, query: { session_id: ticket.sessionId } });
  again.sendJson(again.buildResume(ticket));
  const answer = await again.receiveResumeAck();
  ctx.check(answer.status === "READY", `the session resumes: ${why}`, `status ${String(answer.status)}`);
  return again;
}

/**
 * Ends the sessions a case filled the target with (BYE, PP-SES-015), resuming those the target closed
 * with BUFFER_OVERFLOW first: what they hold would otherwise fill max_buffered_bytes for the cases
 * after this one until chunk_timeout_ms or resume_window_ms.
 */
export async function endSessions(ctx: CaseContext, sessions: [ProbePeer, number][]): Promise<void> {
  for (const [probe, identityIndex] of sessions) {
    const open = probe.closed === null ? probe : await resumeOnNewConnection(ctx, probe, identityIndex, "to end it with BYE");
    open.sendRecord("BYE", { reason: "done" });
    await open.expectClose(undefined, { timeoutMs: 5000 }).catch(() => undefined);
    open.close();
  }
}

/**
 * A data record the target refused for good (a code that is not retryable) is acknowledged like any
 * other (PP-DLV-016): an ACK covering `seq`, which may have come before the ERROR that an earlier
 * wait took, or comes now.
 */
export async function expectRefusedAcknowledged(probe: ProbePeer, seq: number, why: string): Promise<void> {
  const covers = (item: Inbound) => item.kind === "message" && item.envelope.type === "ACK" && typeof ProbePeer.payloadOf(item).ack === "number" && (ProbePeer.payloadOf(item).ack as number) >= seq;
  if (probe.history.some(covers)) return;
  const deadline = Date.now() + probe.stepTimeoutMs;
  while (true) {
    const item = await probe.next(Math.max(1, deadline - Date.now()));
    if (item !== null && covers(item)) return;
    if (item?.kind === "message" && ["ACK", "PING", "PONG", "STATUS"].includes(String(item.envelope.type))) continue;
    throw new CaseFailure([`an ACK covering seq ${seq}: ${why} (PP-DLV-016)`], describeInbound(item, probe.stepTimeoutMs));
  }
}
