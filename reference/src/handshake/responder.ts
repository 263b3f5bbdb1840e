/**
 * The responder side of the six-step handshake (spec §6, state table §6.2). The server is always
 * the responder. Steps 5 and 6 (SESSION_CONFIRM, READY) are records and are handled by the session
 * once `onChallengeResponse` has derived the keys.
 *
 *   Initiator                                   Responder (this file)
 *     | 1 HANDSHAKE_INIT ------------------------>|  START -> SENT_INIT_ACK
 *     |<------------------ 2 HANDSHAKE_INIT_ACK   |
 *     | 3 CHALLENGE_RESPONSE -------------------->|  SENT_INIT_ACK -> SENT_ESTABLISHED
 *     |<----------------- 4 SESSION_ESTABLISHED   |
 *     | 5 SESSION_CONFIRM (record) -------------->|  (session) -> READY
 *     |<------------------------- 6 READY (record)|
 */
import { constantTimeEqual, CryptoError, ed25519KeyProblemCached, ed25519Sign, ed25519VerifyStrict, generateX25519, x25519, type Ed25519Identity, type X25519KeyPair } from "../crypto.ts";
import { fromBase64Url, toBase64Url } from "../encoding.ts";
import { plaintextEnvelope, systemEntropy, type Entropy, type Envelope, type Version } from "../envelope.ts";
import { ProtocolError } from "../errors.ts";
import { finishedKeys, finishedMac, sessionKeys, signatureInput, Transcript } from "../key-schedule.ts";
import type { Limits } from "../limits.ts";
import { aeadFor, type HandshakeResult } from "./result.ts";

export type ResponderState = "START" | "SENT_INIT_ACK" | "SENT_ESTABLISHED" | "CLOSED";

export interface ResponderConfig {
  identity: Ed25519Identity;
  serverId: string;
  /** Versions this endpoint speaks on this transport, most preferred first. */
  versions: Version[];
  capabilities: string[];
  limits: Limits;
  now(): number;
  newSessionId(): string;
  /** True when this INIT nonce was already seen within the clock-skew window (PP-RPL-002). */
  isReplayedNonce(nonce: string, timestamp: number): boolean;
  /** Throws AUTHENTICATION_FAILED when the entity id is bound to another key (PP-AUTH-011). */
  checkIdentity(entityId: string, identityKey: Buffer): void;
  /** The token's subject, when the connection presented one (PP-AUTH-007). */
  tokenSubject?: { entityId: string; identityKey: Buffer };
  ephemeral?: () => X25519KeyPair;
  entropy?: Entropy;
}

interface PendingHandshake {
  transcript: Transcript;
  version: Version;
  capabilities: string[];
  sessionId: string;
  peerId: string;
  peerIdentityKey: Buffer;
  challenge: Buffer;
  fkInitiator: Buffer;
  fkResponder: Buffer;
}

function decodeKey(value: unknown, what: string, messageId: string): Buffer {
  const bytes = typeof value === "string" ? fromBase64Url(value) : null;
  if (!bytes || bytes.length !== 32) throw new ProtocolError("INVALID_MESSAGE", `${what} must be 32 bytes of base64url`, messageId);
  return bytes;
}

export class ResponderHandshake {
  state: ResponderState = "START";
  private pending: PendingHandshake | undefined;

  constructor(private readonly config: ResponderConfig) {}

  get sessionId(): string | undefined {
    return this.pending?.sessionId;
  }

  /** Step 1 -> 2. Returns HANDSHAKE_INIT_ACK. */
  onInit(init: Envelope): Envelope {
    const { config } = this;
    if (this.state !== "START") throw new ProtocolError("INVALID_STATE", `HANDSHAKE_INIT not allowed in state ${this.state}`, init.message_id); // PP-HS-001
    const payload = init.payload as { versions?: string[]; ephemeral_key: string; identity_key: string; capabilities?: string[] };
    // PP-VER-005: a v1.1 INIT has no versions list and offers only "1.1".
    const offered = payload.versions ?? (init.version === "1.1" ? ["1.1"] : []);
    const version = offered.find((v): v is Version => config.versions.includes(v as Version)); // PP-VER-003
    if (!version) {
      const reason = offered.includes("1.1") ? "v1.1 is served on the HTTP binding only" : `none of ${JSON.stringify(offered)} is supported`;
      throw new ProtocolError("VERSION_NOT_SUPPORTED", `${reason}; supported: ${config.versions.join(", ")}`, init.message_id); // PP-VER-004, PP-VER-009
    }
    // PP-RPL-001, PP-RPL-002: a timestamp window and a nonce cache stop replayed INITs.
    const now = config.now();
    if (Math.abs(now - init.timestamp) > config.limits.max_clock_skew_ms) throw new ProtocolError("REPLAY_DETECTED", `HANDSHAKE_INIT timestamp is ${now - init.timestamp} ms from the server clock`, init.message_id);
    if (!init.nonce || config.isReplayedNonce(init.nonce, init.timestamp)) throw new ProtocolError("REPLAY_DETECTED", "HANDSHAKE_INIT nonce was already used", init.message_id);
    const peerEphemeral = decodeKey(payload.ephemeral_key, "ephemeral_key", init.message_id);
    const peerIdentityKey = decodeKey(payload.identity_key, "identity_key", init.message_id);
    const keyProblem = ed25519KeyProblemCached(peerIdentityKey); // PP-HS-006, PP-KS-013, PP-KS-014
    if (keyProblem) throw new ProtocolError("AUTHENTICATION_FAILED", `identity key refused: ${keyProblem}`, init.message_id);
    const subject = config.tokenSubject;
    if (subject && (subject.entityId !== init.sender_id || !subject.identityKey.equals(peerIdentityKey))) throw new ProtocolError("AUTHENTICATION_FAILED", "sender_id or identity key differs from the token's subject", init.message_id); // PP-AUTH-007
    config.checkIdentity(init.sender_id, peerIdentityKey); // PP-AUTH-011

    // PP-HS-015: select only offered capabilities; PP-CAP-005: unknown names are ignored.
    const capabilities = version === "1.1" ? [] : config.capabilities.filter((c) => (payload.capabilities ?? []).includes(c));
    const ephemeral = (config.ephemeral ?? generateX25519)(); // PP-HS-003
    if (constantTimeEqual(ephemeral.publicKey, peerEphemeral)) throw new ProtocolError("AUTHENTICATION_FAILED", "peer ephemeral key equals our own (reflection)", init.message_id); // PP-HS-005
    const entropy = config.entropy ?? systemEntropy;
    const challenge = entropy.bytes(32);
    const sessionId = config.newSessionId(); // PP-HS-012

    const transcript = Transcript.handshake();
    transcript.mixHash(init); // PP-KS-001
    const ackPayload: Record<string, unknown> = {
      version_selected: version,
      ephemeral_key: toBase64Url(ephemeral.publicKey),
      identity_key: toBase64Url(config.identity.publicKey),
      challenge: toBase64Url(challenge),
    };
    if (version === "1.2") {
      ackPayload.capabilities = capabilities;
      ackPayload.limits = { ...config.limits }; // PP-CAP-002
    }
    const ack = plaintextEnvelope({ type: "HANDSHAKE_INIT_ACK", version, sender_id: config.serverId, recipient_id: init.sender_id, session_id: sessionId, timestamp: now, payload: ackPayload, message_id: entropy.messageId(), nonce: entropy.nonce() });
    const h2 = transcript.mixHash(ack);
    let dh: Buffer;
    try {
      dh = x25519(ephemeral.privateKey, peerEphemeral); // PP-HS-004
    } catch (error) {
      if (!(error instanceof CryptoError)) throw error;
      throw new ProtocolError("AUTHENTICATION_FAILED", "X25519 shared secret is all zero", init.message_id);
    }
    const handshakeSecret = transcript.mixKey(dh);
    const fk = finishedKeys(handshakeSecret, h2);
    this.pending = { transcript, version, capabilities, sessionId, peerId: init.sender_id, peerIdentityKey, challenge, fkInitiator: fk.initiator, fkResponder: fk.responder };
    this.state = "SENT_INIT_ACK";
    return ack;
  }

  /** Step 3 -> 4. Returns SESSION_ESTABLISHED and the derived session. */
  onChallengeResponse(response: Envelope): { established: Envelope; result: HandshakeResult } {
    const pending = this.pending;
    if (this.state !== "SENT_INIT_ACK" || !pending) throw new ProtocolError("INVALID_STATE", `CHALLENGE_RESPONSE not allowed in state ${this.state}`, response.message_id); // PP-HS-001
    if (response.session_id !== pending.sessionId) throw new ProtocolError("INVALID_STATE", "CHALLENGE_RESPONSE names another session", response.message_id); // PP-HS-020
    const payload = response.payload as { signature: string; finished: string };
    const signature = fromBase64Url(payload.signature);
    const finished = fromBase64Url(payload.finished);
    const h2 = pending.transcript.h;
    const input = signatureInput("initiator signature", h2, pending.challenge);
    // PP-HS-007: strict Ed25519 over the role-labelled transcript; PP-HS-008: constant-time Finished.
    if (!signature || !ed25519VerifyStrict(pending.peerIdentityKey, input, signature)) {
      this.state = "CLOSED";
      throw new ProtocolError("AUTHENTICATION_FAILED", "initiator signature does not verify", response.message_id);
    }
    if (!finished || !constantTimeEqual(finished, finishedMac(pending.fkInitiator, h2))) {
      this.state = "CLOSED";
      throw new ProtocolError("AUTHENTICATION_FAILED", "initiator Finished MAC does not match", response.message_id);
    }
    const h3 = pending.transcript.mixHash(response);
    const lifetimeMs = this.config.limits.session_lifetime_ms;
    const entropy = this.config.entropy ?? systemEntropy;
    const established = plaintextEnvelope({
      message_id: entropy.messageId(),
      nonce: entropy.nonce(),
      type: "SESSION_ESTABLISHED",
      version: pending.version,
      sender_id: this.config.serverId,
      recipient_id: pending.peerId,
      session_id: pending.sessionId,
      timestamp: this.config.now(),
      payload: {
        session_id: pending.sessionId,
        lifetime_ms: lifetimeMs,
        signature: toBase64Url(ed25519Sign(this.config.identity, signatureInput("responder signature", h3))), // PP-HS-016
        finished: toBase64Url(finishedMac(pending.fkResponder, h3)),
      },
    });
    const th = pending.transcript.mixHash(established);
    const keys = sessionKeys(pending.transcript.ck, th);
    this.state = "SENT_ESTABLISHED";
    this.pending = undefined; // PP-KS-003: drop hs and the Finished keys
    return {
      established,
      result: {
        role: "responder",
        sessionId: pending.sessionId,
        version: pending.version,
        capabilities: pending.capabilities,
        aead: aeadFor(pending.capabilities),
        localId: this.config.serverId,
        peerId: pending.peerId,
        peerIdentityKey: pending.peerIdentityKey,
        keys,
        lifetimeMs,
      },
    };
  }
}
