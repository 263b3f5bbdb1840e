/**
 * The initiator side of the six-step handshake (spec §6), used by the client library.
 *
 *   Initiator (this file)                        Responder
 *     START -> SENT_INIT       | 1 HANDSHAKE_INIT ------------------->|
 *                              |<------------- 2 HANDSHAKE_INIT_ACK   |
 *     -> SENT_CHALLENGE_RESP.  | 3 CHALLENGE_RESPONSE --------------->|
 *                              |<------------ 4 SESSION_ESTABLISHED   |
 *     -> SENT_CONFIRM          | 5 SESSION_CONFIRM (record, session) >|
 *                              |<-------------- 6 READY (record)      |
 */
import { constantTimeEqual, CryptoError, ed25519KeyProblemCached, ed25519Sign, ed25519VerifyStrict, generateX25519, x25519, type Ed25519Identity, type X25519KeyPair } from "../crypto.ts";
import { fromBase64Url, toBase64Url } from "../encoding.ts";
import { plaintextEnvelope, systemEntropy, type Entropy, type Envelope, type Version } from "../envelope.ts";
import { ProtocolError } from "../errors.ts";
import { finishedKeys, finishedMac, sessionKeys, signatureInput, Transcript } from "../key-schedule.ts";
import { aeadFor, type HandshakeResult } from "./result.ts";

export type InitiatorState = "START" | "SENT_INIT" | "SENT_CHALLENGE_RESPONSE" | "DONE";

export interface InitiatorConfig {
  identity: Ed25519Identity;
  entityId: string;
  versions: Version[];
  capabilities: string[];
  now(): number;
  /** Pin the responder's identity key (for example from discovery, PP-TRN-016). */
  expectedResponderKey?: Buffer;
  ephemeral?: () => X25519KeyPair;
  entropy?: Entropy;
  /** The responder's entity id, when known: the `recipient_id` of HANDSHAKE_INIT, and the only `sender_id` accepted in HANDSHAKE_INIT_ACK. */
  responderId?: string;
}

export class InitiatorHandshake {
  state: InitiatorState = "START";
  private readonly transcript = Transcript.handshake();
  private ephemeral: X25519KeyPair | undefined;
  private offered: Version[] = [];
  private sessionId = "";
  private version: Version = "1.2";
  private capabilities: string[] = [];
  private peerId = "";
  private peerIdentityKey: Buffer = Buffer.alloc(0);
  private peerLimits: Record<string, number> | undefined;
  private fkResponder: Buffer = Buffer.alloc(0);

  constructor(private readonly config: InitiatorConfig) {}

  /** Step 1: HANDSHAKE_INIT with a fresh ephemeral key and nonce (PP-HS-002). */
  start(): Envelope {
    const { config } = this;
    if (this.state !== "START") throw new ProtocolError("INVALID_STATE", "handshake already started");
    this.ephemeral = (config.ephemeral ?? generateX25519)();
    this.offered = [...config.versions];
    const v11Only = this.offered.length === 1 && this.offered[0] === "1.1";
    const payload: Record<string, unknown> = { ephemeral_key: toBase64Url(this.ephemeral.publicKey), identity_key: toBase64Url(config.identity.publicKey) };
    if (!v11Only) {
      payload.versions = this.offered; // PP-VER-002
      payload.capabilities = config.capabilities;
    }
    const entropy = config.entropy ?? systemEntropy;
    const fields: Parameters<typeof plaintextEnvelope>[0] = { type: "HANDSHAKE_INIT", version: v11Only ? "1.1" : "1.2", sender_id: config.entityId, timestamp: config.now(), message_id: entropy.messageId(), nonce: toBase64Url(entropy.bytes(32)), payload };
    if (config.responderId !== undefined) fields.recipient_id = config.responderId;
    const init = plaintextEnvelope(fields);
    this.transcript.mixHash(init);
    this.state = "SENT_INIT";
    return init;
  }

  /** Step 2 -> 3: verify the answer's version, keys and DH; return CHALLENGE_RESPONSE. */
  onInitAck(ack: Envelope): Envelope {
    if (this.state !== "SENT_INIT" || !this.ephemeral) throw new ProtocolError("INVALID_STATE", `${ack.type} not expected in state ${this.state}`, ack.message_id); // PP-HS-014
    const payload = ack.payload as { version_selected: Version; ephemeral_key: string; identity_key: string; challenge: string; capabilities?: string[]; limits?: Record<string, number> };
    if (!this.offered.includes(payload.version_selected)) throw new ProtocolError("VERSION_NOT_SUPPORTED", `responder selected ${payload.version_selected}, which was not offered`, ack.message_id); // PP-VER-008
    const peerEphemeral = fromBase64Url(payload.ephemeral_key);
    const identityKey = fromBase64Url(payload.identity_key);
    const challenge = fromBase64Url(payload.challenge);
    if (!peerEphemeral || peerEphemeral.length !== 32 || !identityKey || !challenge || challenge.length !== 32 || !ack.session_id) throw new ProtocolError("INVALID_MESSAGE", "HANDSHAKE_INIT_ACK has malformed keys, challenge or session_id", ack.message_id);
    const keyProblem = ed25519KeyProblemCached(identityKey); // PP-HS-006
    if (keyProblem) throw new ProtocolError("AUTHENTICATION_FAILED", `responder identity key refused: ${keyProblem}`, ack.message_id);
    if (this.config.expectedResponderKey && !this.config.expectedResponderKey.equals(identityKey)) throw new ProtocolError("AUTHENTICATION_FAILED", "responder identity key differs from the pinned key", ack.message_id);
    if (this.config.responderId !== undefined && ack.sender_id !== this.config.responderId) throw new ProtocolError("AUTHENTICATION_FAILED", `responder id ${ack.sender_id} differs from the expected ${this.config.responderId}`, ack.message_id);
    if (constantTimeEqual(peerEphemeral, this.ephemeral.publicKey)) throw new ProtocolError("AUTHENTICATION_FAILED", "responder ephemeral equals ours (reflection)", ack.message_id); // PP-HS-005
    const offeredCapabilities = this.config.capabilities;
    const selected = payload.capabilities ?? [];
    if (selected.some((c) => !offeredCapabilities.includes(c))) throw new ProtocolError("INVALID_STATE", "responder selected a capability that was not offered", ack.message_id); // PP-HS-015
    const h2 = this.transcript.mixHash(ack);
    let dh: Buffer;
    try {
      dh = x25519(this.ephemeral.privateKey, peerEphemeral); // PP-HS-004
    } catch (error) {
      if (error instanceof CryptoError) throw new ProtocolError("AUTHENTICATION_FAILED", "X25519 shared secret is all zero", ack.message_id);
      throw error;
    }
    this.ephemeral = undefined; // PP-KS-003
    const fk = finishedKeys(this.transcript.mixKey(dh), h2);
    this.fkResponder = fk.responder;
    this.sessionId = ack.session_id;
    this.version = payload.version_selected;
    this.capabilities = selected;
    this.peerId = ack.sender_id;
    this.peerIdentityKey = identityKey;
    this.peerLimits = payload.limits;
    const entropy = this.config.entropy ?? systemEntropy;
    const response = plaintextEnvelope({
      message_id: entropy.messageId(),
      nonce: entropy.nonce(),
      type: "CHALLENGE_RESPONSE",
      version: this.version,
      sender_id: this.config.entityId,
      recipient_id: this.peerId,
      session_id: this.sessionId,
      timestamp: this.config.now(),
      payload: {
        signature: toBase64Url(ed25519Sign(this.config.identity, signatureInput("initiator signature", h2, challenge))),
        finished: toBase64Url(finishedMac(fk.initiator, h2)),
      },
    });
    this.transcript.mixHash(response);
    this.state = "SENT_CHALLENGE_RESPONSE";
    return response;
  }

  /** Step 4: verify the responder's signature and Finished MAC; derive the session keys. */
  onEstablished(established: Envelope): HandshakeResult {
    if (this.state !== "SENT_CHALLENGE_RESPONSE") throw new ProtocolError("INVALID_STATE", `${established.type} not expected in state ${this.state}`, established.message_id);
    const payload = established.payload as { session_id: string; lifetime_ms: number; signature: string; finished: string };
    if (payload.session_id !== this.sessionId) throw new ProtocolError("AUTHENTICATION_FAILED", "SESSION_ESTABLISHED names another session", established.message_id); // PP-HS-013
    const h3 = this.transcript.h;
    const signature = fromBase64Url(payload.signature);
    if (!signature || !ed25519VerifyStrict(this.peerIdentityKey, signatureInput("responder signature", h3), signature)) throw new ProtocolError("AUTHENTICATION_FAILED", "responder signature does not verify", established.message_id); // PP-HS-007
    const finished = fromBase64Url(payload.finished);
    if (!finished || !constantTimeEqual(finished, finishedMac(this.fkResponder, h3))) throw new ProtocolError("AUTHENTICATION_FAILED", "responder Finished MAC does not match", established.message_id); // PP-HS-008
    const th = this.transcript.mixHash(established);
    this.state = "DONE";
    const result: HandshakeResult = {
      role: "initiator",
      sessionId: this.sessionId,
      version: this.version,
      capabilities: this.capabilities,
      aead: aeadFor(this.capabilities),
      localId: this.config.entityId,
      peerId: this.peerId,
      peerIdentityKey: this.peerIdentityKey,
      keys: sessionKeys(this.transcript.ck, th),
      lifetimeMs: payload.lifetime_ms,
    };
    if (this.peerLimits) result.peerLimits = this.peerLimits;
    return result;
  }
}
