/**
 * The probe peer: an initiator written from the spec (§5 to §8) that a case drives step by step.
 * It speaks the protocol correctly by default and lets a case break any step: every handshake
 * message can be mutated before it is sent, records can carry any `seq`, key, header or
 * ciphertext, and raw text or bytes of any size can be sent.
 *
 * ```
 * probe (initiator)                                         target (responder)
 *   | 1 HANDSHAKE_INIT        buildInit / sendHandshake        ->  |
 *   | 2 HANDSHAKE_INIT_ACK    receiveInitAck: MixHash, DH, MixKey  |
 *   | 3 CHALLENGE_RESPONSE    buildChallengeResponse            -> |
 *   | 4 SESSION_ESTABLISHED   receiveEstablished: verify, TH, keys |
 *   | 5 SESSION_CONFIRM       sendConfirm (record seq 0)        -> |
 *   | 6 READY                 receiveReady (record seq 0)          |
 * ```
 *
 * Everything the target emits is checked as it arrives (schema of the negotiated version, strict:
 * PP-ENV-001; record numbering PP-KS-005; the ERROR registry PP-ERR-001/002; no secrets in
 * ERROR.message PP-ERR-008). Problems are reported through `onViolation` and fail the case at its
 * end, so a case cannot pass while the target emits malformed messages.
 */
import { CaseFailure } from "../failure.ts";
import { errorRow, type ProtocolVersion, type Validators } from "../schemas.ts";
import { aeadOpen, aeadSeal, ed25519PointProblem, ed25519PublicKey, ed25519Sign, ed25519VerifyStrict, equalBytes, randomBytes, x25519PublicKey, x25519Shared, type Aead, type Bytes } from "./crypto.ts";
import { Inbox } from "./inbox.ts";
import { binder, finished, finishedKey, initialHandshakeState, initialResumeState, mixHash, mixKey, nonceFor, resumeFinished, sigInput, trafficKeys, type SymmetricState, type TrafficKeys } from "./schedule.ts";
import type { Trace } from "./trace.ts";
import type { InboundData, Transport } from "./transport.ts";
import { b64u, canonical, omit, unb64u } from "./wire.ts";

export type Envelope = Record<string, unknown>;

export type Inbound =
  | { kind: "message"; raw: string; envelope: Envelope; record: boolean; inner?: unknown; at: number }
  | { kind: "invalid"; raw: string; reason: string; at: number }
  | { kind: "close"; code: number; reason: string; at: number };

export interface ProbeIdentity {
  seed: Bytes;
  publicKey: Bytes;
  entityId: string;
}

export function identityFromSeed(seed: Bytes, entityId?: string): ProbeIdentity {
  const publicKey = ed25519PublicKey(seed);
  return { seed, publicKey, entityId: entityId ?? `probe-${Buffer.from(publicKey.subarray(0, 8)).toString("hex")}` };
}

export interface ProbeOptions {
  identity: ProbeIdentity;
  /** The target's entity id (discovery `server_id`); learnt from HANDSHAKE_INIT_ACK when absent. */
  serverId?: string;
  validators?: Validators | null;
  trace?: Trace;
  /** Prefix of this probe's trace entries when a case drives several. */
  label?: string;
  onViolation?: (message: string) => void;
  /** How long to wait for one answer of the target. */
  stepTimeoutMs?: number;
  /** Answer PING records with PONG (PP-DLV-010) while waiting for something else. */
  autoPong?: boolean;
  /** Injectable for exact reproduction of the spec vectors in tests. */
  random?: (n: number) => Bytes;
  now?: () => number;
  messageId?: () => string;
}

/** What a case needs to craft its own handshake step 3. */
export interface HandshakeSecrets {
  h2: Bytes;
  challenge: Bytes;
  dh: Bytes;
  hs: Bytes;
  fkI: Bytes;
  fkR: Bytes;
}

export interface InitOptions {
  versions?: string[] | null;
  capabilities?: string[] | null;
  version?: string;
  /** Override the identity key sent (e.g. a small-order point). */
  identityKey?: Bytes;
  /** A fixed ephemeral: the public key to send and, when the DH result is known, that result. */
  ephemeral?: { privateKey?: Bytes; publicKey?: Bytes; dh?: Bytes };
  nonce?: Bytes;
  timestamp?: number;
  recipientId?: string | null;
}

export interface ChallengeResponseOptions {
  /** Sign the challenge with this function instead of the probe's identity. */
  sign?: (message: Bytes) => Bytes;
  signature?: Bytes;
  finished?: Bytes;
}

export interface HandshakeOptions extends InitOptions, ChallengeResponseOptions {
  init?: (envelope: Envelope) => Envelope | void;
  challengeResponse?: (envelope: Envelope, secrets: HandshakeSecrets) => Envelope | void;
  confirm?: RecordOverrides & { handshakeHash?: Bytes };
  until?: "INIT_ACK" | "ESTABLISHED" | "READY";
}

export interface RecordOverrides {
  /** The record's seq; by default the next one (the counter does not move when it is given). */
  seq?: number;
  /** Members merged into the header before sealing; `undefined` removes a member. */
  envelope?: Record<string, unknown>;
  /** Mutates the envelope after sealing (changes what the AAD covers). */
  after?: (envelope: Envelope) => Envelope;
  /** Mutates the sealed bytes (ciphertext || tag). */
  ciphertext?: (sealed: Bytes) => Bytes;
  /** Seal these bytes instead of JCS(inner). */
  plaintext?: Bytes;
  /** Seal with this key and IV instead of the i2r ones. */
  keys?: { key: Bytes; iv: Bytes };
  /** Send this exact text instead of JSON.stringify(envelope). */
  text?: (envelope: Envelope) => string;
}

export interface ResumeTicket {
  sessionId: string;
  resumptionSecret: Bytes;
  /** The last seq received from the target in the epoch being resumed. */
  lastRxSeq: number;
  version: ProtocolVersion;
  capabilities: string[];
  serverId: string;
  serverIdentity: Bytes;
}

type Stage = "START" | "SENT_INIT" | "SENT_CHALLENGE_RESPONSE" | "SENT_CONFIRM" | "READY" | "SENT_RESUME" | "CLOSED";

const BACKGROUND_TYPES = new Set(["ACK", "PING", "PONG", "STATUS", "CAPABILITY_EXCHANGE"]);
/** Plaintext envelopes a server sends, which carry a fresh nonce (PP-ENV-010). */
const PLAINTEXT_FROM_SERVER = new Set(["HANDSHAKE_INIT_ACK", "SESSION_ESTABLISHED", "SESSION_RESUME_ACK", "SUBSCRIBED", "UNSUBSCRIBED", "EVENT"]);

export function describeInbound(item: Inbound | null, waitedMs?: number): string {
  if (item === null) return `nothing within ${waitedMs ?? "?"} ms`;
  if (item.kind === "close") return `connection closed with code ${item.code}${item.reason ? ` ("${item.reason}")` : ""}`;
  if (item.kind === "invalid") return `an invalid frame (${item.reason})`;
  const type = String(item.envelope.type);
  if (type === "ERROR") {
    const p = errorPayloadOf(item);
    return `ERROR ${String(p?.code)}${p?.message ? ` ("${String(p.message)}")` : ""}`;
  }
  return type;
}

export function errorPayloadOf(item: Inbound): Record<string, unknown> | null {
  if (item.kind !== "message" || item.envelope.type !== "ERROR") return null;
  const payload = item.record ? item.inner : item.envelope.payload;
  return payload && typeof payload === "object" ? (payload as Record<string, unknown>) : null;
}

export class ProbePeer {
  readonly identity: ProbeIdentity;
  serverId: string | undefined;
  stage: Stage = "START";
  /** Every inbound event consumed by the case, in order. */
  readonly history: Inbound[] = [];

  // Handshake state (spec §7.2).
  private sym: SymmetricState = initialHandshakeState();
  private ephemeralPrivate: Bytes | null = null;
  private ephemeralPublic: Bytes | null = null;
  private fixedDh: Bytes | null = null;
  private secrets: HandshakeSecrets | null = null;
  offeredVersions: string[] = [];
  init: Envelope | null = null;
  initAck: Envelope | null = null;
  established: Envelope | null = null;
  h3: Bytes | null = null;
  th: Bytes | null = null;

  // Session state (spec §7.3, §8).
  sessionId: string | undefined;
  version: ProtocolVersion = "1.2";
  capabilities: string[] = [];
  limits: Record<string, number> = {};
  serverIdentity: Bytes | null = null;
  keys: TrafficKeys | null = null;
  /** The next seq this probe sends. */
  txSeq = 0;
  /** The next seq expected from the target, and the last one received (-1: none). */
  private rxNext = 0;
  lastRxSeq = -1;
  private readonly rxMessageIds = new Map<string, string>();
  private closeInfo: { code: number; reason: string } | null = null;
  /** WebSocket ping control frames received (PP-LIM-004 allows them instead of PING records). */
  wsPings = 0;

  private readonly inbox = new Inbox<Inbound>();
  private readonly random: (n: number) => Bytes;
  private readonly now: () => number;
  private readonly newMessageId: () => string;
  readonly stepTimeoutMs: number;

  constructor(
    private readonly transport: Transport,
    private readonly options: ProbeOptions,
  ) {
    this.identity = options.identity;
    this.serverId = options.serverId;
    this.random = options.random ?? randomBytes;
    this.now = options.now ?? Date.now;
    this.newMessageId = options.messageId ?? (() => `m${b64u(this.random(12))}`);
    this.stepTimeoutMs = options.stepTimeoutMs ?? 3000;
    transport.onMessage((data) => this.onFrame(data));
    transport.onPing?.(() => {
      this.wsPings++;
      this.options.trace?.add("in", "<websocket ping>", this.options.label);
    });
    transport.onClose((code, reason) => {
      this.closeInfo = { code, reason };
      this.stage = "CLOSED";
      this.options.trace?.add("in", `<close ${code}${reason ? ` "${reason}"` : ""}>`, this.options.label);
      this.inbox.end({ kind: "close", code, reason, at: this.now() });
    });
  }

  get isOpen(): boolean {
    return this.closeInfo === null && this.transport.isOpen;
  }

  get closed(): { code: number; reason: string } | null {
    return this.closeInfo;
  }

  get aead(): Aead {
    return this.capabilities.includes("aes-256-gcm") ? "aes-256-gcm" : "chacha20-poly1305";
  }

  /** Secrets the target must never echo in ERROR.message (PP-ERR-008). */
  private secretValues(): Bytes[] {
    const out: Bytes[] = [this.identity.seed];
    if (this.ephemeralPrivate) out.push(this.ephemeralPrivate);
    if (this.secrets) out.push(this.secrets.hs, this.secrets.dh, this.secrets.fkI, this.secrets.fkR);
    if (this.keys) out.push(this.keys.i2rKey, this.keys.r2iKey, this.keys.resumptionSecret);
    return out;
  }

  private violation(message: string): void {
    this.options.onViolation?.(this.options.label ? `[${this.options.label}] ${message}` : message);
  }

  // ---------------------------------------------------------------------------------------------
  // Raw sending

  sendText(text: string): void {
    this.options.trace?.add("out", text, this.options.label);
    this.transport.send(text);
  }

  sendJson(value: unknown): void {
    this.sendText(JSON.stringify(value));
  }

  /** Sends bytes as a binary frame, or as a text frame without UTF-8 checks when `asText`. */
  sendBytes(bytes: Bytes, asText = false): void {
    this.options.trace?.add("out", `<${asText ? "text" : "binary"} frame, ${bytes.length} bytes: ${Buffer.from(bytes.subarray(0, 32)).toString("hex")}${bytes.length > 32 ? "…" : ""}>`, this.options.label);
    this.transport.send(bytes, { asText });
  }

  /** A text frame of exactly `size` bytes holding one JSON object `{"pad":"xxx…"}`. */
  sendFrameOfSize(size: number): void {
    const overhead = '{"pad":""}'.length;
    if (size < overhead) throw new RangeError(`a frame of ${size} bytes cannot hold a JSON object`);
    const text = `{"pad":"${"x".repeat(size - overhead)}"}`;
    this.options.trace?.add("out", text, this.options.label);
    this.transport.send(text);
  }

  close(code = 1000, reason = ""): void {
    this.transport.close(code, reason);
  }

  /** Stops (false) or resumes (true) reading from the socket: a slow consumer. */
  setReading(reading: boolean): void {
    this.options.trace?.add("out", reading ? "<resume reading>" : "<stop reading>", this.options.label);
    this.transport.setReading?.(reading);
  }

  // ---------------------------------------------------------------------------------------------
  // Receiving

  private onFrame(data: InboundData): void {
    const at = this.now();
    if (data.kind === "binary") {
      this.options.trace?.add("in", `<binary frame, ${data.bytes.length} bytes>`, this.options.label);
      this.violation("the target sent a binary frame; every envelope is one text frame (PP-TRN-001)");
      this.inbox.push({ kind: "invalid", raw: "", reason: "binary frame", at });
      return;
    }
    const raw = data.text;
    this.options.trace?.add("in", raw, this.options.label);
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      this.violation("the target sent a text frame that is not JSON (PP-TRN-001)");
      this.inbox.push({ kind: "invalid", raw, reason: "not JSON", at });
      return;
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
      this.violation("the target sent a frame that is not one JSON object (PP-TRN-001)");
      this.inbox.push({ kind: "invalid", raw, reason: "not a JSON object", at });
      return;
    }
    const envelope = parsed as Envelope;
    const record = typeof envelope.payload === "string";
    if (envelope.type === "SESSION_RESUME_ACK" && !record) this.acceptResumeAck(envelope);
    const item: Inbound = { kind: "message", raw, envelope, record, at };
    if (record) this.openInbound(envelope, item);
    this.checkInbound(item);
    if (item.kind === "message" && item.record && envelope.type === "PING" && (this.options.autoPong ?? true) && this.stage === "READY") {
      const pingId = (item.inner as { ping_id?: unknown } | undefined)?.ping_id;
      if (typeof pingId === "string") this.sendRecord("PONG", { ping_id: pingId });
    }
    this.inbox.push(item);
  }

  /** Decrypts an inbound record with the r2i key (PP-KS-006, PP-KS-007, PP-KS-011) and checks its numbering (PP-KS-005). */
  private openInbound(envelope: Envelope, item: Inbound & { kind: "message" }): void {
    if (!this.keys) {
      this.violation(`the target sent a record (${String(envelope.type)}) before any traffic keys exist (PP-HS-009)`);
      return;
    }
    const seq = envelope.seq;
    if (typeof seq !== "number" || !Number.isSafeInteger(seq) || seq < 0) {
      this.violation(`record ${String(envelope.type)} has no valid seq (PP-KS-005)`);
      return;
    }
    if (seq !== this.rxNext) this.violation(`record ${String(envelope.type)} has seq ${seq}, expected ${this.rxNext}: records are numbered from 0, one by one (PP-KS-005)`);
    if (envelope.session_id !== this.sessionId) this.violation(`record ${String(envelope.type)} carries session_id ${String(envelope.session_id)}, not the session's ${this.sessionId} (PP-KS-012)`);
    const sealed = unb64u(envelope.payload);
    const plaintext = sealed ? aeadOpen(this.aead, this.keys.r2iKey, nonceFor(this.keys.r2iIv, seq), sealed, canonical(omit(envelope, "payload", "signature"))) : null;
    if (!plaintext) {
      this.violation(`record ${String(envelope.type)} seq ${seq} does not decrypt under the r2i key with nonce iv XOR seq and AAD JCS(envelope without payload, signature) (PP-KS-006, PP-KS-007, PP-KS-011)`);
      return;
    }
    this.rxNext = seq + 1;
    this.lastRxSeq = seq;
    if (this.capabilities.includes("message-signatures")) {
      // PP-CAP-006: Ed25519(IK_R, SigInput("record signature", JCS(envelope without signature), "")).
      const signature = unb64u(envelope.signature);
      const signed = sigInput("record signature", canonical(omit(envelope, "signature")));
      if (!signature || !this.serverIdentity || !ed25519VerifyStrict(this.serverIdentity, signed, signature)) this.violation(`record ${String(envelope.type)} seq ${seq} has no valid record signature although message-signatures was selected (PP-CAP-006)`);
    } else if (envelope.signature !== undefined) this.violation(`record ${String(envelope.type)} seq ${seq} carries a signature although message-signatures was not selected (PP-CAP-001)`);
    try {
      item.inner = JSON.parse(Buffer.from(plaintext).toString("utf8"));
    } catch {
      this.violation(`record ${String(envelope.type)} seq ${seq} decrypts to something that is not JSON`);
    }
    this.options.trace?.add("in", `  ↳ ${String(envelope.type)} seq ${seq} decrypted: ${JSON.stringify(item.inner)}`, this.options.label);
  }

  private checkInbound(item: Inbound & { kind: "message" }): void {
    const envelope = item.envelope;
    const type = String(envelope.type);
    const version: ProtocolVersion = this.sessionId && this.initAck ? this.version : envelope.version === "1.1" ? "1.1" : "1.2";
    const validators = this.options.validators;
    if (validators) {
      const result = validators.validateEnvelope(version, envelope, { strict: true });
      if (!result.ok) this.violation(`schema violation: ${type} ${result.path || "/"} ${result.error} (PP-ENV-001)`);
      if (item.record && item.inner !== undefined) {
        const inner = validators.validateInnerPayload(version, type, item.inner, { strict: true });
        if (!inner.ok) this.violation(`schema violation: ${type} inner payload ${inner.path || "/"} ${inner.error} (PP-ENV-001)`);
      }
    }
    if (this.stage === "READY" && envelope.version !== this.version) this.violation(`${type} carries version ${String(envelope.version)} in a ${this.version} session (PP-VER-006)`);
    if (!item.record && (PLAINTEXT_FROM_SERVER.has(type) || type === "ERROR")) {
      const nonce = unb64u(envelope.nonce);
      if (!nonce || nonce.length < 16 || nonce.length > 32) this.violation(`plaintext ${type} does not carry a nonce of 16 to 32 bytes (PP-ENV-010)`);
    }
    if (typeof envelope.message_id === "string" && this.stage === "READY") {
      // Unique per sender (PP-ENV-006): routed records keep their sender's message_id, and two
      // senders may choose the same one (PP-DLV-015).
      const key = `${String(envelope.sender_id)}\0${envelope.message_id}`;
      const fingerprint = `${type}:${JSON.stringify(item.record ? item.inner : envelope.payload)}`;
      const previous = this.rxMessageIds.get(key);
      if (previous !== undefined && previous !== fingerprint) this.violation(`${String(envelope.sender_id)} reused message_id ${envelope.message_id} for a different message (PP-ENV-006)`);
      this.rxMessageIds.set(key, fingerprint);
    }
    if (type === "ERROR") {
      const payload = errorPayloadOf(item);
      if (payload) {
        const row = errorRow(String(payload.code));
        if (!row) this.violation(`ERROR code ${String(payload.code)} is not in the error registry (PP-ERR-001)`);
        else if (payload.retryable !== row.retryable) this.violation(`ERROR ${row.code} carries retryable=${String(payload.retryable)}; the registry says ${row.retryable} (PP-ERR-002)`);
        const text = typeof payload.message === "string" ? payload.message : "";
        for (const secret of this.secretValues()) {
          const hex = Buffer.from(secret).toString("hex");
          if (text.includes(b64u(secret)) || text.toLowerCase().includes(hex)) this.violation("ERROR.message contains a key or session secret (PP-ERR-008)");
        }
      }
    }
  }

  /** The next inbound event, or null after `timeoutMs`. */
  async next(timeoutMs = this.stepTimeoutMs): Promise<Inbound | null> {
    const item = await this.inbox.next(timeoutMs);
    if (item) this.history.push(item);
    return item;
  }

  /**
   * The next message for which `accept` holds, skipping background records (ACK, PING, PONG,
   * STATUS, CAPABILITY_EXCHANGE) unless `accept` takes them. Anything else fails the case.
   */
  async expectMessage(accept: string | string[] | ((item: Inbound & { kind: "message" }) => boolean), options: { timeoutMs?: number; describe?: string; skip?: (item: Inbound & { kind: "message" }) => boolean } = {}): Promise<Inbound & { kind: "message" }> {
    const types = typeof accept === "string" ? [accept] : Array.isArray(accept) ? accept : null;
    const test = types ? (item: Inbound & { kind: "message" }) => types.includes(String(item.envelope.type)) : (accept as (item: Inbound & { kind: "message" }) => boolean);
    const expected = options.describe ?? (types ? types.join(" or ") : "a matching message");
    const timeoutMs = options.timeoutMs ?? this.stepTimeoutMs;
    const deadline = this.now() + timeoutMs;
    while (true) {
      const item = await this.next(Math.max(1, deadline - this.now()));
      if (item && item.kind === "message") {
        if (test(item)) return item;
        const skip = options.skip ?? ((m) => BACKGROUND_TYPES.has(String(m.envelope.type)));
        if (skip(item)) continue;
      }
      throw new CaseFailure([expected], describeInbound(item, timeoutMs));
    }
  }

  /** The decoded payload of an inbound message: the inner payload of a record, or the plaintext payload. */
  static payloadOf(item: Inbound & { kind: "message" }): Record<string, unknown> {
    const payload = item.record ? item.inner : item.envelope.payload;
    return payload && typeof payload === "object" ? (payload as Record<string, unknown>) : {};
  }

  /**
   * Expects an `ERROR` with `code` and then the transport behaviour of its registry row: a close
   * with the row's close code (PP-ERR-003), or a connection that keeps serving (PP-ERR-004).
   */
  async expectError(code: string | string[], options: { relatedMessageId?: string; timeoutMs?: number; checkConnection?: boolean } = {}): Promise<Record<string, unknown>> {
    const codes = typeof code === "string" ? [code] : code;
    const item = await this.expectMessage("ERROR", { timeoutMs: options.timeoutMs, describe: codes.map((c) => `ERROR ${c}`).join(" or ") });
    return this.checkError(item, codes, options);
  }

  /** Checks an ERROR already received: its code, related_message_id, and the connection behaviour of its row. */
  async checkError(item: Inbound & { kind: "message" }, code: string | string[], options: { relatedMessageId?: string; checkConnection?: boolean } = {}): Promise<Record<string, unknown>> {
    const codes = typeof code === "string" ? [code] : code;
    const payload = ProbePeer.payloadOf(item);
    if (!codes.includes(String(payload.code))) throw new CaseFailure(codes.map((c) => `ERROR ${c}`), describeInbound(item));
    if (options.relatedMessageId !== undefined && payload.related_message_id !== options.relatedMessageId)
      throw new CaseFailure([`ERROR ${String(payload.code)} with related_message_id ${options.relatedMessageId} (PP-ENV-007)`], `related_message_id ${JSON.stringify(payload.related_message_id)}`);
    if (options.checkConnection ?? true) {
      const row = errorRow(String(payload.code));
      if (row?.connection === "close" && row.close !== null) await this.expectClose(row.close, { afterError: String(payload.code) });
      else if (row?.connection === "open") await this.expectOpen(`after ERROR ${String(payload.code)} the connection stays open (PP-ERR-004)`);
    }
    return payload;
  }

  /**
   * Expects the connection to close with `code` (any code when omitted), skipping background records.
   * `afterError` names the ERROR already received that the close follows (PP-ERR-003). `errorFirst`
   * names the code of an ERROR that may come before the close, once, when the spec lets the
   * endpoint say why it closes or not (PP-LIM-014): it must then carry the registry's `retryable`.
   */
  async expectClose(code?: number | number[], options: { timeoutMs?: number; afterError?: string; errorFirst?: string } = {}): Promise<number> {
    const codes = code === undefined ? null : typeof code === "number" ? [code] : code;
    const timeoutMs = options.timeoutMs ?? this.stepTimeoutMs;
    const deadline = this.now() + timeoutMs;
    const closeText = `close with code ${codes ? codes.join(" or ") : "any"}`;
    const expected = [options.afterError ? `${closeText} after ERROR ${options.afterError} (PP-ERR-003)` : options.errorFirst ? `${closeText}, with or without an ERROR ${options.errorFirst} before it` : closeText];
    let errorSeen = false;
    while (true) {
      const item = await this.next(Math.max(1, deadline - this.now()));
      if (item?.kind === "close") {
        if (codes && !codes.includes(item.code)) throw new CaseFailure(expected, describeInbound(item));
        return item.code;
      }
      if (item?.kind === "message" && BACKGROUND_TYPES.has(String(item.envelope.type))) continue;
      if (item?.kind === "message" && item.envelope.type === "ERROR" && options.errorFirst !== undefined && !errorSeen) {
        const payload = ProbePeer.payloadOf(item);
        const row = errorRow(options.errorFirst);
        if (payload.code !== options.errorFirst || payload.retryable !== row?.retryable) throw new CaseFailure([`${expected[0]}; an ERROR here must be ${options.errorFirst} with retryable ${String(row?.retryable)} (PP-ERR-002)`], describeInbound(item));
        errorSeen = true;
        continue;
      }
      throw new CaseFailure(expected, item === null ? `the connection still open after ${timeoutMs} ms` : describeInbound(item));
    }
  }

  /**
   * Checks the connection still serves: in a session a PING must be answered by its PONG; before
   * one, nothing but background traffic may arrive for a short grace period.
   */
  async expectOpen(what = "the connection stays open", graceMs = 200): Promise<void> {
    if (this.stage === "READY") {
      const pingId = `ping-${b64u(this.random(6))}`;
      this.sendRecord("PING", { ping_id: pingId });
      const item = await this.next(this.stepTimeoutMs);
      if (item?.kind === "message" && item.envelope.type === "PONG" && (item.inner as { ping_id?: unknown } | undefined)?.ping_id === pingId) return;
      if (item?.kind === "message" && BACKGROUND_TYPES.has(String(item.envelope.type))) {
        await this.expectMessage((m) => m.envelope.type === "PONG" && (m.inner as { ping_id?: unknown } | undefined)?.ping_id === pingId, { describe: `PONG ${pingId}: ${what}` });
        return;
      }
      throw new CaseFailure([`PONG ${pingId}: ${what}`], describeInbound(item, this.stepTimeoutMs));
    }
    const item = await this.next(graceMs);
    if (item === null || (item.kind === "message" && BACKGROUND_TYPES.has(String(item.envelope.type)))) return;
    throw new CaseFailure([what], describeInbound(item));
  }

  /** Fails if anything but background records arrives within `ms`. */
  async expectSilence(ms: number, what: string, options: { allow?: (item: Inbound & { kind: "message" }) => boolean } = {}): Promise<void> {
    const deadline = this.now() + ms;
    while (this.now() < deadline) {
      const item = await this.next(Math.max(1, deadline - this.now()));
      if (item === null) return;
      if (item.kind === "message" && (BACKGROUND_TYPES.has(String(item.envelope.type)) || options.allow?.(item))) continue;
      throw new CaseFailure([what], describeInbound(item));
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Envelopes

  /** A plaintext envelope (handshake steps 1 and 3, SESSION_RESUME, events frames) with a fresh nonce (PP-ENV-010). */
  plaintextEnvelope(type: string, payload: Record<string, unknown>, extra: { sessionId?: string; recipientId?: string | null; nonce?: Bytes; timestamp?: number; version?: string } = {}): Envelope {
    const envelope: Envelope = { message_id: this.newMessageId(), type, version: extra.version ?? this.version, timestamp: extra.timestamp ?? this.now() };
    if (extra.sessionId !== undefined) envelope.session_id = extra.sessionId;
    envelope.sender_id = this.identity.entityId;
    const recipient = extra.recipientId === undefined ? this.serverId : extra.recipientId;
    if (recipient) envelope.recipient_id = recipient;
    envelope.nonce = b64u(extra.nonce ?? this.random(32));
    envelope.payload = payload;
    return envelope;
  }

  /** Handshake step 1 (spec §6.1): fresh ephemeral and nonce (PP-HS-002), offered versions and capabilities. */
  buildInit(options: InitOptions = {}): Envelope {
    this.ephemeralPrivate = options.ephemeral?.privateKey ?? this.random(32);
    this.ephemeralPublic = options.ephemeral?.publicKey ?? x25519PublicKey(this.ephemeralPrivate);
    this.fixedDh = options.ephemeral?.dh ?? null;
    const versions = options.versions === undefined ? ["1.2"] : options.versions;
    const capabilities = options.capabilities === undefined ? ["websocket", "http", "resume", "chunking", "events"] : options.capabilities;
    this.offeredVersions = versions ?? [options.version ?? "1.1"];
    const payload: Record<string, unknown> = {};
    if (versions !== null) payload.versions = versions;
    payload.ephemeral_key = b64u(this.ephemeralPublic);
    payload.identity_key = b64u(options.identityKey ?? this.identity.publicKey);
    if (capabilities !== null) payload.capabilities = capabilities;
    return this.plaintextEnvelope("HANDSHAKE_INIT", payload, { nonce: options.nonce, timestamp: options.timestamp, version: options.version ?? "1.2", recipientId: options.recipientId });
  }

  /** Sends a handshake envelope and absorbs it into the transcript as sent (PP-KS-001). */
  sendHandshake(envelope: Envelope, text?: string): void {
    if (envelope.type === "HANDSHAKE_INIT") {
      this.sym = initialHandshakeState();
      this.init = envelope;
      this.stage = "SENT_INIT";
    }
    mixHash(this.sym, envelope);
    if (envelope.type === "CHALLENGE_RESPONSE") {
      this.h3 = this.sym.h;
      this.stage = "SENT_CHALLENGE_RESPONSE";
    }
    this.sendText(text ?? JSON.stringify(envelope));
  }

  /** Handshake step 2: MixHash, DH (PP-HS-004), MixKey, Finished keys (spec §7.2). */
  async receiveInitAck(timeoutMs?: number): Promise<Envelope> {
    const item = await this.expectMessage("HANDSHAKE_INIT_ACK", { timeoutMs });
    this.acceptInitAck(item.envelope);
    return item.envelope;
  }

  acceptInitAck(envelope: Envelope): void {
    const payload = (envelope.payload ?? {}) as Record<string, unknown>;
    const selected = payload.version_selected ?? (envelope.version === "1.1" ? "1.1" : undefined);
    if (typeof selected !== "string" || !this.offeredVersions.includes(selected))
      throw new CaseFailure([`version_selected one of the offered ${JSON.stringify(this.offeredVersions)} (PP-VER-003)`], `version_selected ${JSON.stringify(payload.version_selected)}`);
    this.version = selected as ProtocolVersion;
    this.initAck = envelope;
    if (typeof envelope.session_id !== "string") throw new CaseFailure(["HANDSHAKE_INIT_ACK carrying a session_id (spec §6.1)"], "no session_id");
    this.sessionId = envelope.session_id;
    this.serverId ??= typeof envelope.sender_id === "string" ? envelope.sender_id : undefined;
    this.capabilities = Array.isArray(payload.capabilities) ? payload.capabilities.map(String) : [];
    this.limits = payload.limits && typeof payload.limits === "object" ? (payload.limits as Record<string, number>) : {};
    mixHash(this.sym, envelope);
    const h2 = this.sym.h;
    const peerEphemeral = unb64u(payload.ephemeral_key);
    const serverIdentity = unb64u(payload.identity_key);
    const challenge = unb64u(payload.challenge);
    if (!peerEphemeral || peerEphemeral.length !== 32 || !serverIdentity || serverIdentity.length !== 32 || !challenge || challenge.length !== 32)
      throw new CaseFailure(["HANDSHAKE_INIT_ACK with 32-byte ephemeral_key, identity_key and challenge (spec §6.1)"], JSON.stringify(payload));
    const problem = ed25519PointProblem(serverIdentity);
    if (problem) this.violation(`the target's identity key is ${problem} (PP-KS-013, PP-KS-014)`);
    this.serverIdentity = serverIdentity;
    const dh = this.fixedDh ?? (this.ephemeralPrivate ? x25519Shared(this.ephemeralPrivate, peerEphemeral) : null);
    if (!dh) throw new CaseFailure(["a target ephemeral key giving a non-zero X25519 shared secret (PP-HS-004, PP-KS-017)"], "an all-zero or invalid shared secret");
    const hs = mixKey(this.sym, dh);
    this.secrets = { h2, challenge, dh, hs, fkI: finishedKey(hs, "i", h2), fkR: finishedKey(hs, "r", h2) };
  }

  /** Handshake step 3: sig_I over SigInput("initiator signature", h2, challenge) and fin_I (spec §7.2, PP-KS-004). */
  buildChallengeResponse(options: ChallengeResponseOptions = {}): Envelope {
    const secrets = this.requireSecrets();
    const signed = sigInput("initiator signature", secrets.h2, secrets.challenge);
    const signature = options.signature ?? (options.sign ? options.sign(signed) : ed25519Sign(this.identity.seed, signed));
    const fin = options.finished ?? finished(secrets.fkI, secrets.h2);
    return this.plaintextEnvelope("CHALLENGE_RESPONSE", { signature: b64u(signature), finished: b64u(fin) }, { sessionId: this.sessionId });
  }

  handshakeSecrets(): HandshakeSecrets {
    return this.requireSecrets();
  }

  private requireSecrets(): HandshakeSecrets {
    if (!this.secrets) throw new Error("no HANDSHAKE_INIT_ACK has been accepted yet");
    return this.secrets;
  }

  /** Handshake step 4: verify sig_R strictly with IK_R (PP-HS-007) and fin_R (PP-HS-008); derive traffic keys from TH. */
  async receiveEstablished(timeoutMs?: number): Promise<Envelope> {
    const item = await this.expectMessage("SESSION_ESTABLISHED", { timeoutMs });
    this.acceptEstablished(item.envelope);
    return item.envelope;
  }

  acceptEstablished(envelope: Envelope): void {
    const secrets = this.requireSecrets();
    const payload = (envelope.payload ?? {}) as Record<string, unknown>;
    if (payload.session_id !== this.sessionId) throw new CaseFailure([`SESSION_ESTABLISHED.payload.session_id equal to HANDSHAKE_INIT_ACK's ${this.sessionId}`], JSON.stringify(payload.session_id));
    const h3 = this.h3 ?? this.sym.h;
    const signature = unb64u(payload.signature);
    if (!signature || !this.serverIdentity || !ed25519VerifyStrict(this.serverIdentity, sigInput("responder signature", h3), signature))
      throw new CaseFailure(['a responder signature that verifies strictly over SigInput("responder signature", h3, "") with the INIT_ACK identity key (PP-KS-001, PP-KS-004, PP-HS-007)'], "a signature that does not verify");
    const fin = unb64u(payload.finished);
    if (!fin || !equalBytes(fin, finished(secrets.fkR, h3))) throw new CaseFailure(["fin_R = HMAC(fk_R, h3) (PP-KS-001, PP-KS-002)"], "a Finished MAC that differs");
    this.established = envelope;
    mixHash(this.sym, envelope);
    this.th = this.sym.h;
    this.keys = trafficKeys(this.sym.ck, this.th);
    this.txSeq = 0;
    this.rxNext = 0;
    this.lastRxSeq = -1;
  }

  /** Handshake step 5: SESSION_CONFIRM, record seq 0 under the i2r keys. */
  sendConfirm(overrides: RecordOverrides & { handshakeHash?: Bytes } = {}): Envelope {
    if (!this.th) throw new Error("no SESSION_ESTABLISHED has been accepted yet");
    const envelope = this.sendRecord("SESSION_CONFIRM", { handshake_hash: b64u(overrides.handshakeHash ?? this.th) }, overrides);
    this.stage = "SENT_CONFIRM";
    return envelope;
  }

  /** Handshake step 6: READY, record seq 0 under the r2i keys, carrying TH. */
  async receiveReady(timeoutMs?: number): Promise<Envelope> {
    const item = await this.expectMessage("READY", { timeoutMs });
    const hash = (item.inner as { handshake_hash?: unknown } | undefined)?.handshake_hash;
    if (!this.th || hash !== b64u(this.th)) throw new CaseFailure([`READY with handshake_hash ${this.th ? b64u(this.th) : "?"}`], `handshake_hash ${JSON.stringify(hash)}`);
    this.stage = "READY";
    return item.envelope;
  }

  /** The whole handshake, with a hook at every step a case may want to break. */
  async handshake(options: HandshakeOptions = {}): Promise<void> {
    let init = this.buildInit(options);
    init = options.init?.(init) ?? init;
    this.sendHandshake(init);
    await this.receiveInitAck();
    if (options.until === "INIT_ACK") return;
    let response = this.buildChallengeResponse(options);
    response = options.challengeResponse?.(response, this.requireSecrets()) ?? response;
    this.sendHandshake(response);
    await this.receiveEstablished();
    if (options.until === "ESTABLISHED") return;
    this.sendConfirm(options.confirm ?? {});
    await this.receiveReady();
  }

  // ---------------------------------------------------------------------------------------------
  // Records (spec §7.3)

  /** Seals one record without sending it; `overrides` can break any part of it. Advances txSeq unless `seq` is given. */
  sealRecord(type: string, inner: unknown, overrides: RecordOverrides = {}): { envelope: Envelope; text: string; plaintext: Bytes } {
    if (!this.keys || !this.sessionId) throw new Error("sealRecord needs traffic keys: run the handshake first");
    const seq = overrides.seq ?? this.txSeq++;
    let header: Envelope = { message_id: this.newMessageId(), type, version: this.version, timestamp: this.now(), seq, session_id: this.sessionId, sender_id: this.identity.entityId };
    if (this.serverId) header.recipient_id = this.serverId;
    if (overrides.envelope) {
      header = { ...header, ...overrides.envelope };
      for (const [key, value] of Object.entries(overrides.envelope)) if (value === undefined) delete header[key];
    }
    const keys = overrides.keys ?? { key: this.keys.i2rKey, iv: this.keys.i2rIv };
    const plaintext = overrides.plaintext ?? canonical(inner);
    const recordSeq = typeof header.seq === "number" ? header.seq : seq;
    let sealed = aeadSeal(this.aead, keys.key, nonceFor(keys.iv, recordSeq), plaintext, canonical(omit(header, "payload", "signature")));
    if (overrides.ciphertext) sealed = overrides.ciphertext(sealed);
    let envelope: Envelope = { ...header, payload: b64u(sealed) };
    if (this.capabilities.includes("message-signatures")) {
      // PP-CAP-006: signature over JCS(envelope without signature).
      envelope.signature = b64u(ed25519Sign(this.identity.seed, sigInput("record signature", canonical(omit(envelope, "signature")))));
    }
    if (overrides.after) envelope = overrides.after(envelope);
    return { envelope, text: overrides.text ? overrides.text(envelope) : JSON.stringify(envelope), plaintext };
  }

  /** Seals and sends one record; returns the envelope sent. */
  sendRecord(type: string, inner: unknown, overrides: RecordOverrides = {}): Envelope {
    const { envelope, text, plaintext } = this.sealRecord(type, inner, overrides);
    this.options.trace?.add("out", `${text}\n  ↳ ${type} seq ${String(envelope.seq)} plaintext: ${Buffer.from(plaintext).toString("utf8")}`, this.options.label);
    this.transport.send(text);
    return envelope;
  }

  /** A cumulative ACK of everything received so far (spec §9). */
  ack(upTo = this.lastRxSeq): Envelope {
    return this.sendRecord("ACK", { ack: Math.max(0, upTo) });
  }

  newId(prefix = "t"): string {
    return `${prefix}-${b64u(this.random(9))}`;
  }

  /** TASK_REQUEST echo to the target's own id (PP-DLV-009); returns the request and its TASK_RESPONSE. */
  async echo(params: unknown, options: { timeoutMs?: number; overrides?: RecordOverrides } = {}): Promise<{ request: Envelope; taskId: string; response: Inbound & { kind: "message" } }> {
    const taskId = this.newId("task");
    const request = this.sendRecord("TASK_REQUEST", { task_id: taskId, action: "echo", params }, options.overrides);
    const response = await this.expectMessage((m) => m.envelope.type === "TASK_RESPONSE" && ProbePeer.payloadOf(m).task_id === taskId, {
      timeoutMs: options.timeoutMs,
      describe: `TASK_RESPONSE for task ${taskId}`,
    });
    return { request, taskId, response };
  }

  /** Waits for an ACK covering `seq`. */
  async expectAck(seq: number, timeoutMs?: number): Promise<Inbound & { kind: "message" }> {
    return this.expectMessage((m) => m.envelope.type === "ACK" && typeof ProbePeer.payloadOf(m).ack === "number" && (ProbePeer.payloadOf(m).ack as number) >= seq, {
      timeoutMs,
      describe: `ACK covering seq ${seq}`,
      // Data records (the answer to what is acknowledged) may come first; only an ERROR ends the wait.
      skip: (m) => m.envelope.type !== "ERROR",
    });
  }

  /**
   * After the target rejected record `seq` with an error whose connection stays open, shows that the
   * session still serves (PP-ERR-004). Whether a rejected record used up its seq is not fixed by the
   * spec, so a PING is sent with that seq again: the target answers PONG (seq not used up) or
   * REPLAY_DETECTED, and then the PING with the next seq must be answered. Returns which.
   */
  /**
   * PP-RPL-008: a record refused before it authenticated (wrong version, session_id or envelope)
   * does not use up its seq, so a PING with the same seq must be answered with PONG.
   */
  async expectSeqNotUsedUp(seq: number): Promise<void> {
    const pingId = `ping-${b64u(this.random(6))}`;
    this.sendRecord("PING", { ping_id: pingId }, { seq });
    const answer = await this.expectMessage(["PONG", "ERROR"], { describe: `PONG ${pingId}: the refused record did not use up seq ${seq} (PP-RPL-008)` });
    if (answer.envelope.type !== "PONG") throw new CaseFailure([`PONG ${pingId} for a PING reusing seq ${seq}: a record refused before it authenticated does not use up its seq (PP-RPL-008)`], `ERROR ${String(ProbePeer.payloadOf(answer).code)}`);
    this.txSeq = seq + 1;
  }

  async expectServingAfterRejected(seq: number): Promise<"seq reused" | "seq consumed"> {
    const what = `the session keeps serving after a rejected record (PP-ERR-004)`;
    const pingId = `ping-${b64u(this.random(6))}`;
    this.sendRecord("PING", { ping_id: pingId }, { seq });
    const first = await this.expectMessage(["PONG", "ERROR"], { describe: `PONG ${pingId}, or REPLAY_DETECTED for seq ${seq}: ${what}` });
    if (first.envelope.type === "PONG") {
      this.txSeq = seq + 1;
      return "seq reused";
    }
    await this.checkError(first, "REPLAY_DETECTED", { checkConnection: false });
    this.txSeq = seq + 1;
    await this.expectOpen(what);
    return "seq consumed";
  }

  // ---------------------------------------------------------------------------------------------
  // Resume (spec §8)

  ticket(): ResumeTicket {
    if (!this.keys || !this.sessionId || !this.serverIdentity || !this.serverId) throw new Error("no session to resume");
    return {
      sessionId: this.sessionId,
      resumptionSecret: this.keys.resumptionSecret,
      lastRxSeq: this.lastRxSeq,
      version: this.version,
      capabilities: [...this.capabilities],
      serverId: this.serverId,
      serverIdentity: this.serverIdentity,
    };
  }

  private resumeState: { sym: SymmetricState; ephemeralPrivate: Bytes; rs: Bytes } | null = null;

  /** SESSION_RESUME (spec §8): fresh ephemeral, binder = HMAC(Expand(rs, "res binder"), h1) over the message without binder. */
  buildResume(ticket: ResumeTicket, options: { binder?: Bytes; nonce?: Bytes; lastRxSeq?: number; sessionId?: string } = {}): Envelope {
    this.sessionId = ticket.sessionId;
    this.version = ticket.version;
    this.capabilities = [...ticket.capabilities];
    this.serverId = ticket.serverId;
    this.serverIdentity = ticket.serverIdentity;
    const ephemeralPrivate = this.random(32);
    const sessionId = options.sessionId ?? ticket.sessionId;
    const envelope = this.plaintextEnvelope(
      "SESSION_RESUME",
      { session_id: sessionId, ephemeral_key: b64u(x25519PublicKey(ephemeralPrivate)), last_rx_seq: options.lastRxSeq ?? ticket.lastRxSeq },
      { sessionId, nonce: options.nonce },
    );
    const sym = initialResumeState(ticket.resumptionSecret);
    mixHash(sym, envelope);
    (envelope.payload as Record<string, unknown>).binder = b64u(options.binder ?? binder(ticket.resumptionSecret, sym.h));
    this.resumeState = { sym, ephemeralPrivate, rs: ticket.resumptionSecret };
    return envelope;
  }

  private resumeOutcome: { payload: Record<string, unknown> } | { failure: CaseFailure } | null = null;

  /**
   * SESSION_RESUME_ACK is processed when it arrives, not when the case reads it: the target may
   * re-send records under the new keys right behind it (PP-SES-010).
   */
  private acceptResumeAck(envelope: Envelope): void {
    const state = this.resumeState;
    if (!state) return;
    this.resumeState = null;
    const payload = (envelope.payload && typeof envelope.payload === "object" ? envelope.payload : {}) as Record<string, unknown>;
    if (payload.status !== "READY") {
      this.resumeOutcome = { payload };
      return;
    }
    mixHash(state.sym, { ...envelope, payload: omit(payload, "finished") });
    const h2 = state.sym.h;
    const peerEphemeral = unb64u(payload.ephemeral_key);
    const dh = peerEphemeral ? x25519Shared(state.ephemeralPrivate, peerEphemeral) : null;
    if (!dh) {
      this.resumeOutcome = { failure: new CaseFailure(["SESSION_RESUME_ACK with an ephemeral key giving a non-zero shared secret"], JSON.stringify(payload.ephemeral_key)) };
      return;
    }
    const k = mixKey(state.sym, dh);
    const fin = unb64u(payload.finished);
    if (!fin || !equalBytes(fin, resumeFinished(k, h2))) {
      this.resumeOutcome = { failure: new CaseFailure(['SESSION_RESUME_ACK finished = HMAC(Expand(k, "res finished", h2), h2) (spec §8)'], "a finished MAC that differs") };
      return;
    }
    this.keys = trafficKeys(state.sym.ck, h2);
    this.th = h2;
    this.txSeq = 0;
    this.rxNext = 0;
    this.lastRxSeq = -1;
    this.rxMessageIds.clear();
    this.stage = "READY";
    this.resumeOutcome = { payload };
  }

  /** Reads SESSION_RESUME_ACK; on READY its `finished` was verified and the fresh keys are in use (PP-SES-008). */
  async receiveResumeAck(timeoutMs?: number): Promise<Record<string, unknown>> {
    await this.expectMessage("SESSION_RESUME_ACK", { timeoutMs });
    const outcome = this.resumeOutcome;
    this.resumeOutcome = null;
    if (!outcome) throw new Error("receiveResumeAck before buildResume");
    if ("failure" in outcome) throw outcome.failure;
    return outcome.payload;
  }
}
