/**
 * Builds the test vectors of `spec/vectors/` from fixed keys and seeds, so that every value is
 * reproducible. The reference stack (node:crypto) computes them; the tests reproduce each one with
 * node:crypto and again with @noble/curves in strict mode (conformance/src/probe/crypto.ts).
 *
 * Fixed inputs are SHA-256("peer-protocol vector: <name>"), never random.
 */
import { createHash } from "node:crypto";
import {
  aeadSeal,
  ed25519FromSeed,
  ed25519Sign,

  sha256,
  x25519,
  x25519FromPrivate,
} from "../../reference/src/crypto.ts";
import { jcs, toBase64Url, without } from "../../reference/src/encoding.ts";
import {
  finishedKeys,
  finishedMac,
  recordNonce,
  resumeBinder,
  resumeFinished,
  sessionKeys,
  signatureInput,
  Transcript,
  type SessionKeys,
} from "../../reference/src/key-schedule.ts";
import { sealRecord, type RecordHeader } from "../../reference/src/record.ts";

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");
const b64 = toBase64Url;

export function fixedBytes(name: string, length = 32): Buffer {
  return createHash("sha256").update(`peer-protocol vector: ${name}`).digest().subarray(0, length);
}

const T0 = 1767225600000; // 2026-01-01T00:00:00Z
const INITIATOR_ID = "agent-alice";
const RESPONDER_ID = "server-1";
const SESSION_ID = "sess_" + b64(fixedBytes("session id", 16));

interface HandshakeRun {
  vector: Record<string, unknown>;
  keys: SessionKeys;
  init: Record<string, unknown>;
  initiatorEphemeral: Buffer;
}

function handshakeVector(limits: Record<string, number>): HandshakeRun {
  const initiatorIdentity = ed25519FromSeed(fixedBytes("initiator identity seed"));
  const responderIdentity = ed25519FromSeed(fixedBytes("responder identity seed"));
  const initiatorEphemeral = x25519FromPrivate(fixedBytes("initiator ephemeral private"));
  const responderEphemeral = x25519FromPrivate(fixedBytes("responder ephemeral private"));
  const challenge = fixedBytes("challenge");

  const transcript = Transcript.handshake();
  const h0 = Buffer.from(transcript.h);
  const init = {
    message_id: "vector-msg-0001",
    type: "HANDSHAKE_INIT",
    version: "1.2",
    timestamp: T0,
    sender_id: INITIATOR_ID,
    recipient_id: RESPONDER_ID,
    nonce: b64(fixedBytes("initiator nonce")),
    payload: {
      versions: ["1.2", "1.1"],
      ephemeral_key: b64(initiatorEphemeral.publicKey),
      identity_key: b64(initiatorIdentity.publicKey),
      capabilities: ["websocket", "http", "resume", "chunking", "events"],
    },
  };
  const h1 = Buffer.from(transcript.mixHash(init));
  const initAck = {
    message_id: "vector-msg-0002",
    type: "HANDSHAKE_INIT_ACK",
    version: "1.2",
    timestamp: T0 + 3,
    session_id: SESSION_ID,
    sender_id: RESPONDER_ID,
    recipient_id: INITIATOR_ID,
    nonce: b64(fixedBytes("responder nonce")),
    payload: {
      version_selected: "1.2",
      ephemeral_key: b64(responderEphemeral.publicKey),
      identity_key: b64(responderIdentity.publicKey),
      challenge: b64(challenge),
      capabilities: ["websocket", "http", "resume", "chunking", "events"],
      limits,
    },
  };
  const h2 = Buffer.from(transcript.mixHash(initAck));
  const dh = x25519(initiatorEphemeral.privateKey, responderEphemeral.publicKey);
  const handshakeSecret = transcript.mixKey(dh);
  const ckAfterDh = Buffer.from(transcript.ck);
  const fk = finishedKeys(handshakeSecret, h2);
  const initiatorSignatureInput = signatureInput("initiator signature", h2, challenge);
  const sigI = ed25519Sign(initiatorIdentity, initiatorSignatureInput);
  const finI = finishedMac(fk.initiator, h2);
  const challengeResponse = {
    message_id: "vector-msg-0003",
    type: "CHALLENGE_RESPONSE",
    version: "1.2",
    timestamp: T0 + 6,
    session_id: SESSION_ID,
    sender_id: INITIATOR_ID,
    recipient_id: RESPONDER_ID,
    nonce: b64(fixedBytes("challenge response nonce")),
    payload: { signature: b64(sigI), finished: b64(finI) },
  };
  const h3 = Buffer.from(transcript.mixHash(challengeResponse));
  const responderSignatureInput = signatureInput("responder signature", h3);
  const sigR = ed25519Sign(responderIdentity, responderSignatureInput);
  const finR = finishedMac(fk.responder, h3);
  const established = {
    message_id: "vector-msg-0004",
    type: "SESSION_ESTABLISHED",
    version: "1.2",
    timestamp: T0 + 9,
    session_id: SESSION_ID,
    sender_id: RESPONDER_ID,
    recipient_id: INITIATOR_ID,
    nonce: b64(fixedBytes("session established nonce")),
    payload: { session_id: SESSION_ID, lifetime_ms: limits.session_lifetime_ms as number, signature: b64(sigR), finished: b64(finR) },
  };
  const th = Buffer.from(transcript.mixHash(established));
  const keys = sessionKeys(transcript.ck, th);
  const confirm = sealRecord("chacha20-poly1305", keys.i2r, recordHeader("vector-msg-0005", "SESSION_CONFIRM", 0, INITIATOR_ID, RESPONDER_ID, T0 + 12), { handshake_hash: b64(th) });
  const ready = sealRecord("chacha20-poly1305", keys.r2i, recordHeader("vector-msg-0006", "READY", 0, RESPONDER_ID, INITIATOR_ID, T0 + 15), { handshake_hash: b64(th) });

  const vector = {
    description: "A full v1.2 handshake (spec §6, §7.2) from fixed keys: every intermediate value. Byte strings are hex; envelope members are base64url as on the wire.",
    requirements: ["PP-KS-001", "PP-KS-002", "PP-KS-004", "PP-KS-006", "PP-KS-007", "PP-HS-007", "PP-HS-008"],
    inputs: {
      initiator_identity_seed: hex(fixedBytes("initiator identity seed")),
      responder_identity_seed: hex(fixedBytes("responder identity seed")),
      initiator_ephemeral_private: hex(fixedBytes("initiator ephemeral private")),
      responder_ephemeral_private: hex(fixedBytes("responder ephemeral private")),
      initiator_identity_public: hex(initiatorIdentity.publicKey),
      responder_identity_public: hex(responderIdentity.publicKey),
      initiator_ephemeral_public: hex(initiatorEphemeral.publicKey),
      responder_ephemeral_public: hex(responderEphemeral.publicKey),
      challenge: hex(challenge),
    },
    messages: { handshake_init: init, handshake_init_ack: initAck, challenge_response: challengeResponse, session_established: established, session_confirm: confirm, ready },
    intermediate: {
      h0: hex(h0),
      h1_after_init: hex(h1),
      h2_after_init_ack: hex(h2),
      dh: hex(dh),
      ck_after_dh: hex(ckAfterDh),
      handshake_secret: hex(handshakeSecret),
      initiator_finished_key: hex(fk.initiator),
      responder_finished_key: hex(fk.responder),
      initiator_signature_input: hex(initiatorSignatureInput),
      initiator_signature: hex(sigI),
      initiator_finished: hex(finI),
      h3_after_challenge_response: hex(h3),
      responder_signature_input: hex(responderSignatureInput),
      responder_signature: hex(sigR),
      responder_finished: hex(finR),
      handshake_hash: hex(th),
      ck_final: hex(transcript.ck),
      i2r_key: hex(keys.i2r.key),
      i2r_iv: hex(keys.i2r.iv),
      r2i_key: hex(keys.r2i.key),
      r2i_iv: hex(keys.r2i.iv),
      resumption_secret: hex(keys.resumptionSecret),
    },
  };
  return { vector, keys, init, initiatorEphemeral: initiatorEphemeral.publicKey };
}

function recordHeader(messageId: string, type: string, seq: number, sender: string, recipient: string, timestamp: number): RecordHeader {
  return { message_id: messageId, type, version: "1.2", timestamp, seq, session_id: SESSION_ID, sender_id: sender, recipient_id: recipient };
}

function recordVectors(keys: SessionKeys): Record<string, unknown> {
  const cases = [
    { name: "peer message, seq 1, initiator to responder", algorithm: "chacha20-poly1305" as const, direction: "i2r" as const, header: recordHeader("vector-msg-0101", "PEER_MESSAGE", 1, INITIATOR_ID, "agent-bob", T0 + 100), inner: { content: { text: "hello, bob", n: 1 } } },
    { name: "ack, seq 1, responder to initiator", algorithm: "chacha20-poly1305" as const, direction: "r2i" as const, header: recordHeader("vector-msg-0102", "ACK", 1, RESPONDER_ID, INITIATOR_ID, T0 + 101), inner: { ack: 1 } },
    { name: "task request at the largest seq", algorithm: "chacha20-poly1305" as const, direction: "i2r" as const, header: recordHeader("vector-msg-0103", "TASK_REQUEST", Number.MAX_SAFE_INTEGER, INITIATOR_ID, RESPONDER_ID, T0 + 102), inner: { task_id: "t-1", action: "echo", params: { x: [1, 2, 3] } } },
    { name: "peer message sealed with AES-256-GCM", algorithm: "aes-256-gcm" as const, direction: "i2r" as const, header: recordHeader("vector-msg-0104", "PEER_MESSAGE", 2, INITIATOR_ID, "agent-bob", T0 + 103), inner: { content: "ünïcödé ✓" } },
  ];
  return {
    description: "Record encryption (spec §7.3): nonce = iv XOR u64be(seq), AAD = JCS(envelope without payload and signature). Keys are those of handshake.json.",
    requirements: ["PP-KS-005", "PP-KS-006", "PP-KS-007", "PP-KS-011"],
    records: cases.map(({ name, algorithm, direction, header, inner }) => {
      const directionKeys = keys[direction];
      const aad = jcs(without(header, "payload", "signature"));
      const nonce = recordNonce(directionKeys.iv, header.seq);
      const plaintext = jcs(inner);
      const sealed = aeadSeal(algorithm, directionKeys.key, nonce, plaintext, aad);
      return {
        name,
        algorithm,
        key: hex(directionKeys.key),
        iv: hex(directionKeys.iv),
        seq: header.seq,
        nonce: hex(nonce),
        aad: aad.toString("utf8"),
        plaintext: plaintext.toString("utf8"),
        ciphertext_and_tag: hex(sealed),
        inner,
        envelope: { ...header, payload: b64(sealed) },
      };
    }),
  };
}

function jcsVectors(): Record<string, unknown> {
  const inputs = [
    '{"b":1,"a":"x"}',
    '{ "a" : "x", "b" : 1 }',
    '{"z":{"y":[3,2,{"b":true,"a":null}],"x":"\\u00e9"},"a":[]}',
    '{"numbers":[0,-0,1e21,1e-7,123456789012345680000,0.1,-1.5,9007199254740991]}',
    '{"\\u20ac":"euro","\\r":"cr","1":"one","a":"\\u0001\\"\\\\\\/"}',
    '{"emoji":"\\ud83d\\ude00","ctrl":"\\t\\n\\f\\b"}',
  ];
  return {
    description: "RFC 8785 canonical JSON (PP-ENV-009): each input text parsed and re-serialised.",
    requirements: ["PP-ENV-009"],
    cases: inputs.map((input) => ({ input, canonical: jcs(JSON.parse(input)).toString("utf8"), canonical_hex: hex(jcs(JSON.parse(input))) })),
  };
}

function resumeVector(keys: SessionKeys): Record<string, unknown> {
  const initiatorEphemeral = x25519FromPrivate(fixedBytes("resume initiator ephemeral private"));
  const responderEphemeral = x25519FromPrivate(fixedBytes("resume responder ephemeral private"));
  const transcript = Transcript.resume(keys.resumptionSecret);
  const h0 = Buffer.from(transcript.h);
  const resumeWithoutBinder = {
    message_id: "vector-msg-0201",
    type: "SESSION_RESUME",
    version: "1.2",
    timestamp: T0 + 60_000,
    session_id: SESSION_ID,
    sender_id: INITIATOR_ID,
    recipient_id: RESPONDER_ID,
    nonce: b64(fixedBytes("resume nonce")),
    payload: { session_id: SESSION_ID, ephemeral_key: b64(initiatorEphemeral.publicKey), last_rx_seq: 7 },
  };
  const h1 = Buffer.from(transcript.mixHash(resumeWithoutBinder));
  const binderKeyHashInput = h1;
  const binder = resumeBinder(keys.resumptionSecret, binderKeyHashInput);
  const resume = { ...resumeWithoutBinder, payload: { ...resumeWithoutBinder.payload, binder: b64(binder) } };
  const ackWithoutFinished = {
    message_id: "vector-msg-0202",
    type: "SESSION_RESUME_ACK",
    version: "1.2",
    timestamp: T0 + 60_003,
    session_id: SESSION_ID,
    sender_id: RESPONDER_ID,
    recipient_id: INITIATOR_ID,
    nonce: b64(fixedBytes("resume ack nonce")),
    payload: { status: "READY", ephemeral_key: b64(responderEphemeral.publicKey), last_rx_seq: 4 },
  };
  const h2 = Buffer.from(transcript.mixHash(ackWithoutFinished));
  const dh = x25519(initiatorEphemeral.privateKey, responderEphemeral.publicKey);
  const k = transcript.mixKey(dh);
  const finished = resumeFinished(k, h2);
  const ack = { ...ackWithoutFinished, payload: { ...ackWithoutFinished.payload, finished: b64(finished) } };
  const fresh = sessionKeys(transcript.ck, h2);
  return {
    description: "A resume (spec §8) of the session of handshake.json: binder, fresh DH, fresh traffic keys and the rotated resumption secret.",
    requirements: ["PP-SES-002", "PP-SES-007", "PP-SES-008", "PP-SES-009"],
    inputs: {
      resumption_secret: hex(keys.resumptionSecret),
      initiator_ephemeral_private: hex(fixedBytes("resume initiator ephemeral private")),
      responder_ephemeral_private: hex(fixedBytes("resume responder ephemeral private")),
    },
    messages: { session_resume: resume, session_resume_ack: ack },
    intermediate: {
      h0: hex(h0),
      h1_without_binder: hex(h1),
      binder: hex(binder),
      h2_without_finished: hex(h2),
      dh: hex(dh),
      ck_after_dh: hex(transcript.ck),
      finished_secret: hex(k),
      finished: hex(finished),
      i2r_key: hex(fresh.i2r.key),
      i2r_iv: hex(fresh.i2r.iv),
      r2i_key: hex(fresh.r2i.key),
      r2i_iv: hex(fresh.r2i.iv),
      next_resumption_secret: hex(fresh.resumptionSecret),
    },
  };
}

function chunkingVector(): Record<string, unknown> {
  const maxChunkBytes = 64;
  const payload = { content: { title: "a message larger than one chunk", body: "lorem ipsum ".repeat(16).trim(), list: [1, 2, 3, 4, 5] } };
  const bytes = jcs(payload);
  const digest = b64(sha256(bytes));
  const chunks = [];
  for (let offset = 0, i = 0; offset < bytes.length; offset += maxChunkBytes, i++) {
    chunks.push({
      chunk_id: "vector-msg-0301",
      sequence_number: i,
      is_last: offset + maxChunkBytes >= bytes.length,
      total_size: bytes.length,
      digest,
      inner_type: "PEER_MESSAGE",
      data: b64(bytes.subarray(offset, offset + maxChunkBytes)),
    });
  }
  return {
    description: "Chunking (spec §10): JCS(payload) split into pieces of max_chunk_bytes; reassembly concatenates the pieces in sequence_number order and checks total_size and digest.",
    requirements: ["PP-CHK-001", "PP-CHK-002", "PP-CHK-003", "PP-CHK-004"],
    max_chunk_bytes: maxChunkBytes,
    message_id: "vector-msg-0301",
    inner_type: "PEER_MESSAGE",
    payload,
    payload_jcs: bytes.toString("utf8"),
    total_size: bytes.length,
    digest,
    chunks,
  };
}

/** Canonical encodings of the eight small-order points of edwards25519 (and their x-sign twins). */
export const SMALL_ORDER_ED25519 = [
  ["identity (order 1)", "0100000000000000000000000000000000000000000000000000000000000000"],
  ["order 2", "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"],
  ["order 4", "0000000000000000000000000000000000000000000000000000000000000000"],
  ["order 4, x negative", "0000000000000000000000000000000000000000000000000000000000000080"],
  ["order 8", "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"],
  ["order 8, x negative", "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa"],
  ["order 8", "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"],
  ["order 8, x negative", "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85"],
] as const;

const ED25519_ORDER = (1n << 252n) + 27742317777372353535851937790883648493n;

function addOrderToScalar(signature: Buffer): Buffer {
  let s = 0n;
  for (let i = 63; i >= 32; i--) s = (s << 8n) | BigInt(signature[i] as number);
  s += ED25519_ORDER;
  const out = Buffer.from(signature);
  for (let i = 32; i < 64; i++) {
    out[i] = Number(s & 0xffn);
    s >>= 8n;
  }
  return out;
}

function negativeVectors(run: HandshakeRun): Record<string, unknown> {
  const vector = run.vector as { intermediate: Record<string, string>; messages: Record<string, { payload: Record<string, string> }>; inputs: Record<string, string> };
  const h2 = Buffer.from(vector.intermediate.h2_after_init_ack as string, "hex");
  const challenge = Buffer.from(vector.inputs.challenge as string, "hex");
  const initiatorInput = signatureInput("initiator signature", h2, challenge);
  const validSignature = Buffer.from(vector.intermediate.initiator_signature as string, "hex");
  const wrongFinished = Buffer.from(vector.intermediate.initiator_finished as string, "hex");
  wrongFinished[0] = (wrongFinished[0] as number) ^ 0x01;

  // A MITM strips "1.2" from the offer; the responder then hashes a different INIT.
  const strippedInit = { ...run.init, payload: { ...(run.init.payload as object), versions: ["1.1"] } };
  const honest = Transcript.handshake();
  honest.mixHash(run.init);
  const tampered = Transcript.handshake();
  tampered.mixHash(strippedInit);

  return {
    description: "Inputs that an endpoint MUST reject, each with the error code the spec requires. Keys and messages refer to handshake.json.",
    cases: [
      ...["0000000000000000000000000000000000000000000000000000000000000000", "0100000000000000000000000000000000000000000000000000000000000000", "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"].map((peer, i) => ({
        name: `x25519 small-order peer ephemeral ${i}`,
        kind: "x25519-shared-secret",
        requirements: ["PP-HS-004", "PP-KS-017"],
        own_ephemeral_private: vector.inputs.initiator_ephemeral_private,
        peer_ephemeral_public: peer,
        shared_secret: "0000000000000000000000000000000000000000000000000000000000000000",
        expected_error: "AUTHENTICATION_FAILED",
      })),
      ...SMALL_ORDER_ED25519.map(([what, key]) => ({
        name: `ed25519 small-order identity key: ${what}`,
        kind: "ed25519-public-key",
        requirements: ["PP-HS-006", "PP-KS-014"],
        public_key: key,
        expected_error: "AUTHENTICATION_FAILED",
      })),
      {
        name: "ed25519 non-canonical identity key (y = p)",
        kind: "ed25519-public-key",
        requirements: ["PP-HS-006", "PP-KS-013"],
        public_key: "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        expected_error: "AUTHENTICATION_FAILED",
      },
      {
        name: "identity-point forgery: R = identity, S = 0 under the identity key",
        kind: "ed25519-signature",
        requirements: ["PP-HS-007", "PP-KS-014", "PP-KS-016"],
        note: "node:crypto.verify and ZIP-215 verifiers accept this signature for every message",
        public_key: "0100000000000000000000000000000000000000000000000000000000000000",
        message: hex(initiatorInput),
        signature: "0100000000000000000000000000000000000000000000000000000000000000" + "00".repeat(32),
        expected_error: "AUTHENTICATION_FAILED",
      },
      {
        name: "non-canonical S: the initiator signature with L added to S",
        kind: "ed25519-signature",
        requirements: ["PP-HS-007", "PP-KS-015"],
        public_key: vector.inputs.initiator_identity_public,
        message: hex(initiatorInput),
        signature: hex(addOrderToScalar(validSignature)),
        valid_signature: hex(validSignature),
        expected_error: "AUTHENTICATION_FAILED",
      },
      {
        name: "wrong Finished MAC in CHALLENGE_RESPONSE",
        kind: "finished-mac",
        requirements: ["PP-HS-008"],
        finished_key: vector.intermediate.initiator_finished_key,
        transcript_hash: vector.intermediate.h2_after_init_ack,
        expected_finished: vector.intermediate.initiator_finished,
        received_finished: hex(wrongFinished),
        expected_error: "AUTHENTICATION_FAILED",
      },
      {
        name: "reflected ephemeral: HANDSHAKE_INIT_ACK carries the initiator's own ephemeral key",
        kind: "reflected-ephemeral",
        requirements: ["PP-HS-005"],
        own_ephemeral_public: hex(run.initiatorEphemeral),
        peer_ephemeral_public: hex(run.initiatorEphemeral),
        expected_error: "AUTHENTICATION_FAILED",
      },
      {
        name: "reflected message: the initiator's HANDSHAKE_INIT sent back to it",
        kind: "reflected-message",
        requirements: ["PP-HS-014"],
        sent: run.init,
        received: run.init,
        expected_error: "INVALID_STATE",
      },
      {
        name: "stripped version list: a MITM removes 1.2 from the offer",
        kind: "stripped-versions",
        requirements: ["PP-VER-002", "PP-KS-001"],
        sent_init: run.init,
        received_init: strippedInit,
        initiator_h1: hex(honest.h),
        responder_h1: hex(tampered.h),
        expected_error: "AUTHENTICATION_FAILED",
      },
    ],
  };
}

/** File name (under spec/vectors/) to contents; `limits` are the defaults of the spec's limits registry. */
export function buildVectors(limits: Record<string, number>): Record<string, unknown> {
  const run = handshakeVector(limits);
  return {
    "handshake.json": run.vector,
    "records.json": recordVectors(run.keys),
    "jcs.json": jcsVectors(),
    "resume.json": resumeVector(run.keys),
    "chunking.json": chunkingVector(),
    "negative.json": negativeVectors(run),
  };
}

