/**
 * Spec §6 (handshake) and §7.2 (handshake schedule): the six steps as a responder must run them,
 * the state table, and the aborts a responder owes a broken initiator.
 */
import type fc from "fast-check";
import { suite, type CaseContext } from "../case.ts";
import { ed25519PublicKey, ed25519Sign, randomBytes, x25519PublicKey } from "../probe/crypto.ts";
import { ProbePeer, type Envelope, type HandshakeOptions, type Inbound, type InitOptions } from "../probe/peer.ts";
import { sigInput } from "../probe/schedule.ts";
import { b64u, unb64u } from "../probe/wire.ts";
import { errorRow } from "../schemas.ts";
import { BAD_ED25519_KEYS, BAD_KEY_UNDER_TOKENS_NOTE, BAD_KEY_WITHOUT_TOKEN_ENDPOINT, badKeyTokenGate, expectHandshakeRejected, expectInvalidState, flipBit, fromHex, IDENTITY_FORGERY, jcsEqual, keepsServing, SMALL_ORDER_X25519, toursFor, Tour, withScalarPlusL } from "./support.ts";

const SESSION_ID = /^sess_[A-Za-z0-9_-]{22}$/;

// ---------------------------------------------------------------------------------------------
// handshake.sequence-property: sequences and mutations of the six steps, one fault at a time.

/** What the initiator sends, in the honest order; TASK_REQUEST is the first application record (the session check). */
const STEPS = ["HANDSHAKE_INIT", "CHALLENGE_RESPONSE", "SESSION_CONFIRM", "TASK_REQUEST"] as const;
type Step = (typeof STEPS)[number];
type HandshakeStep = Exclude<Step, "TASK_REQUEST">;
/** A step of the plan: one of the initiator's steps, or one of the target's own messages sent back. */
type Action = Step | "HANDSHAKE_INIT_ACK" | "SESSION_ESTABLISHED";

type Variation = "as-is" | "unknown-members" | "members-reordered" | "offers-1.2-and-1.1" | "timestamp-half-skew-past" | "timestamp-half-skew-future" | "unknown-capability-offered";

/** One handshake run: no fault (with a variation the spec allows), or exactly one fault. */
type HandshakeRun =
  | { mutation: "none"; variation: Variation }
  | { mutation: "step-skipped"; step: HandshakeStep }
  | { mutation: "step-repeated"; step: HandshakeStep }
  | { mutation: "steps-swapped"; first: HandshakeStep }
  | { mutation: "message-reflected"; message: "HANDSHAKE_INIT_ACK" | "SESSION_ESTABLISHED" }
  | { mutation: "signature-bit-flipped"; bit: number }
  | { mutation: "signature-scalar-plus-l" }
  | { mutation: "signature-other-label"; label: "responder signature" | "record signature" }
  | { mutation: "finished-bit-flipped"; bit: number }
  | { mutation: "init-changed-in-transit"; member: "versions" | "capabilities" }
  | { mutation: "confirm-hash-bit-flipped"; bit: number }
  | { mutation: "confirm-does-not-decrypt"; bit: number }
  | { mutation: "small-order-ephemeral"; point: string }
  | { mutation: "small-order-identity-key"; key: string }
  | { mutation: "version-not-offered"; offer: "versions [1.1]" | "v1.1 HANDSHAKE_INIT" }
  | { mutation: "stale-timestamp"; direction: "past" | "future"; beyondSkewMs: number }
  | { mutation: "replayed-init-nonce" };

/** A bad Ed25519 key's name with the start of its encoding (two keys of the vectors share a name). */
const badKeyLabel = (k: { name: string; key: string }): string => `${k.name} (${k.key.slice(0, 8)}…)`;

function handshakeTour(f: typeof fc): Tour<HandshakeRun> {
  const handshakeSteps = ["HANDSHAKE_INIT", "CHALLENGE_RESPONSE", "SESSION_CONFIRM"] as const;
  const variations: Variation[] = ["as-is", "unknown-members", "members-reordered", "offers-1.2-and-1.1", "timestamp-half-skew-past", "timestamp-half-skew-future", "unknown-capability-offered"];
  // Every variation, sequence mutation and bad key is its own member of the tour, so that each run meets all of them.
  const arbitraries: fc.Arbitrary<HandshakeRun>[] = [
    ...variations.map((variation) => f.constant<HandshakeRun>({ mutation: "none", variation })),
    ...handshakeSteps.flatMap((step) => [f.constant<HandshakeRun>({ mutation: "step-skipped", step }), f.constant<HandshakeRun>({ mutation: "step-repeated", step }), f.constant<HandshakeRun>({ mutation: "steps-swapped", first: step })]),
    f.constant<HandshakeRun>({ mutation: "message-reflected", message: "HANDSHAKE_INIT_ACK" }),
    f.constant<HandshakeRun>({ mutation: "message-reflected", message: "SESSION_ESTABLISHED" }),
    f.nat(511).map((bit): HandshakeRun => ({ mutation: "signature-bit-flipped", bit })),
    f.constant<HandshakeRun>({ mutation: "signature-scalar-plus-l" }),
    f.constantFrom("responder signature" as const, "record signature" as const).map((label): HandshakeRun => ({ mutation: "signature-other-label", label })),
    f.nat(255).map((bit): HandshakeRun => ({ mutation: "finished-bit-flipped", bit })),
    f.constantFrom("versions" as const, "capabilities" as const).map((member): HandshakeRun => ({ mutation: "init-changed-in-transit", member })),
    f.nat(255).map((bit): HandshakeRun => ({ mutation: "confirm-hash-bit-flipped", bit })),
    f.nat(8 * 64 - 1).map((bit): HandshakeRun => ({ mutation: "confirm-does-not-decrypt", bit })),
    // Each bad key is its own member too: a responder may refuse some of them by accident (a decoder that rejects the encoding) and not others.
    ...SMALL_ORDER_X25519.map((p) => f.constant<HandshakeRun>({ mutation: "small-order-ephemeral", point: p.name })),
    ...BAD_ED25519_KEYS.map((k) => f.constant<HandshakeRun>({ mutation: "small-order-identity-key", key: badKeyLabel(k) })),
    f.constantFrom("versions [1.1]" as const, "v1.1 HANDSHAKE_INIT" as const).map((offer): HandshakeRun => ({ mutation: "version-not-offered", offer })),
    f.record({ direction: f.constantFrom("past" as const, "future" as const), beyondSkewMs: f.integer({ min: 2_000, max: 86_400_000 }) }).map((r): HandshakeRun => ({ mutation: "stale-timestamp", ...r })),
    f.constant<HandshakeRun>({ mutation: "replayed-init-nonce" }),
  ];
  return new Tour(arbitraries);
}

/** The plan of a sequence mutation: the honest steps skipped, repeated, swapped, or with a message of the target's reflected. */
function planOf(run: HandshakeRun): Action[] {
  const plan: Action[] = [...STEPS];
  if (run.mutation === "step-skipped") plan.splice(plan.indexOf(run.step), 1);
  else if (run.mutation === "step-repeated") plan.splice(plan.indexOf(run.step), 0, run.step);
  else if (run.mutation === "steps-swapped") {
    const i = plan.indexOf(run.first);
    [plan[i], plan[i + 1]] = [plan[i + 1] as Action, plan[i] as Action];
  } else if (run.mutation === "message-reflected") plan.splice(run.message === "HANDSHAKE_INIT_ACK" ? 1 : 2, 0, run.message);
  return plan;
}

/** The responder state in which each honest step is the one expected (spec §6.2). */
const RESPONDER_STATE = ["START", "SENT_INIT_ACK", "SENT_ESTABLISHED", "READY"] as const;

const describeRun = (run: HandshakeRun): string => JSON.stringify(run);

/** A well-formed message for `action` that the state does not allow; records without keys carry random ciphertext. */
function unexpectedMessage(probe: ProbePeer, action: Action): { text: string; seq?: number } {
  const sessionId = probe.sessionId ?? `sess_${b64u(randomBytes(16)).slice(0, 22)}`;
  const record = (type: string) => ({ message_id: probe.newId("m"), type, version: "1.2", timestamp: Date.now(), seq: 0, session_id: sessionId, sender_id: probe.identity.entityId, ...(probe.serverId ? { recipient_id: probe.serverId } : {}), payload: b64u(randomBytes(48)) });
  switch (action) {
    case "HANDSHAKE_INIT":
      // Fresh and valid on its own, without touching the probe's handshake in progress.
      return { text: JSON.stringify(probe.plaintextEnvelope("HANDSHAKE_INIT", { versions: ["1.2"], ephemeral_key: b64u(x25519PublicKey(randomBytes(32))), identity_key: b64u(probe.identity.publicKey), capabilities: ["websocket"] })) };
    case "CHALLENGE_RESPONSE":
      if (probe.initAck) return { text: JSON.stringify(probe.buildChallengeResponse()) };
      return { text: JSON.stringify(probe.plaintextEnvelope("CHALLENGE_RESPONSE", { signature: b64u(randomBytes(64)), finished: b64u(randomBytes(32)) }, { sessionId })) };
    case "SESSION_CONFIRM":
      if (probe.th && probe.keys) return { text: probe.sealRecord("SESSION_CONFIRM", { handshake_hash: b64u(probe.th) }, { seq: probe.txSeq }).text, seq: probe.txSeq };
      return { text: JSON.stringify(record("SESSION_CONFIRM")) };
    case "TASK_REQUEST":
      if (probe.keys) return { text: probe.sealRecord("TASK_REQUEST", { task_id: probe.newId("task"), action: "echo", params: { early: true } }, { seq: probe.txSeq }).text, seq: probe.txSeq };
      return { text: JSON.stringify(record("TASK_REQUEST")) };
    case "HANDSHAKE_INIT_ACK":
      return { text: JSON.stringify(probe.initAck) };
    case "SESSION_ESTABLISHED":
      return { text: JSON.stringify(probe.established) };
  }
}

/**
 * After a rejected step the probe holds the traffic keys and session_id the session would have had:
 * nothing sealed under them is served, over the HTTP binding or by a resume (PP-HS-009).
 */
async function expectNoSession(ctx: CaseContext, probe: ProbePeer, why: string, seen: Set<string>): Promise<void> {
  const ticket = probe.ticket();
  if (ctx.target.capabilities.includes("http")) {
    const { text } = probe.sealRecord("TASK_REQUEST", { task_id: probe.newId("task"), action: "echo", params: { after: "rejected" } }, { seq: probe.txSeq });
    const answer = await ctx.http("POST", "/peers/message", { body: text, identity: probe.identity });
    const body = answer.json as Envelope | undefined;
    const code = String((body?.payload as Record<string, unknown> | undefined)?.code);
    const expected = `POST /peers/message of a record sealed under the keys of ${ticket.sessionId} refused with an ERROR and its registry row's status: ${why} yields no session (PP-HS-009, PP-TRN-008)`;
    ctx.check(answer.status !== 200 && body?.type === "ERROR" && errorRow(code)?.http === answer.status, expected, `HTTP ${answer.status} ${answer.text.slice(0, 200)}`);
    seen.add(`a record for a rejected handshake's session over HTTP: ${code}`);
  }
  if (ctx.target.capabilities.includes("resume")) {
    const resumer = await ctx.probe({ query: { session_id: ticket.sessionId }, identity: probe.identity });
    resumer.sendJson(resumer.buildResume(ticket));
    const status = String((await resumer.receiveResumeAck()).status);
    // §8 does not say whether a session whose SESSION_CONFIRM was never verified is resumable: the
    // binder proves the resumption secret, which is key confirmation of a kind, yet PP-HS-009 asks
    // for a verified SESSION_CONFIRM before application data. Noted, not failed.
    if (status === "READY") seen.add("a session whose handshake was rejected before SESSION_CONFIRM was verified can be resumed (status READY): PP-HS-009 is in doubt, spec §8 is silent");
    else seen.add(`a resume of a rejected handshake's session: ${status}`);
    resumer.close();
  }
}

/** A sequence mutation: the honest steps until the first one the state does not expect, which must get INVALID_STATE and close 4409. */
async function runPlan(ctx: CaseContext, probe: ProbePeer, run: HandshakeRun, seen: Set<string>): Promise<void> {
  const plan = planOf(run);
  let done = 0;
  for (const action of plan) {
    if (action === STEPS[done]) {
      await honestStep(ctx, probe, action, run);
      done++;
      continue;
    }
    // PP-HS-001, PP-HS-014 (reflected messages), and in READY the §6.2 row "any (either), unexpected type".
    const state = RESPONDER_STATE[done];
    const message = unexpectedMessage(probe, action);
    const why = `${action}${action === "HANDSHAKE_INIT_ACK" || action === "SESSION_ESTABLISHED" ? " (reflected)" : ""} in responder state ${state} (${describeRun(run)})`;
    probe.sendText(message.text);
    const item = await probe.expectMessage("ERROR", { describe: `ERROR INVALID_STATE and close 4409 for ${why} (PP-HS-001${action === "HANDSHAKE_INIT_ACK" || action === "SESSION_ESTABLISHED" ? ", PP-HS-014" : ""})` });
    await probe.checkError(item, "INVALID_STATE");
    if (state !== "READY") ctx.check(!probe.history.some((i) => i.kind === "message" && (i.envelope.type === "READY" || i.envelope.type === "TASK_RESPONSE")), `no READY and no application data after ${why} (PP-HS-009)`, "a READY or TASK_RESPONSE");
    if (state === "SENT_ESTABLISHED") await expectNoSession(ctx, probe, why, seen);
    return;
  }
}

/** One honest step and the target's answer; TASK_REQUEST checks that the keys work (an echo round-trips under them). */
async function honestStep(ctx: CaseContext, probe: ProbePeer, step: Step, run: HandshakeRun): Promise<void> {
  const variation = run.mutation === "none" ? run.variation : "as-is";
  switch (step) {
    case "HANDSHAKE_INIT": {
      const skew = ctx.limits.max_clock_skew_ms ?? 300_000;
      const init = probe.buildInit({
        ...(variation === "offers-1.2-and-1.1" ? { versions: ["1.2", "1.1"] } : {}),
        ...(variation === "unknown-capability-offered" ? { capabilities: ["websocket", "resume", "x-future-capability"] } : {}),
        ...(variation.startsWith("timestamp-half-skew") ? { timestamp: Math.round(Date.now() + ((variation.endsWith("past") ? -1 : 1) * skew) / 2) } : {}),
      });
      if (variation === "unknown-members") probe.sendHandshake({ ...init, x_extension: { future: true }, payload: { ...(init.payload as object), x_hint: "ignored" } });
      else if (variation === "members-reordered") {
        const reversed = (value: unknown): unknown => (value && typeof value === "object" && !Array.isArray(value) ? Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, reversed(v)])) : value);
        probe.sendHandshake(init, JSON.stringify(reversed(init), null, 2));
      } else probe.sendHandshake(init);
      const ack = await probe.receiveInitAck();
      const payload = ack.payload as Record<string, unknown>;
      // PP-VER-003: the first offered version the WebSocket speaks; PP-HS-015, PP-CAP-005: only offered capabilities.
      ctx.check(payload.version_selected === "1.2", `version_selected 1.2 (PP-VER-003) for ${describeRun(run)}`, `version_selected ${JSON.stringify(payload.version_selected)}`);
      const offered = (init.payload as { capabilities: string[] }).capabilities;
      const selected = Array.isArray(payload.capabilities) ? payload.capabilities.map(String) : [];
      ctx.check(selected.every((c) => offered.includes(c)), `capabilities selected from the offer ${JSON.stringify(offered)} (PP-HS-015, PP-CAP-005)`, JSON.stringify(selected));
      return;
    }
    case "CHALLENGE_RESPONSE": {
      const response = probe.buildChallengeResponse();
      probe.sendHandshake(variation === "unknown-members" ? { ...response, x_trace: "abc", payload: { ...(response.payload as object), x_note: 1 } } : response);
      await probe.receiveEstablished();
      return;
    }
    case "SESSION_CONFIRM":
      probe.sendConfirm();
      await probe.receiveReady();
      return;
    case "TASK_REQUEST": {
      const params = { run: describeRun(run) };
      const { response } = await probe.echo(params);
      ctx.check(jcsEqual(ProbePeer.payloadOf(response).result, params), `the echo of ${JSON.stringify(params)} under the session's keys (PP-DLV-009)`, JSON.stringify(ProbePeer.payloadOf(response).result));
      return;
    }
  }
}

/** A fault in step 1 or step 3: the abort `code` at one of `steps` (the step the fault is in, or the earliest that can see it). */
async function expectRejected(probe: ProbePeer, options: HandshakeOptions, code: string, steps: ("HANDSHAKE_INIT" | "CHALLENGE_RESPONSE")[], why: string, ctx: CaseContext): Promise<void> {
  const step = await expectHandshakeRejected(probe, options, code, why);
  ctx.check(steps.includes(step), `ERROR ${code} in answer to ${steps.join(" or ")}: ${why}`, `ERROR ${code} in answer to ${step}, whose content was valid`);
}

async function runHandshakeItem(ctx: CaseContext, run: HandshakeRun, seen: Set<string>): Promise<void> {
  const probe = await ctx.probe();
  const why = describeRun(run);
  try {
    switch (run.mutation) {
      case "none":
      case "step-skipped":
      case "step-repeated":
      case "steps-swapped":
      case "message-reflected":
        return await runPlan(ctx, probe, run, seen);
      case "signature-bit-flipped":
        return await expectRejected(probe, { challengeResponse: (env) => ({ ...env, payload: { ...(env.payload as object), signature: b64u(flipBit(unb64u((env.payload as Record<string, unknown>).signature) as Uint8Array, run.bit)) } }) }, "AUTHENTICATION_FAILED", ["CHALLENGE_RESPONSE"], `${why}: PP-HS-007`, ctx);
      case "signature-scalar-plus-l":
        return await expectRejected(probe, { sign: (m) => withScalarPlusL(ed25519Sign(probe.identity.seed, m)) }, "AUTHENTICATION_FAILED", ["CHALLENGE_RESPONSE"], `${why}: PP-KS-015, PP-HS-007`, ctx);
      case "signature-other-label":
        return await expectRejected(probe, { challengeResponse: (env, s) => ({ ...env, payload: { ...(env.payload as object), signature: b64u(ed25519Sign(probe.identity.seed, sigInput(run.label, s.h2, s.challenge))) } }) }, "AUTHENTICATION_FAILED", ["CHALLENGE_RESPONSE"], `${why}: PP-KS-004, PP-HS-007`, ctx);
      case "finished-bit-flipped":
        return await expectRejected(probe, { challengeResponse: (env) => ({ ...env, payload: { ...(env.payload as object), finished: b64u(flipBit(unb64u((env.payload as Record<string, unknown>).finished) as Uint8Array, run.bit)) } }) }, "AUTHENTICATION_FAILED", ["CHALLENGE_RESPONSE"], `${why}: PP-HS-008`, ctx);
      case "small-order-ephemeral": {
        const point = SMALL_ORDER_X25519.find((p) => p.name === run.point) as { key: string };
        return await expectRejected(probe, { ephemeral: { publicKey: fromHex(point.key), dh: new Uint8Array(32) } }, "AUTHENTICATION_FAILED", ["HANDSHAKE_INIT", "CHALLENGE_RESPONSE"], `${why}: PP-HS-004, PP-KS-017`, ctx);
      }
      case "small-order-identity-key": {
        // With the forged signature that permissive verifiers accept under such keys: only the key check refuses it.
        // A target requiring tokens must refuse the key at its token gate first (see badKeyTokenGate).
        const key = BAD_ED25519_KEYS.find((k) => badKeyLabel(k) === run.key) as { key: string };
        const gate = await badKeyTokenGate(ctx, probe, fromHex(key.key), `identity key ${run.key}`);
        if (gate === "refused") seen.add(BAD_KEY_UNDER_TOKENS_NOTE);
        else if (gate === "no token endpoint") seen.add(`small-order identity keys: ${BAD_KEY_WITHOUT_TOKEN_ENDPOINT}`);
        return await expectRejected(probe, { identityKey: fromHex(key.key), signature: IDENTITY_FORGERY }, "AUTHENTICATION_FAILED", ["HANDSHAKE_INIT", "CHALLENGE_RESPONSE"], `${why}: PP-HS-006, PP-KS-013, PP-KS-014`, ctx);
      }
      case "init-changed-in-transit": {
        // The target receives one HANDSHAKE_INIT, the probe's transcript holds another (a machine in the middle): fin_I cannot match (PP-KS-001, PP-HS-008).
        const sent = probe.buildInit(run.member === "versions" ? { versions: ["1.2", "1.1"] } : { capabilities: ["websocket", "resume", "chunking"] });
        const payload = sent.payload as Record<string, string[]>;
        const believed = { ...sent, payload: { ...payload, [run.member]: (payload[run.member] as string[]).slice(0, 1) } };
        probe.sendHandshake(believed, JSON.stringify(sent));
        probe.offeredVersions = payload.versions as string[];
        await probe.receiveInitAck();
        probe.sendHandshake(probe.buildChallengeResponse());
        const item = await probe.expectMessage(["ERROR", "SESSION_ESTABLISHED"], { describe: `ERROR AUTHENTICATION_FAILED: ${why} (PP-KS-001, PP-HS-008)` });
        ctx.check(item.envelope.type === "ERROR", `ERROR AUTHENTICATION_FAILED: ${why} (PP-KS-001, PP-HS-008)`, "SESSION_ESTABLISHED: the transcript does not cover HANDSHAKE_INIT as received");
        await probe.checkError(item, "AUTHENTICATION_FAILED");
        return;
      }
      case "confirm-hash-bit-flipped":
      case "confirm-does-not-decrypt": {
        await probe.handshake({ until: "ESTABLISHED" });
        if (run.mutation === "confirm-hash-bit-flipped") probe.sendConfirm({ handshakeHash: flipBit(probe.th as Uint8Array, run.bit) });
        else probe.sendConfirm({ ciphertext: (sealed) => flipBit(sealed, run.bit % (sealed.length * 8)) });
        // PP-KS-008 and the §6.2 row for a record that fails to decrypt; §6.2 names no code for a
        // handshake_hash that differs, and AUTHENTICATION_FAILED (key confirmation failed) is the one that fits.
        const expected = `ERROR AUTHENTICATION_FAILED and close 4401: ${why} (${run.mutation === "confirm-does-not-decrypt" ? "PP-KS-008" : "PP-HS-009"})`;
        const item = await probe.expectMessage(["ERROR", "READY"], { describe: expected });
        ctx.check(item.envelope.type === "ERROR", expected, "READY: the target confirmed the session");
        await probe.checkError(item, "AUTHENTICATION_FAILED");
        await expectNoSession(ctx, probe, why, seen);
        return;
      }
      case "version-not-offered": {
        // PP-VER-004, PP-VER-009: v1.1 is not spoken on the WebSocket, so the offer has no common version.
        probe.sendHandshake(run.offer === "versions [1.1]" ? probe.buildInit({ versions: ["1.1"] }) : probe.buildInit({ version: "1.1", versions: null, capabilities: null }));
        await probe.expectError("VERSION_NOT_SUPPORTED");
        return;
      }
      case "stale-timestamp":
      case "replayed-init-nonce": {
        let options: InitOptions;
        if (run.mutation === "stale-timestamp") options = { timestamp: Date.now() + (run.direction === "past" ? -1 : 1) * ((ctx.limits.max_clock_skew_ms ?? 300_000) + run.beyondSkewMs) };
        else {
          const first = await ctx.probe();
          const init = first.buildInit();
          first.sendHandshake(init);
          await first.receiveInitAck();
          first.close();
          options = { nonce: unb64u(init.nonce) as Uint8Array };
        }
        probe.sendHandshake(probe.buildInit(options));
        const requirement = run.mutation === "stale-timestamp" ? "PP-RPL-001" : "PP-RPL-002";
        const item = await probe.expectMessage(["ERROR", "HANDSHAKE_INIT_ACK"], { describe: `ERROR REPLAY_DETECTED: ${why} (${requirement})` });
        ctx.check(item.envelope.type === "ERROR", `ERROR REPLAY_DETECTED: ${why} (${requirement})`, "HANDSHAKE_INIT_ACK: the target accepted it");
        await probe.checkError(item, "REPLAY_DETECTED", { checkConnection: false });
        // REPLAY_DETECTED keeps the connection (PP-ERR-004): a fresh handshake on it completes.
        await keepsServing(probe);
        return;
      }
    }
  } finally {
    probe.close();
  }
}

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
    id: "challenge-response-foreign-session",
    title: "A responder answers a CHALLENGE_RESPONSE that names another session's session_id with INVALID_STATE, and the other handshake completes",
    requirements: ["PP-HS-020", "PP-HS-001"],
    level: "MUST",
    async run(ctx) {
      // Two handshakes at step 2. The probe's CHALLENGE_RESPONSE is right in everything the
      // transcript covers (signature and Finished over h2), but names the other connection's session.
      const other = await ctx.probe();
      await other.handshake({ until: "INIT_ACK" });
      const probe = await ctx.probe();
      await probe.handshake({ until: "INIT_ACK" });
      const foreign = String(other.initAck?.session_id);
      ctx.check(foreign !== String(probe.initAck?.session_id), "a session_id of its own for each handshake (PP-HS-012)", foreign);
      await expectInvalidState(probe, () => probe.sendHandshake({ ...probe.buildChallengeResponse(), session_id: foreign }), `CHALLENGE_RESPONSE with the session_id ${foreign} of another connection's handshake (PP-HS-020)`);
      // The neighbour: the handshake whose session_id it named is untouched and completes.
      other.sendHandshake(other.buildChallengeResponse());
      await other.receiveEstablished();
      other.sendConfirm();
      await other.receiveReady();
      await other.echo({ after: "a foreign CHALLENGE_RESPONSE" });
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
    title: "A responder answers a SESSION_CONFIRM that decrypts but carries a wrong handshake_hash with AUTHENTICATION_FAILED, not READY",
    requirements: ["PP-HS-019", "PP-KS-001", "PP-HS-009"],
    level: "MUST",
    async run(ctx) {
      const probe = await ctx.probe();
      await probe.handshake({ until: "ESTABLISHED" });
      probe.sendConfirm({ handshakeHash: randomBytes(32) });
      const item = await probe.expectMessage(["ERROR", "READY"], { describe: "ERROR AUTHENTICATION_FAILED: SESSION_CONFIRM does not confirm TH (PP-HS-019)" });
      ctx.check(item.envelope.type === "ERROR", "ERROR AUTHENTICATION_FAILED: SESSION_CONFIRM does not confirm TH (PP-HS-019)", "READY: the target accepted a wrong handshake_hash");
      await probe.checkError(item, "AUTHENTICATION_FAILED");
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
  {
    id: "http-rejected-challenge-response-ends-handshake",
    title: "Over HTTP, a handshake whose CHALLENGE_RESPONSE was rejected is over: a valid CHALLENGE_RESPONSE sent after it for the same session_id never yields SESSION_ESTABLISHED",
    requirements: ["PP-HS-001", "PP-HS-008", "PP-TRN-009"],
    level: "MUST",
    requires: ["http"],
    async run(ctx) {
      // On the WebSocket the rejection closes the connection, so no second CHALLENGE_RESPONSE can
      // reach the handshake; over HTTP the session_id still names it (PP-TRN-009). The state table
      // sends a rejected CHALLENGE_RESPONSE to CLOSED, where a message is out of order (PP-HS-001):
      // INVALID_STATE, or SESSION_NOT_FOUND from a server that forgot the failed handshake.
      const lastStatus = async (http: { settled(): Promise<void>; exchanges: { status: number; path: string }[] }): Promise<number> => {
        await http.settled();
        const exchange = http.exchanges.at(-1);
        ctx.check(exchange?.path === "/peers/handshake", "an answer to POST /peers/handshake", exchange ? `${exchange.path}` : "no exchange");
        return exchange?.status ?? 0;
      };
      // The positive neighbour: the same steps without the rejected one establish a session.
      const { probe: honest } = ctx.httpProbe();
      await honest.handshake();
      const { probe, http } = ctx.httpProbe();
      probe.sendHandshake(probe.buildInit());
      await probe.receiveInitAck();
      const valid = probe.buildChallengeResponse();
      const payload = valid.payload as Record<string, unknown>;
      const badFinished = flipBit(unb64u(payload.finished) as Uint8Array, 7);
      // Only fin_I is wrong (sig_I is valid); sent raw, so the probe's transcript keeps h2 for the valid one.
      const rejected = probe.plaintextEnvelope("CHALLENGE_RESPONSE", { signature: payload.signature, finished: b64u(badFinished) }, { sessionId: probe.sessionId });
      probe.sendJson(rejected);
      const first = await probe.expectMessage(["ERROR", "SESSION_ESTABLISHED"], { describe: "ERROR AUTHENTICATION_FAILED: fin_I does not match (PP-HS-008)" });
      ctx.check(first.envelope.type === "ERROR", "ERROR AUTHENTICATION_FAILED: fin_I does not match (PP-HS-008)", "SESSION_ESTABLISHED for a wrong Finished MAC");
      await probe.checkError(first, "AUTHENTICATION_FAILED", { checkConnection: false });
      const failedStatus = await lastStatus(http);
      ctx.check(failedStatus === errorRow("AUTHENTICATION_FAILED")?.http, `HTTP ${errorRow("AUTHENTICATION_FAILED")?.http} for the rejected CHALLENGE_RESPONSE (PP-ERR-005)`, `HTTP ${failedStatus}`);
      probe.sendHandshake(valid);
      const expected = "ERROR INVALID_STATE (or SESSION_NOT_FOUND): the handshake ended with the rejected CHALLENGE_RESPONSE (PP-HS-001)";
      const second = await probe.expectMessage(["ERROR", "SESSION_ESTABLISHED"], { describe: expected });
      ctx.check(second.envelope.type === "ERROR", expected, "SESSION_ESTABLISHED: the target completed a handshake after rejecting its CHALLENGE_RESPONSE");
      const { code } = await probe.checkError(second, ["INVALID_STATE", "SESSION_NOT_FOUND"], { checkConnection: false });
      const status = await lastStatus(http);
      ctx.check(status === errorRow(String(code))?.http, `HTTP ${errorRow(String(code))?.http} for ERROR ${String(code)} (PP-ERR-005)`, `HTTP ${status}`);
    },
  },
  {
    id: "http-timeout-from-init",
    title: "Over HTTP, a server counts handshake_timeout_ms from the HANDSHAKE_INIT request and answers a later step past it with SESSION_NOT_FOUND",
    requirements: ["PP-HS-018", "PP-HS-011", "PP-TRN-022"],
    level: "MUST",
    requires: ["http"],
    async run(ctx) {
      const timeout = ctx.limits.handshake_timeout_ms ?? 5000;
      if (timeout > 10_000 && !ctx.slow) ctx.skip(`handshake_timeout_ms is ${timeout}: run with --slow`);
      const slack = 1500;
      /** Sends `step` at `at` ms after its handshake's HANDSHAKE_INIT was answered and returns the answer. */
      const stepAt = async (probe: ProbePeer, http: { settled(): Promise<void>; exchanges: { status: number }[] }, started: number, at: number, step: () => void, expected: string[]) => {
        await ctx.sleep(Math.max(0, started + at - Date.now()));
        step();
        const answer = await probe.expectMessage(["ERROR", ...expected], { describe: expected.join(" or ") });
        await http.settled();
        return { answer, status: http.exchanges.at(-1)?.status ?? 0 };
      };
      const notFound = async (probe: ProbePeer, result: { answer: Inbound & { kind: "message" }; status: number }, what: string) => {
        const expected = `ERROR SESSION_NOT_FOUND with HTTP ${errorRow("SESSION_NOT_FOUND")?.http}: ${what} (PP-HS-018)`;
        ctx.check(result.answer.envelope.type === "ERROR", expected, `${String(result.answer.envelope.type)}: the handshake went on past handshake_timeout_ms`);
        await probe.checkError(result.answer, "SESSION_NOT_FOUND", { checkConnection: false });
        ctx.check(result.status === errorRow("SESSION_NOT_FOUND")?.http, expected, `HTTP ${result.status}`);
      };
      // Three handshakes at once, each timed from its own HANDSHAKE_INIT request.
      const late = ctx.httpProbe();
      const lateConfirm = ctx.httpProbe();
      const inTime = ctx.httpProbe();
      const begin = async ({ probe }: { probe: ProbePeer }) => {
        const started = Date.now();
        probe.sendHandshake(probe.buildInit());
        await probe.receiveInitAck();
        return started;
      };
      const [lateStarted, confirmStarted, inTimeStarted] = await Promise.all([begin(late), begin(lateConfirm), begin(inTime)]);
      const past = timeout + slack;
      await Promise.all([
        // CHALLENGE_RESPONSE past the timeout.
        (async () => {
          const result = await stepAt(late.probe, late.http, lateStarted, past, () => late.probe.sendHandshake(late.probe.buildChallengeResponse()), ["SESSION_ESTABLISHED"]);
          await notFound(late.probe, result, `a CHALLENGE_RESPONSE ${past} ms after HANDSHAKE_INIT, past handshake_timeout_ms ${timeout}`);
        })(),
        // CHALLENGE_RESPONSE at once, SESSION_CONFIRM past the timeout: the step in between does not restart it.
        (async () => {
          lateConfirm.probe.sendHandshake(lateConfirm.probe.buildChallengeResponse());
          await lateConfirm.probe.receiveEstablished();
          const result = await stepAt(lateConfirm.probe, lateConfirm.http, confirmStarted, past, () => lateConfirm.probe.sendConfirm(), ["READY"]);
          await notFound(lateConfirm.probe, result, `a SESSION_CONFIRM ${past} ms after HANDSHAKE_INIT (its CHALLENGE_RESPONSE in time), past handshake_timeout_ms ${timeout}`);
        })(),
        // The neighbour: well inside the timeout, the handshake completes.
        (async () => {
          const half = Math.floor(timeout / 2);
          const result = await stepAt(inTime.probe, inTime.http, inTimeStarted, half, () => inTime.probe.sendHandshake(inTime.probe.buildChallengeResponse()), ["SESSION_ESTABLISHED"]);
          ctx.check(result.answer.envelope.type === "SESSION_ESTABLISHED", `SESSION_ESTABLISHED for a CHALLENGE_RESPONSE ${half} ms after HANDSHAKE_INIT, within handshake_timeout_ms ${timeout}`, `ERROR ${String(ProbePeer.payloadOf(result.answer).code)} (HTTP ${result.status})`);
          inTime.probe.acceptEstablished(result.answer.envelope);
          inTime.probe.sendConfirm();
          await inTime.probe.receiveReady();
        })(),
      ]);
    },
  },
  {
    id: "sequence-property",
    title: "Any order of the six handshake steps, or any one fault in them, ends in a session whose keys work or in the registry's error for it, never in a session after a rejected step",
    requirements: ["PP-HS-001", "PP-HS-004", "PP-HS-006", "PP-HS-007", "PP-HS-008", "PP-HS-009", "PP-HS-014", "PP-HS-015", "PP-KS-001", "PP-KS-004", "PP-KS-008", "PP-KS-014", "PP-KS-015", "PP-KS-017", "PP-VER-001", "PP-VER-003", "PP-VER-004", "PP-VER-009", "PP-ENV-009", "PP-RPL-001", "PP-RPL-002", "PP-ERR-003", "PP-ERR-004"],
    level: "MUST",
    async run(ctx) {
      // Each run is a tour (support.ts): every mutation once, in a generated order and with
      // generated parameters, each on a fresh connection. The steps of a sequence mutation run
      // honestly until the first one the responder's state does not expect; a run without a fault
      // ends with an echo TASK_REQUEST under the derived keys.
      const seen = new Set<string>();
      await ctx.property(handshakeTour(ctx.fc), async (tour) => {
        for (const run of tour) await runHandshakeItem(ctx, run, seen);
      }, { numRuns: toursFor(ctx.runs) });
      for (const line of [...seen].sort()) ctx.note(line);
    },
  },
]);
