/**
 * The probe responder: the server side of the handshake (spec §6) and of records (spec §7.3),
 * written from the spec on @noble (probe/schedule.ts, crypto.ts, wire.ts; DESIGN.md §2: no
 * reference/ protocol logic), so that client-mode conformance can test any client. It answers
 * correctly by default; `fault` breaks exactly one thing (faults.ts) and `runFault` reports what
 * the client did next.
 *
 * ```
 * client (initiator)                                     probe (responder)
 *   | 1 HANDSHAKE_INIT         ->  receiveInit: validate, MixHash          |
 *   | 2 HANDSHAKE_INIT_ACK     <-  sendInitAck: MixHash, DH, MixKey        |
 *   | 3 CHALLENGE_RESPONSE     ->  receiveChallengeResponse: sig_I, fin_I  |
 *   | 4 SESSION_ESTABLISHED    <-  sendEstablished: sig_R, fin_R, TH, keys |
 *   | 5 SESSION_CONFIRM        ->  receiveConfirm: record seq 0, TH        |
 *   | 6 READY                  <-  sendReady: record seq 0                 |
 * ```
 *
 * Every frame is traced both ways; records with a `↳ TYPE seq N plaintext:` (out) or
 * `↳ TYPE seq N decrypted:` (in) line, as the initiator traces them.
 */
import { CaseFailure } from "../failure.ts";
import { fromHex, flipBit, IDENTITY_FORGERY, IDENTITY_POINT, withScalarPlusL } from "../cases/support.ts";
import { aeadOpen, aeadSeal, ed25519PointProblem, ed25519Sign, ed25519SignWithIdentityR, ed25519VerifyStrict, equalBytes, randomBytes, x25519PublicKey, x25519Shared, type Aead, type Bytes } from "../probe/crypto.ts";
import { Inbox } from "../probe/inbox.ts";
import { describeInbound, errorPayloadOf, type Envelope, type Inbound, type ProbeIdentity } from "../probe/peer.ts";
import { binder, finished, finishedKey, initialHandshakeState, initialResumeState, mixHash, mixKey, nonceFor, resumeFinished, sigInput, trafficKeys, type SymmetricState, type TrafficKeys } from "../probe/schedule.ts";
import type { Trace } from "../probe/trace.ts";
import type { InboundData, Transport } from "../probe/transport.ts";
import { b64u, canonical, omit, unb64u } from "../probe/wire.ts";
import { DEFAULT_LIMITS, errorRow, type ProtocolVersion, type Validators } from "../schemas.ts";
import { faultSpec, type FaultStep, type ResponderFault } from "./faults.ts";

/** The identity point, encoded non-canonically: y = p + 1 (PP-KS-013). */
export const NON_CANONICAL_IDENTITY = fromHex("eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");
/** An X25519 point of order 8: the shared secret with any private key is all zero (PP-HS-004). */
export const ORDER_8_X25519 = fromHex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800");
/** Capabilities the responder supports and selects from the client's offer (PP-HS-015). */
export const RESPONDER_CAPABILITIES = ["websocket", "http", "resume", "chunking", "events"];
/** The registry's names (spec §17.3), for a selection the client did not offer. */
const REGISTRY_CAPABILITIES = ["sealed-relay", "message-signatures", "aes-256-gcm", "websocket", "http", "resume", "chunking", "events"];
const DATA_TYPES = new Set(["PEER_MESSAGE", "BROADCAST", "TASK_REQUEST", "TASK_RESPONSE", "CHUNKED_MESSAGE"]);

export interface ResponderOptions {
  /** The server identity (IK_R) and its entity id (`server_id`). */
  identity: ProbeIdentity;
  trace?: Trace;
  label?: string;
  validators?: Validators | null;
  /** How long to wait for one message of the client. */
  stepTimeoutMs?: number;
  capabilities?: string[];
  /** The limits sent in HANDSHAKE_INIT_ACK (PP-CAP-002); DEFAULT_LIMITS by default. */
  limits?: Record<string, number>;
  lifetimeMs?: number;
  /** Once READY: answer PING with PONG (PP-DLV-010), TASK_REQUEST echo (PP-DLV-009), ACK data records. */
  serve?: boolean;
  random?: (n: number) => Bytes;
  now?: () => number;
}

export type ResponderStage = "START" | "SENT_INIT_ACK" | "SENT_ESTABLISHED" | "READY" | "CLOSED";

/** What the client did right after the message that carried a fault (or after READY). */
export type ClientReaction =
  | { kind: "closed"; code: number; reason: string }
  | { kind: "error"; code: string; message: string; closeCode: number | null }
  | { kind: "accepted"; type: string }
  | { kind: "other"; type: string }
  | { kind: "invalid"; reason: string }
  | { kind: "silent"; waitedMs: number };

export interface FaultOutcome {
  fault: ResponderFault | null;
  /** The message that carried the fault. */
  step: FaultStep;
  reaction: ClientReaction;
  /** True when the client went on as if the faulty message were valid. */
  accepted: boolean;
}

export function describeReaction(reaction: ClientReaction): string {
  switch (reaction.kind) {
    case "closed":
      return `closed with code ${reaction.code}${reaction.reason ? ` ("${reaction.reason}")` : ""}`;
    case "error":
      return `sent ERROR ${reaction.code}${reaction.closeCode !== null ? `, then closed with ${reaction.closeCode}` : ""}`;
    case "accepted":
      return `accepted: sent ${reaction.type}`;
    case "other":
      return `sent ${reaction.type}`;
    case "invalid":
      return `sent an invalid frame (${reaction.reason})`;
    case "silent":
      return `nothing within ${reaction.waitedMs} ms`;
  }
}

export class ProbeResponder {
  readonly identity: ProbeIdentity;
  stage: ResponderStage = "START";
  /** Problems of the client seen on the way (schema, numbering, decryption): not thrown. */
  readonly violations: string[] = [];
  readonly history: Inbound[] = [];

  // Handshake state (spec §7.2).
  private sym: SymmetricState = initialHandshakeState();
  private ephemeralPrivate: Bytes | null = null;
  ephemeralPublic: Bytes | null = null;
  private challenge: Bytes | null = null;
  private h2: Bytes | null = null;
  private fkI: Bytes | null = null;
  private fkR: Bytes | null = null;
  private h3: Bytes | null = null;
  th: Bytes | null = null;
  init: Envelope | null = null;
  initAck: Envelope | null = null;
  established: Envelope | null = null;

  // Session state.
  clientId: string | undefined;
  clientIdentity: Bytes | null = null;
  clientEphemeral: Bytes | null = null;
  offeredVersions: string[] = [];
  offeredCapabilities: string[] = [];
  sessionId: string | undefined;
  version: ProtocolVersion = "1.2";
  capabilities: string[] = [];
  keys: TrafficKeys | null = null;
  txSeq = 0;
  private rxNext = 0;
  lastRxSeq = -1;
  /** The highest `ack` of the client's ACK records (spec §9), -1 before any. */
  lastAckFromClient = -1;
  /** Every record this responder sent, as sent. */
  readonly sent: Envelope[] = [];
  private closeInfo: { code: number; reason: string } | null = null;

  private readonly inbox = new Inbox<Inbound>();
  private readonly random: (n: number) => Bytes;
  private readonly now: () => number;
  readonly stepTimeoutMs: number;
  readonly limits: Record<string, number>;

  constructor(
    private readonly transport: Transport,
    private readonly options: ResponderOptions,
  ) {
    this.identity = options.identity;
    this.random = options.random ?? randomBytes;
    this.now = options.now ?? Date.now;
    this.stepTimeoutMs = options.stepTimeoutMs ?? 3000;
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    transport.onMessage((data) => this.onFrame(data));
    transport.onClose((code, reason) => {
      this.closeInfo = { code, reason };
      this.stage = "CLOSED";
      this.trace("in", `<close ${code}${reason ? ` "${reason}"` : ""}>`);
      this.inbox.end({ kind: "close", code, reason, at: this.now() });
    });
  }

  get serverId(): string {
    return this.identity.entityId;
  }

  get closed(): { code: number; reason: string } | null {
    return this.closeInfo;
  }

  get aead(): Aead {
    return this.capabilities.includes("aes-256-gcm") ? "aes-256-gcm" : "chacha20-poly1305";
  }

  private trace(dir: "in" | "out", frame: string): void {
    this.options.trace?.add(dir, frame, this.options.label);
  }

  private violation(message: string): void {
    this.violations.push(message);
  }

  close(code = 1000, reason = ""): void {
    this.transport.close(code, reason);
  }

  sendText(text: string): void {
    this.trace("out", text);
    this.transport.send(text);
  }

  /** Sends one binary frame, which no envelope ever is (PP-TRN-001). */
  sendBinary(bytes: Uint8Array): void {
    this.trace("out", `<binary frame, ${bytes.length} bytes>`);
    this.transport.send(bytes);
  }

  // ---------------------------------------------------------------------------------------------
  // Receiving

  private onFrame(data: InboundData): void {
    const at = this.now();
    if (data.kind === "binary") {
      this.trace("in", `<binary frame, ${data.bytes.length} bytes>`);
      this.violation("the client sent a binary frame; every envelope is one text frame (PP-TRN-001)");
      this.inbox.push({ kind: "invalid", raw: "", reason: "binary frame", at });
      return;
    }
    const raw = data.text;
    this.trace("in", raw);
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      this.violation("the client sent a text frame that is not JSON (PP-TRN-001)");
      this.inbox.push({ kind: "invalid", raw, reason: "not JSON", at });
      return;
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
      this.inbox.push({ kind: "invalid", raw, reason: "not a JSON object", at });
      return;
    }
    const envelope = parsed as Envelope;
    const record = typeof envelope.payload === "string";
    const item: Inbound & { kind: "message" } = { kind: "message", raw, envelope, record, at };
    if (record) this.openInbound(envelope, item);
    this.validate(item);
    if (this.stage === "READY" && item.record && item.inner !== undefined && (this.options.serve ?? true)) this.serveRecord(item);
    this.inbox.push(item);
  }

  /** Opens an inbound record with the i2r key (PP-KS-006, PP-KS-007, PP-KS-011); checks its numbering (PP-KS-005). */
  private openInbound(envelope: Envelope, item: Inbound & { kind: "message" }): void {
    if (!this.keys) {
      this.violation(`the client sent a record (${String(envelope.type)}) before any traffic keys exist`);
      return;
    }
    const seq = envelope.seq;
    if (typeof seq !== "number" || !Number.isSafeInteger(seq) || seq < 0) {
      this.violation(`record ${String(envelope.type)} has no valid seq (PP-KS-005)`);
      return;
    }
    if (seq !== this.rxNext) this.violation(`record ${String(envelope.type)} has seq ${seq}, expected ${this.rxNext} (PP-KS-005)`);
    if (envelope.session_id !== this.sessionId) this.violation(`record ${String(envelope.type)} carries session_id ${String(envelope.session_id)}, not ${this.sessionId} (PP-KS-012)`);
    const sealed = unb64u(envelope.payload);
    const plaintext = sealed ? aeadOpen(this.aead, this.keys.i2rKey, nonceFor(this.keys.i2rIv, seq), sealed, canonical(omit(envelope, "payload", "signature"))) : null;
    if (!plaintext) {
      this.violation(`record ${String(envelope.type)} seq ${seq} does not decrypt under the i2r key (PP-KS-006, PP-KS-007, PP-KS-011)`);
      return;
    }
    this.rxNext = seq + 1;
    this.lastRxSeq = seq;
    if (this.capabilities.includes("message-signatures")) {
      const signature = unb64u(envelope.signature);
      if (!signature || !this.clientIdentity || !ed25519VerifyStrict(this.clientIdentity, sigInput("record signature", canonical(omit(envelope, "signature"))), signature))
        this.violation(`record ${String(envelope.type)} seq ${seq} has no valid record signature (PP-CAP-006)`);
    }
    try {
      item.inner = JSON.parse(Buffer.from(plaintext).toString("utf8"));
    } catch {
      this.violation(`record ${String(envelope.type)} seq ${seq} decrypts to something that is not JSON`);
    }
    this.trace("in", `  ↳ ${String(envelope.type)} seq ${seq} decrypted: ${JSON.stringify(item.inner)}`);
    const ack = (item.inner as { ack?: unknown } | undefined)?.ack;
    if (envelope.type === "ACK" && typeof ack === "number") this.lastAckFromClient = Math.max(this.lastAckFromClient, ack);
  }

  private validate(item: Inbound & { kind: "message" }): void {
    const validators = this.options.validators;
    if (!validators) return;
    const type = String(item.envelope.type);
    const result = validators.validateEnvelope(this.version, item.envelope, { strict: true });
    if (!result.ok) this.violation(`schema violation: ${type} ${result.path || "/"} ${result.error} (PP-ENV-001)`);
    if (item.record && item.inner !== undefined) {
      const inner = validators.validateInnerPayload(this.version, type, item.inner, { strict: true });
      if (!inner.ok) this.violation(`schema violation: ${type} inner payload ${inner.path || "/"} ${inner.error} (PP-ENV-001)`);
    }
  }

  /** PING -> PONG (PP-DLV-010); TASK_REQUEST echo to the server -> TASK_RESPONSE (PP-DLV-009); data -> ACK (spec §9). */
  private serveRecord(item: Inbound & { kind: "message" }): void {
    const type = String(item.envelope.type);
    const inner = item.inner as Record<string, unknown>;
    if (type === "PING" && typeof inner?.ping_id === "string") {
      this.sendRecord("PONG", { ping_id: inner.ping_id });
      return;
    }
    if (!DATA_TYPES.has(type)) return;
    this.sendRecord("ACK", { ack: this.lastRxSeq });
    if (type === "TASK_REQUEST" && item.envelope.recipient_id === this.serverId && inner?.action === "echo")
      this.sendRecord("TASK_RESPONSE", { task_id: inner.task_id, status: "ok", result: inner.params });
  }

  /** The next inbound event, or null after `timeoutMs`. */
  async next(timeoutMs = this.stepTimeoutMs): Promise<Inbound | null> {
    const item = await this.inbox.next(timeoutMs);
    if (item) this.history.push(item);
    return item;
  }

  /** The next message of `type`, skipping ACK, PING and PONG records; anything else fails. */
  async expectMessage(type: string, timeoutMs = this.stepTimeoutMs): Promise<Inbound & { kind: "message" }> {
    const deadline = this.now() + timeoutMs;
    while (true) {
      const item = await this.next(Math.max(1, deadline - this.now()));
      if (item?.kind === "message") {
        if (item.envelope.type === type) return item;
        if (["ACK", "PING", "PONG"].includes(String(item.envelope.type)) && item.record) continue;
      }
      throw new CaseFailure([type], describeInbound(item, timeoutMs));
    }
  }

  /** The next record of `type` (decrypted), skipping ACK, PING and PONG unless asked for. */
  async expectRecord(type: string, timeoutMs?: number): Promise<Inbound & { kind: "message" }> {
    const item = await this.expectMessage(type, timeoutMs);
    if (!item.record || item.inner === undefined) throw new CaseFailure([`${type} as a record that decrypts under the i2r key`], item.record ? "a record that does not decrypt" : "a plaintext envelope");
    return item;
  }

  /** Expects the connection to close (with one of `codes` when given); returns the code. */
  async expectClose(codes?: number | number[], timeoutMs = this.stepTimeoutMs): Promise<number> {
    const wanted = codes === undefined ? null : typeof codes === "number" ? [codes] : codes;
    const item = await this.next(timeoutMs);
    if (item?.kind === "close" && (!wanted || wanted.includes(item.code))) return item.code;
    throw new CaseFailure([`close with code ${wanted ? wanted.join(" or ") : "any"}`], describeInbound(item, timeoutMs));
  }

  // ---------------------------------------------------------------------------------------------
  // Handshake

  private plaintextEnvelope(type: string, payload: Record<string, unknown>, version: string = this.version): Envelope {
    const envelope: Envelope = { message_id: `m${b64u(this.random(12))}`, type, version, timestamp: this.now(), session_id: this.sessionId, sender_id: this.serverId };
    if (this.clientId) envelope.recipient_id = this.clientId;
    envelope.nonce = b64u(this.random(32)); // PP-ENV-010
    envelope.payload = payload;
    return envelope;
  }

  /** Step 1: a HANDSHAKE_INIT with a 1.2 offer (PP-VER-002, PP-VER-011), 32-byte keys and nonce (PP-HS-002), a valid IK_I (PP-HS-006). */
  async receiveInit(timeoutMs?: number): Promise<Envelope> {
    const item = await this.expectMessage("HANDSHAKE_INIT", timeoutMs);
    const init = item.envelope;
    const payload = (init.payload ?? {}) as Record<string, unknown>;
    const ephemeral = unb64u(payload.ephemeral_key);
    const identity = unb64u(payload.identity_key);
    if (!ephemeral || ephemeral.length !== 32 || !identity || identity.length !== 32) throw new CaseFailure(["HANDSHAKE_INIT with 32-byte ephemeral_key and identity_key (spec §6.1)"], JSON.stringify(payload));
    const problem = ed25519PointProblem(identity);
    if (problem) this.violation(`the client's identity key is ${problem} (PP-HS-006)`);
    const nonce = unb64u(init.nonce);
    if (!nonce || nonce.length !== 32) this.violation("HANDSHAKE_INIT nonce is not 32 bytes (PP-HS-002)");
    if (init.version !== "1.2") this.violation(`HANDSHAKE_INIT envelope version ${String(init.version)}, not "1.2" (PP-VER-011)`);
    this.offeredVersions = Array.isArray(payload.versions) ? payload.versions.map(String) : init.version === "1.1" ? ["1.1"] : [];
    if (!this.offeredVersions.includes("1.2")) throw new CaseFailure(['a HANDSHAKE_INIT offering "1.2" (PP-VER-002)'], JSON.stringify(payload.versions));
    this.offeredCapabilities = Array.isArray(payload.capabilities) ? payload.capabilities.map(String) : [];
    this.clientId = typeof init.sender_id === "string" ? init.sender_id : undefined;
    this.clientIdentity = identity;
    this.clientEphemeral = ephemeral;
    this.sym = initialHandshakeState();
    mixHash(this.sym, init); // PP-KS-001: as received
    this.init = init;
    return init;
  }

  /** Step 2: fresh ephemeral and challenge (PP-HS-003), session id of 128 random bits (PP-HS-012); MixHash, DH, MixKey. */
  sendInitAck(fault?: ResponderFault): Envelope {
    if (!this.init || !this.clientEphemeral) throw new Error("sendInitAck before receiveInit");
    this.sessionId = `sess_${b64u(this.random(16))}`;
    this.ephemeralPrivate = this.random(32);
    this.ephemeralPublic = x25519PublicKey(this.ephemeralPrivate);
    let dh = x25519Shared(this.ephemeralPrivate, this.clientEphemeral);
    if (fault === "ephemeral-small-order") {
      this.ephemeralPublic = ORDER_8_X25519;
      dh = new Uint8Array(32); // what a client that does not check computes
    } else if (fault === "ephemeral-reflected") {
      this.ephemeralPublic = this.clientEphemeral;
      dh = this.random(32); // unknowable without the client's private key
    }
    if (!dh) throw new CaseFailure(["a client ephemeral key giving a non-zero X25519 shared secret (PP-HS-004)"], "an all-zero shared secret");
    this.challenge = this.random(32);
    const identityKey = fault === "identity-key-small-order" ? IDENTITY_POINT : fault === "identity-key-non-canonical" ? NON_CANONICAL_IDENTITY : this.identity.publicKey;
    const supported = this.options.capabilities ?? RESPONDER_CAPABILITIES;
    let selected = supported.filter((c) => this.offeredCapabilities.includes(c)); // PP-HS-015
    let version = "1.2";
    const payload: Record<string, unknown> = {};
    if (fault === "version-not-offered") {
      // A schema-valid v1.1 answer (PP-VER-005 form: no capabilities, no limits) to a 1.2-only offer.
      version = "1.1";
      selected = [];
      Object.assign(payload, { version_selected: "1.1", ephemeral_key: b64u(this.ephemeralPublic), identity_key: b64u(identityKey), challenge: b64u(this.challenge) });
    } else {
      if (fault === "capability-not-offered") {
        const extra = REGISTRY_CAPABILITIES.find((c) => !this.offeredCapabilities.includes(c));
        if (!extra) throw new Error("the client offered every registry capability: no unoffered one to select");
        selected = [...selected, extra];
      }
      Object.assign(payload, { version_selected: "1.2", ephemeral_key: b64u(this.ephemeralPublic), identity_key: b64u(identityKey), challenge: b64u(this.challenge), capabilities: selected, limits: this.limits });
    }
    this.version = version as ProtocolVersion;
    this.capabilities = selected;
    const ack = this.plaintextEnvelope("HANDSHAKE_INIT_ACK", payload, version);
    mixHash(this.sym, ack);
    this.h2 = this.sym.h;
    const hs = mixKey(this.sym, dh);
    this.fkI = finishedKey(hs, "i", this.h2);
    this.fkR = finishedKey(hs, "r", this.h2);
    this.initAck = ack;
    this.stage = "SENT_INIT_ACK";
    this.sendText(JSON.stringify(ack));
    return ack;
  }

  /** Step 3: session_id of this connection (PP-HS-020), sig_I strict (PP-HS-007), fin_I (PP-HS-008). */
  async receiveChallengeResponse(timeoutMs?: number): Promise<Envelope> {
    const item = await this.expectMessage("CHALLENGE_RESPONSE", timeoutMs);
    const envelope = item.envelope;
    if (!this.h2 || !this.fkI || !this.challenge || !this.clientIdentity) throw new Error("receiveChallengeResponse before sendInitAck");
    if (envelope.session_id !== this.sessionId) throw new CaseFailure([`CHALLENGE_RESPONSE with session_id ${this.sessionId} (PP-HS-020)`], JSON.stringify(envelope.session_id));
    const payload = (envelope.payload ?? {}) as Record<string, unknown>;
    const signature = unb64u(payload.signature);
    if (!signature || !ed25519VerifyStrict(this.clientIdentity, sigInput("initiator signature", this.h2, this.challenge), signature))
      throw new CaseFailure(['sig_I over SigInput("initiator signature", h2, challenge) verifying strictly under IK_I (PP-HS-007, PP-KS-004)'], "a signature that does not verify");
    const fin = unb64u(payload.finished);
    if (!fin || !equalBytes(fin, finished(this.fkI, this.h2))) throw new CaseFailure(["fin_I = HMAC(fk_I, h2) (PP-HS-008)"], "a Finished MAC that differs");
    mixHash(this.sym, envelope);
    this.h3 = this.sym.h;
    return envelope;
  }

  /** Step 4: sig_R over h3 with IK_R (PP-HS-016), fin_R; MixHash -> TH; traffic keys (spec §7.2). */
  sendEstablished(fault?: ResponderFault): Envelope {
    if (!this.h3 || !this.fkR || !this.sessionId) throw new Error("sendEstablished before receiveChallengeResponse");
    let signature = ed25519Sign(this.identity.seed, sigInput("responder signature", this.h3));
    if (fault === "identity-key-small-order" || fault === "identity-key-non-canonical") signature = IDENTITY_FORGERY;
    if (fault === "responder-signature-bit-flip") signature = flipBit(signature, 77);
    if (fault === "signature-scalar-plus-l") signature = withScalarPlusL(signature);
    if (fault === "signature-r-small-order") signature = ed25519SignWithIdentityR(this.identity.seed, sigInput("responder signature", this.h3), IDENTITY_POINT);
    if (fault === "signature-r-non-canonical") signature = ed25519SignWithIdentityR(this.identity.seed, sigInput("responder signature", this.h3), NON_CANONICAL_IDENTITY);
    let fin = finished(this.fkR, this.h3);
    if (fault === "responder-finished-wrong") fin = flipBit(fin, 5);
    const sessionId = fault === "established-session-id-mismatch" ? `sess_${b64u(this.random(16))}` : this.sessionId;
    const established = this.plaintextEnvelope("SESSION_ESTABLISHED", { session_id: sessionId, lifetime_ms: this.options.lifetimeMs ?? this.limits.session_lifetime_ms, signature: b64u(signature), finished: b64u(fin) });
    mixHash(this.sym, established);
    this.th = this.sym.h;
    this.keys = trafficKeys(this.sym.ck, this.th);
    this.ephemeralPrivate = null; // PP-KS-003
    this.txSeq = 0;
    this.rxNext = 0;
    this.lastRxSeq = -1;
    this.established = established;
    this.stage = "SENT_ESTABLISHED";
    this.sendText(JSON.stringify(established));
    return established;
  }

  /** Step 5: SESSION_CONFIRM, record seq 0 under the i2r keys, carrying TH (PP-HS-019). */
  async receiveConfirm(timeoutMs?: number): Promise<Envelope> {
    const item = await this.expectRecord("SESSION_CONFIRM", timeoutMs);
    const hash = (item.inner as { handshake_hash?: unknown }).handshake_hash;
    if (!this.th || hash !== b64u(this.th)) throw new CaseFailure([`SESSION_CONFIRM with handshake_hash ${this.th ? b64u(this.th) : "?"} (PP-HS-019)`], `handshake_hash ${JSON.stringify(hash)}`);
    if (item.envelope.seq !== 0) throw new CaseFailure(["SESSION_CONFIRM with seq 0 (PP-KS-005)"], `seq ${String(item.envelope.seq)}`);
    return item.envelope;
  }

  /** Step 6: READY, record seq 0 under the r2i keys, carrying TH. */
  sendReady(fault?: ResponderFault): Envelope {
    if (!this.th) throw new Error("sendReady before sendEstablished");
    const hash = fault === "ready-wrong-handshake-hash" ? flipBit(this.th, 3) : this.th;
    const envelope = this.sendRecord("READY", { handshake_hash: b64u(hash) });
    this.stage = "READY";
    return envelope;
  }

  /** The honest handshake, all six steps. */
  async handshake(): Promise<void> {
    await this.receiveInit();
    this.sendInitAck();
    await this.receiveChallengeResponse();
    this.sendEstablished();
    await this.receiveConfirm();
    this.sendReady();
  }

  /**
   * Runs the responder handshake with `fault` (none when null) up to the message that carries it,
   * and reports what the client did next. After READY (the honest run, or the READY fault), any
   * record of the client counts as acceptance; give the client a short `ping_interval_ms` in the
   * limits so that an idle client shows it with a PING.
   */
  async runFault(fault: ResponderFault | null, options: { reactionTimeoutMs?: number } = {}): Promise<FaultOutcome> {
    const step: FaultStep = fault ? faultSpec(fault).step : "READY";
    const timeoutMs = options.reactionTimeoutMs ?? this.stepTimeoutMs;
    await this.receiveInit();
    this.sendInitAck(fault ?? undefined);
    if (step === "HANDSHAKE_INIT_ACK") return this.outcome(fault, step, await this.reaction((t) => t === "CHALLENGE_RESPONSE", timeoutMs));
    await this.receiveChallengeResponse();
    this.sendEstablished(fault ?? undefined);
    if (step === "SESSION_ESTABLISHED") return this.outcome(fault, step, await this.reaction((t) => t === "SESSION_CONFIRM", timeoutMs));
    await this.receiveConfirm();
    this.sendReady(fault ?? undefined);
    return this.outcome(fault, step, await this.reaction((_t, record) => record, timeoutMs));
  }

  private outcome(fault: ResponderFault | null, step: FaultStep, reaction: ClientReaction): FaultOutcome {
    return { fault, step, reaction, accepted: reaction.kind === "accepted" };
  }

  /** Reads the client's next event and classifies it; an ERROR is followed to its close, if any. */
  async reaction(accepts: (type: string, record: boolean) => boolean, timeoutMs = this.stepTimeoutMs): Promise<ClientReaction> {
    const item = await this.next(timeoutMs);
    if (item === null) return { kind: "silent", waitedMs: timeoutMs };
    if (item.kind === "close") return { kind: "closed", code: item.code, reason: item.reason };
    if (item.kind === "invalid") return { kind: "invalid", reason: item.reason };
    const type = String(item.envelope.type);
    if (type === "ERROR") {
      const payload = errorPayloadOf(item) ?? {};
      const after = await this.next(500);
      return { kind: "error", code: String(payload.code), message: String(payload.message ?? ""), closeCode: after?.kind === "close" ? after.code : null };
    }
    return accepts(type, item.record) ? { kind: "accepted", type } : { kind: "other", type };
  }

  // ---------------------------------------------------------------------------------------------
  // Records (spec §7.3)

  /** Seals one record under the r2i keys with the next seq (PP-KS-005, PP-KS-006, PP-KS-007). */
  sealRecord(type: string, inner: unknown, overrides: { seq?: number; envelope?: Record<string, unknown> } = {}): { envelope: Envelope; text: string; plaintext: Bytes } {
    if (!this.keys || !this.sessionId) throw new Error("sealRecord needs traffic keys: run the handshake first");
    const seq = overrides.seq ?? this.txSeq++;
    let header: Envelope = { message_id: `m${b64u(this.random(12))}`, type, version: this.version, timestamp: this.now(), seq, session_id: this.sessionId, sender_id: this.serverId };
    if (this.clientId) header.recipient_id = this.clientId;
    if (overrides.envelope) header = { ...header, ...overrides.envelope };
    const plaintext = canonical(inner);
    const sealed = aeadSeal(this.aead, this.keys.r2iKey, nonceFor(this.keys.r2iIv, seq), plaintext, canonical(omit(header, "payload", "signature")));
    const envelope: Envelope = { ...header, payload: b64u(sealed) };
    if (this.capabilities.includes("message-signatures")) envelope.signature = b64u(ed25519Sign(this.identity.seed, sigInput("record signature", canonical(omit(envelope, "signature"))))); // PP-CAP-006
    return { envelope, text: JSON.stringify(envelope), plaintext };
  }

  /** Seals and sends one record; returns the envelope sent. */
  sendRecord(type: string, inner: unknown, overrides: { seq?: number; envelope?: Record<string, unknown> } = {}): Envelope {
    const { envelope, text, plaintext } = this.sealRecord(type, inner, overrides);
    this.trace("out", `${text}\n  ↳ ${type} seq ${String(envelope.seq)} plaintext: ${Buffer.from(plaintext).toString("utf8")}`);
    this.transport.send(text);
    this.sent.push(envelope);
    return envelope;
  }

  // ---------------------------------------------------------------------------------------------
  // Resume (spec §8)
  //
  //   client (initiator)                                     probe (responder)
  //     | SESSION_RESUME {session_id, e_I', last_rx_seq, binder} ->  receiveResume: h1, binder under rs
  //     | SESSION_RESUME_ACK {status READY, e_R', last_rx_seq, finished} <-  sendResumeAck: h2, MixKey, keys

  private resumeSym: SymmetricState | null = null;
  /** The SESSION_RESUME this connection opened with, as received. */
  resumeRequest: Envelope | null = null;

  /** What a server keeps of this connection's session for a resume on a later connection (spec §8). */
  heldSession(lastRxSeq = this.lastRxSeq): HeldSession {
    if (!this.keys || !this.sessionId) throw new Error("heldSession needs a session: run the handshake or a resume first");
    return { sessionId: this.sessionId, clientId: this.clientId, clientIdentity: this.clientIdentity, version: this.version, capabilities: [...this.capabilities], resumptionSecret: this.keys.resumptionSecret, lastRxSeq };
  }

  /**
   * Resume step 1: the first frame of this connection must be SESSION_RESUME (PP-SES-001); its
   * binder is HMAC(Expand(rs, "res binder"), h1) over the message without `binder`. Returns the
   * request and whether the binder verifies under the held session's rs; the case decides.
   */
  async receiveResume(session: HeldSession, timeoutMs = this.stepTimeoutMs): Promise<{ envelope: Envelope; payload: Record<string, unknown>; binderValid: boolean }> {
    const item = await this.next(timeoutMs);
    if (item?.kind !== "message" || item.envelope.type !== "SESSION_RESUME") throw new CaseFailure(["SESSION_RESUME as the first frame of a connection opened with session_id (PP-SES-001)"], describeInbound(item, timeoutMs));
    const envelope = item.envelope;
    const payload = (envelope.payload && typeof envelope.payload === "object" ? envelope.payload : {}) as Record<string, unknown>;
    this.sessionId = session.sessionId;
    this.clientId = session.clientId;
    this.clientIdentity = session.clientIdentity;
    this.version = session.version;
    this.capabilities = [...session.capabilities];
    this.resumeRequest = envelope;
    this.resumeSym = initialResumeState(session.resumptionSecret);
    mixHash(this.resumeSym, { ...envelope, payload: omit(payload, "binder") });
    this.clientEphemeral = unb64u(payload.ephemeral_key);
    return { envelope, payload, binderValid: this.binderVerifiesUnder(session.resumptionSecret) };
  }

  /** Whether the binder of the SESSION_RESUME received verifies under `rs` (PP-SES-007: under the newest rs only). */
  binderVerifiesUnder(rs: Bytes): boolean {
    const envelope = this.resumeRequest;
    if (!envelope) return false;
    const payload = envelope.payload as Record<string, unknown>;
    const sym = initialResumeState(rs);
    mixHash(sym, { ...envelope, payload: omit(payload, "binder") });
    const received = unb64u(payload.binder);
    return received !== null && equalBytes(received, binder(rs, sym.h));
  }

  /**
   * Resume step 2. READY: a fresh e_R', h2 over the answer without `finished`, ck = rs, MixKey(dh),
   * finished = HMAC(Expand(k, "res finished", h2), h2); the traffic keys and the next rs as in
   * §7.2 with TH = h2; record numbers restart at 0 both ways (PP-SES-008). `fault` flips one bit
   * of `finished` (PP-SES-009). The other statuses carry nothing else (ERROR its `error`), and the
   * connection stays open for a new handshake (PP-SES-019).
   */
  sendResumeAck(answer: { status: "READY"; lastRxSeq: number; fault?: "finished-bit-flip" } | { status: "EXPIRED" | "NOT_FOUND" } | { status: "ERROR"; code: string; message: string }): Envelope {
    if (!this.resumeRequest || !this.resumeSym) throw new Error("sendResumeAck before receiveResume");
    const sym = this.resumeSym;
    this.resumeSym = null;
    if (answer.status !== "READY") {
      const payload: Record<string, unknown> = { status: answer.status };
      if (answer.status === "ERROR") payload.error = { code: answer.code, message: answer.message, retryable: errorRow(answer.code)?.retryable ?? false, related_message_id: this.resumeRequest.message_id };
      const refusal = this.plaintextEnvelope("SESSION_RESUME_ACK", payload);
      this.sendText(JSON.stringify(refusal));
      return refusal;
    }
    if (!this.clientEphemeral || this.clientEphemeral.length !== 32) throw new CaseFailure(["SESSION_RESUME with a 32-byte ephemeral_key (spec §8)"], JSON.stringify((this.resumeRequest.payload as Record<string, unknown>).ephemeral_key));
    const ephemeralPrivate = this.random(32);
    const payload: Record<string, unknown> = { status: "READY", ephemeral_key: b64u(x25519PublicKey(ephemeralPrivate)), last_rx_seq: answer.lastRxSeq };
    const ack = this.plaintextEnvelope("SESSION_RESUME_ACK", payload);
    mixHash(sym, ack);
    const h2 = sym.h;
    const dh = x25519Shared(ephemeralPrivate, this.clientEphemeral);
    if (!dh) throw new CaseFailure(["a SESSION_RESUME ephemeral_key giving a non-zero X25519 shared secret (PP-KS-017)"], "an all-zero shared secret");
    const k = mixKey(sym, dh);
    let fin = resumeFinished(k, h2);
    if (answer.fault === "finished-bit-flip") fin = flipBit(fin, 5);
    payload.finished = b64u(fin);
    this.keys = trafficKeys(sym.ck, h2);
    this.th = h2;
    this.txSeq = 0;
    this.rxNext = 0;
    this.lastRxSeq = -1;
    this.stage = "READY";
    this.sendText(JSON.stringify(ack));
    return ack;
  }
}

/** What a server keeps of a session between its connections (spec §8), enough to resume it. */
export interface HeldSession {
  sessionId: string;
  clientId: string | undefined;
  clientIdentity: Bytes | null;
  version: ProtocolVersion;
  capabilities: string[];
  /** The resumption secret of the key epoch that ended (PP-SES-007: replaced by each resume). */
  resumptionSecret: Bytes;
  /** The highest seq received from the client, contiguously, in that key epoch (PP-SES-021). */
  lastRxSeq: number;
}
