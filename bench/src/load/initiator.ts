/**
 * The load generator's side of the six-step handshake (spec §6), built from the reference key
 * schedule (`Transcript`, `finishedKeys`, `sessionKeys`, labels) so that its wire bytes are the
 * reference initiator's. What it leaves out is only what a load generator talking to a server it
 * started itself does not need: the strict Ed25519 point checks (a square root in JavaScript per
 * handshake) on the server's key and signature. The signature is still verified by OpenSSL under a
 * cached key, the Finished MAC is checked, and READY then proves both sides derived the same keys.
 * X25519 keys go through JWK instead of DER (see `ephemeralKeyPair`). It costs the client about
 * a third of what the reference initiator does, so the handshake rate measures the server.
 *
 *   bench (this file)                               server
 *     | 1 HANDSHAKE_INIT ---------------------------->|
 *     |<----------------------------- 2 HANDSHAKE_INIT_ACK
 *     | 3 CHALLENGE_RESPONSE ------------------------>|
 *     |<---------------------------- 4 SESSION_ESTABLISHED
 *     | 5 SESSION_CONFIRM (first record) ------------>|   (sent by PeerLink)
 *     |<------------------------------------- 6 READY |
 */
import { createPublicKey, diffieHellman, generateKeyPairSync, verify as nodeVerify, type KeyObject } from "node:crypto";
import { constantTimeEqual, ed25519Sign, randomBytes, type Ed25519Identity } from "../../../reference/src/crypto.ts";
import { fromBase64Url, toBase64Url } from "../../../reference/src/encoding.ts";
import { plaintextEnvelope, type Envelope, type Version } from "../../../reference/src/envelope.ts";
import { aeadFor, type HandshakeResult } from "../../../reference/src/handshake/result.ts";
import { finishedKeys, finishedMac, sessionKeys, signatureInput, Transcript } from "../../../reference/src/key-schedule.ts";

const serverKeys = new Map<string, KeyObject>();

/**
 * X25519 through JWK rather than DER: in Node 20 a DER import or export costs ~100 µs, a JWK one
 * ~15 µs, and the wire bytes are the same 32-byte keys.
 */
function ephemeralKeyPair(): { privateKey: KeyObject; publicKey: string } {
  const { privateKey, publicKey } = generateKeyPairSync("x25519");
  return { privateKey, publicKey: publicKey.export({ format: "jwk" }).x as string };
}

function sharedSecret(privateKey: KeyObject, peerPublic: string): Buffer {
  const shared = diffieHellman({ privateKey, publicKey: createPublicKey({ key: { kty: "OKP", crv: "X25519", x: peerPublic }, format: "jwk" }) });
  if (shared.every((byte) => byte === 0)) throw new HandshakeFailure("X25519 shared secret is all zero"); // PP-HS-004
  return shared;
}

/** The server's identity key as a KeyObject, built once per key. */
function serverKeyObject(identityKey: string): KeyObject {
  let key = serverKeys.get(identityKey);
  if (!key) {
    key = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: identityKey }, format: "jwk" });
    if (serverKeys.size > 64) serverKeys.clear();
    serverKeys.set(identityKey, key);
  }
  return key;
}

export class HandshakeFailure extends Error {
  constructor(message: string) {
    super(`HANDSHAKE_FAILED: ${message}`);
  }
}

export class BenchInitiator {
  private readonly transcript = Transcript.handshake();
  private ephemeral: { privateKey: KeyObject; publicKey: string } | undefined;
  private fkResponder: Buffer = Buffer.alloc(0);
  private serverKey: KeyObject | undefined;
  private partial: Omit<HandshakeResult, "keys" | "lifetimeMs"> | undefined;

  constructor(
    private readonly identity: Ed25519Identity,
    private readonly entityId: string,
    private readonly capabilities: string[],
  ) {}

  /** Step 1: HANDSHAKE_INIT with a fresh ephemeral key and a 32-byte nonce. */
  start(): Envelope {
    this.ephemeral = ephemeralKeyPair();
    const init = plaintextEnvelope({
      type: "HANDSHAKE_INIT",
      version: "1.2",
      sender_id: this.entityId,
      timestamp: Date.now(),
      nonce: toBase64Url(randomBytes(32)),
      payload: { ephemeral_key: this.ephemeral.publicKey, identity_key: toBase64Url(this.identity.publicKey), versions: ["1.2"], capabilities: this.capabilities },
    });
    this.transcript.mixHash(init);
    return init;
  }

  /** Step 2 -> 3: DH, finished keys, our signature and Finished MAC. */
  onInitAck(ack: Envelope): Envelope {
    const payload = ack.payload as { version_selected: Version; ephemeral_key: string; identity_key: string; challenge: string; capabilities?: string[]; limits?: Record<string, number> };
    const challenge = fromBase64Url(payload.challenge);
    const identityKey = fromBase64Url(payload.identity_key);
    if (!this.ephemeral || typeof payload.ephemeral_key !== "string" || !challenge || !identityKey || !ack.session_id || payload.version_selected !== "1.2") throw new HandshakeFailure("malformed HANDSHAKE_INIT_ACK");
    const h2 = this.transcript.mixHash(ack);
    const fk = finishedKeys(this.transcript.mixKey(sharedSecret(this.ephemeral.privateKey, payload.ephemeral_key)), h2);
    this.ephemeral = undefined;
    this.fkResponder = fk.responder;
    this.serverKey = serverKeyObject(payload.identity_key);
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

  /** Step 4: the server's signature (OpenSSL) and Finished MAC; the session keys. */
  onEstablished(established: Envelope): HandshakeResult {
    const payload = established.payload as { session_id: string; lifetime_ms: number; signature: string; finished: string };
    const partial = this.partial;
    if (!partial || !this.serverKey || payload.session_id !== partial.sessionId) throw new HandshakeFailure("SESSION_ESTABLISHED for another session");
    const h3 = this.transcript.h;
    const signature = fromBase64Url(payload.signature);
    if (!signature || !nodeVerify(null, signatureInput("responder signature", h3), this.serverKey, signature)) throw new HandshakeFailure("server signature does not verify");
    const finished = fromBase64Url(payload.finished);
    if (!finished || !constantTimeEqual(finished, finishedMac(this.fkResponder, h3))) throw new HandshakeFailure("server Finished MAC does not match");
    const th = this.transcript.mixHash(established);
    return { ...partial, keys: sessionKeys(this.transcript.ck, th), lifetimeMs: payload.lifetime_ms };
  }
}
