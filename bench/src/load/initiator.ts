/**
 * The load generator's side of the six-step handshake (spec §6), built from the reference key
 * schedule (`Transcript`, `finishedKeys`, `sessionKeys`, labels) so that its wire bytes are the
 * reference initiator's. Every cryptographic operation is the reference's own (`reference/src/crypto.ts`),
 * so the load generator always has the same fast crypto as the server it measures, whatever library
 * that module uses (issue 15). What it leaves out is what a load generator does not need: schema
 * validation of the server's frames and the client library's bookkeeping. The server's signature is
 * verified strictly (the reference caches the checked identity key, so there is no point decoding per
 * handshake), the Finished MAC is checked, and READY then proves both sides derived the same keys.
 *
 *   bench (this file)                               server
 *     | 1 HANDSHAKE_INIT ---------------------------->|
 *     |<----------------------------- 2 HANDSHAKE_INIT_ACK
 *     | 3 CHALLENGE_RESPONSE ------------------------>|
 *     |<---------------------------- 4 SESSION_ESTABLISHED
 *     | 5 SESSION_CONFIRM (first record) ------------>|   (sent by PeerLink)
 *     |<------------------------------------- 6 READY |
 */
import { constantTimeEqual, CryptoError, ed25519Sign, ed25519VerifyStrict, generateX25519, randomBytes, x25519, type Ed25519Identity, type X25519KeyPair } from "../../../reference/src/crypto.ts";
import { fromBase64Url, toBase64Url } from "../../../reference/src/encoding.ts";
import { plaintextEnvelope, type Envelope, type Version } from "../../../reference/src/envelope.ts";
import { aeadFor, type HandshakeResult } from "../../../reference/src/handshake/result.ts";
import { finishedKeys, finishedMac, sessionKeys, signatureInput, Transcript } from "../../../reference/src/key-schedule.ts";

/** X25519 by the reference, with its all-zero check (PP-HS-004) reported as a handshake failure. */
function sharedSecret(ephemeral: X25519KeyPair, peerPublic: Buffer): Buffer {
  try {
    return x25519(ephemeral.privateKey, peerPublic);
  } catch (error) {
    throw new HandshakeFailure(error instanceof CryptoError ? error.message : "X25519 failed");
  }
}

export class HandshakeFailure extends Error {
  constructor(message: string) {
    super(`HANDSHAKE_FAILED: ${message}`);
  }
}

export class BenchInitiator {
  private readonly transcript = Transcript.handshake();
  private ephemeral: X25519KeyPair | undefined;
  private fkResponder: Buffer = Buffer.alloc(0);
  private serverKey: Buffer | undefined;
  private partial: Omit<HandshakeResult, "keys" | "lifetimeMs"> | undefined;

  constructor(
    private readonly identity: Ed25519Identity,
    private readonly entityId: string,
    private readonly capabilities: string[],
  ) {}

  /** Step 1: HANDSHAKE_INIT with a fresh ephemeral key and a 32-byte nonce. */
  start(): Envelope {
    this.ephemeral = generateX25519();
    const init = plaintextEnvelope({
      type: "HANDSHAKE_INIT",
      version: "1.2",
      sender_id: this.entityId,
      timestamp: Date.now(),
      nonce: toBase64Url(randomBytes(32)),
      payload: { ephemeral_key: toBase64Url(this.ephemeral.publicKey), identity_key: toBase64Url(this.identity.publicKey), versions: ["1.2"], capabilities: this.capabilities },
    });
    this.transcript.mixHash(init);
    return init;
  }

  /** Step 2 -> 3: DH, finished keys, our signature and Finished MAC. */
  onInitAck(ack: Envelope): Envelope {
    const payload = ack.payload as { version_selected: Version; ephemeral_key: string; identity_key: string; challenge: string; capabilities?: string[]; limits?: Record<string, number> };
    const challenge = fromBase64Url(payload.challenge);
    const identityKey = fromBase64Url(payload.identity_key);
    const ephemeralKey = typeof payload.ephemeral_key === "string" ? fromBase64Url(payload.ephemeral_key) : null;
    if (!this.ephemeral || !ephemeralKey || !challenge || !identityKey || !ack.session_id || payload.version_selected !== "1.2") throw new HandshakeFailure("malformed HANDSHAKE_INIT_ACK");
    const h2 = this.transcript.mixHash(ack);
    const fk = finishedKeys(this.transcript.mixKey(sharedSecret(this.ephemeral, ephemeralKey)), h2);
    this.ephemeral = undefined;
    this.fkResponder = fk.responder;
    this.serverKey = identityKey;
    const capabilities = payload.capabilities ?? [];
    this.partial = { role: "initiator", sessionId: ack.session_id, version: "1.2", capabilities, aead: aeadFor(capabilities), localId: this.entityId, peerId: ack.sender_id, peerIdentityKey: identityKey, ...(payload.limits ? { peerLimits: payload.limits } : {}) };
    const response = plaintextEnvelope({
      type: "CHALLENGE_RESPONSE",
      version: "1.2",
      sender_id: this.entityId,
      recipient_id: ack.sender_id,
      session_id: ack.session_id,
      timestamp: Date.now(),
      payload: { signature: toBase64Url(ed25519Sign(this.identity, signatureInput("initiator signature", h2, challenge))), finished: toBase64Url(finishedMac(fk.initiator, h2)) },
    });
    this.transcript.mixHash(response);
    return response;
  }

  /** Step 4: the server's signature (strict, PP-KS-013..016) and Finished MAC; the session keys. */
  onEstablished(established: Envelope): HandshakeResult {
    const payload = established.payload as { session_id: string; lifetime_ms: number; signature: string; finished: string };
    const partial = this.partial;
    if (!partial || !this.serverKey || payload.session_id !== partial.sessionId) throw new HandshakeFailure("SESSION_ESTABLISHED for another session");
    const h3 = this.transcript.h;
    const signature = fromBase64Url(payload.signature);
    if (!signature || !ed25519VerifyStrict(this.serverKey, signatureInput("responder signature", h3), signature)) throw new HandshakeFailure("server signature does not verify");
    const finished = fromBase64Url(payload.finished);
    if (!finished || !constantTimeEqual(finished, finishedMac(this.fkResponder, h3))) throw new HandshakeFailure("server Finished MAC does not match");
    const th = this.transcript.mixHash(established);
    return { ...partial, keys: sessionKeys(this.transcript.ck, th), lifetimeMs: payload.lifetime_ms };
  }
}
