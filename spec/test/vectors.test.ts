/**
 * Every vector of spec/vectors/ reproduced three times: by the reference's crypto module on each of
 * its stacks (libsodium, and the node:crypto fallback that PEER_CRYPTO=node selects) and by the
 * probe's @noble stack (strict). The reference and the probe share no protocol code, so agreement
 * byte for byte shows both follow the spec's encodings.
 */
import { describe, expect, test, vi } from "vitest";
import handshake from "../vectors/handshake.json" with { type: "json" };
import records from "../vectors/records.json" with { type: "json" };
import jcsVectors from "../vectors/jcs.json" with { type: "json" };
import resume from "../vectors/resume.json" with { type: "json" };
import chunking from "../vectors/chunking.json" with { type: "json" };
import negative from "../vectors/negative.json" with { type: "json" };
import * as refDefault from "../../reference/src/crypto.ts";
import * as refEncoding from "../../reference/src/encoding.ts";
import * as refSchedule from "../../reference/src/key-schedule.ts";
import * as probe from "../../conformance/src/probe/crypto.ts";
import * as probeWire from "../../conformance/src/probe/wire.ts";
import * as probeSchedule from "../../conformance/src/probe/schedule.ts";

type Bytes = Uint8Array;
const hex = (b: Bytes): string => Buffer.from(b).toString("hex");
const fromHex = (h: string): Bytes => new Uint8Array(Buffer.from(h, "hex"));
const ascii = (s: string): Bytes => new Uint8Array(Buffer.from(s, "ascii"));

/** The operations a stack must provide to reproduce the vectors. */
interface Stack {
  name: string;
  jcs(value: unknown): Bytes;
  x25519Public(priv: Bytes): Bytes;
  x25519(priv: Bytes, pub: Bytes): Bytes | null;
  ed25519Public(seed: Bytes): Bytes;
  sign(seed: Bytes, msg: Bytes): Bytes;
  verifyStrict(pub: Bytes, msg: Bytes, sig: Bytes): boolean;
  keyProblem(pub: Bytes): string | null;
  sha256(...parts: Bytes[]): Bytes;
  mixHash(h: Bytes, envelope: object): Bytes;
  mixKey(ck: Bytes, ikm: Bytes): { ck: Bytes; k: Bytes };
  expand(secret: Bytes, label: string, ctx: Bytes, n: number): Bytes;
  sigInput(label: string, h: Bytes, extra: Bytes): Bytes;
  hmac(key: Bytes, data: Bytes): Bytes;
  nonce(iv: Bytes, seq: number): Bytes;
  seal(alg: "chacha20-poly1305" | "aes-256-gcm", key: Bytes, nonce: Bytes, pt: Bytes, aad: Bytes): Bytes;
  open(alg: "chacha20-poly1305" | "aes-256-gcm", key: Bytes, nonce: Bytes, ct: Bytes, aad: Bytes): Bytes | null;
  without(value: object, ...keys: string[]): object;
}

/** The reference's crypto module on the stack it loaded (`ref.CRYPTO_STACK`). */
const referenceStack = (ref: typeof refDefault): Stack => ({
  name: `${ref.CRYPTO_STACK} (reference)`,
  jcs: refEncoding.jcs,
  x25519Public: (priv) => ref.x25519FromPrivate(priv).publicKey,
  x25519: (priv, pub) => {
    try {
      return ref.x25519(ref.x25519FromPrivate(priv).privateKey, pub);
    } catch {
      return null;
    }
  },
  ed25519Public: (seed) => ref.ed25519FromSeed(seed).publicKey,
  sign: (seed, msg) => ref.ed25519Sign(ref.ed25519FromSeed(seed), msg),
  verifyStrict: ref.ed25519VerifyStrict,
  keyProblem: ref.ed25519PointProblem,
  sha256: ref.sha256,
  mixHash: (h, envelope) => ref.sha256(h, refEncoding.encodeForTranscript(envelope)),
  mixKey: (ck, ikm) => {
    const out = ref.hkdf(ck, ikm, 64);
    return { ck: out.subarray(0, 32), k: out.subarray(32) };
  },
  expand: (s, label, ctx, n) => refSchedule.expandLabel(s, label as refSchedule.ExpandLabel, ctx, n),
  sigInput: (label, h, extra) => refSchedule.signatureInput(label as refSchedule.SignatureLabel, h, extra),
  hmac: ref.hmacSha256,
  nonce: refSchedule.recordNonce,
  seal: ref.aeadSeal,
  open: ref.aeadOpen,
  without: refEncoding.without,
});

// A second instance of the module, on the node:crypto fallback: the stack is chosen once, at load.
vi.stubEnv("PEER_CRYPTO", "node");
vi.resetModules();
const refNode = await import("../../reference/src/crypto.ts");
vi.unstubAllEnvs();
const referenceStacks = [referenceStack(refDefault), referenceStack(refNode)];

test("the reference loads libsodium by default, and node:crypto under PEER_CRYPTO=node", () => {
  expect(refDefault.CRYPTO_STACK).toBe(process.env.PEER_CRYPTO === "node" ? "node:crypto" : "libsodium");
  expect(refNode.CRYPTO_STACK).toBe("node:crypto");
});

const nobleStack: Stack = {
  name: "@noble strict (probe)",
  jcs: probeWire.canonical,
  x25519Public: probe.x25519PublicKey,
  x25519: probe.x25519Shared,
  ed25519Public: probe.ed25519PublicKey,
  sign: probe.ed25519Sign,
  verifyStrict: probe.ed25519VerifyStrict,
  keyProblem: probe.ed25519PointProblem,
  sha256: probe.hash,
  mixHash: (h, envelope) => probe.hash(h, probeWire.transcriptEncoding(envelope)),
  mixKey: (ck, ikm) => {
    const state = { h: new Uint8Array(32), ck };
    const k = probeSchedule.mixKey(state, ikm);
    return { ck: state.ck, k };
  },
  expand: probeSchedule.expandLabel,
  sigInput: probeSchedule.sigInput,
  hmac: probe.mac,
  nonce: probeSchedule.nonceFor,
  seal: probe.aeadSeal,
  open: probe.aeadOpen,
  without: probeWire.omit,
};

describe.each([...referenceStacks, nobleStack])("$name", (stack) => {
  const i = handshake.intermediate;
  const m = handshake.messages;

  test("reproduces every intermediate value of the full handshake", () => {
    const inputs = handshake.inputs;
    expect(hex(stack.x25519Public(fromHex(inputs.initiator_ephemeral_private)))).toBe(inputs.initiator_ephemeral_public);
    expect(hex(stack.x25519Public(fromHex(inputs.responder_ephemeral_private)))).toBe(inputs.responder_ephemeral_public);
    expect(hex(stack.ed25519Public(fromHex(inputs.initiator_identity_seed)))).toBe(inputs.initiator_identity_public);
    expect(hex(stack.ed25519Public(fromHex(inputs.responder_identity_seed)))).toBe(inputs.responder_identity_public);

    const h0 = stack.sha256(ascii("PeerProtocol_X25519_Ed25519_SHA256_ChaChaPoly"));
    expect(hex(h0)).toBe(i.h0);
    const h1 = stack.mixHash(h0, m.handshake_init);
    expect(hex(h1)).toBe(i.h1_after_init);
    const h2 = stack.mixHash(h1, m.handshake_init_ack);
    expect(hex(h2)).toBe(i.h2_after_init_ack);
    // Both sides compute the same DH.
    const dh = stack.x25519(fromHex(inputs.initiator_ephemeral_private), fromHex(inputs.responder_ephemeral_public));
    expect(hex(dh!)).toBe(i.dh);
    expect(hex(stack.x25519(fromHex(inputs.responder_ephemeral_private), fromHex(inputs.initiator_ephemeral_public))!)).toBe(i.dh);
    const { ck, k: hs } = stack.mixKey(h0, dh!);
    expect(hex(ck)).toBe(i.ck_after_dh);
    expect(hex(hs)).toBe(i.handshake_secret);
    const fkI = stack.expand(hs, "i finished", h2, 32);
    const fkR = stack.expand(hs, "r finished", h2, 32);
    expect(hex(fkI)).toBe(i.initiator_finished_key);
    expect(hex(fkR)).toBe(i.responder_finished_key);
    const sigInputI = stack.sigInput("initiator signature", h2, fromHex(inputs.challenge));
    expect(hex(sigInputI)).toBe(i.initiator_signature_input);
    expect(hex(stack.sign(fromHex(inputs.initiator_identity_seed), sigInputI))).toBe(i.initiator_signature);
    expect(stack.verifyStrict(fromHex(inputs.initiator_identity_public), sigInputI, fromHex(i.initiator_signature))).toBe(true);
    expect(hex(stack.hmac(fkI, h2))).toBe(i.initiator_finished);
    const h3 = stack.mixHash(h2, m.challenge_response);
    expect(hex(h3)).toBe(i.h3_after_challenge_response);
    const sigInputR = stack.sigInput("responder signature", h3, new Uint8Array(0));
    expect(hex(sigInputR)).toBe(i.responder_signature_input);
    expect(hex(stack.sign(fromHex(inputs.responder_identity_seed), sigInputR))).toBe(i.responder_signature);
    expect(stack.verifyStrict(fromHex(inputs.responder_identity_public), sigInputR, fromHex(i.responder_signature))).toBe(true);
    expect(hex(stack.hmac(fkR, h3))).toBe(i.responder_finished);
    const th = stack.mixHash(h3, m.session_established);
    expect(hex(th)).toBe(i.handshake_hash);
    expect(hex(stack.expand(ck, "i2r key", th, 32))).toBe(i.i2r_key);
    expect(hex(stack.expand(ck, "i2r iv", th, 12))).toBe(i.i2r_iv);
    expect(hex(stack.expand(ck, "r2i key", th, 32))).toBe(i.r2i_key);
    expect(hex(stack.expand(ck, "r2i iv", th, 12))).toBe(i.r2i_iv);
    expect(hex(stack.expand(ck, "resumption", th, 32))).toBe(i.resumption_secret);
  });

  test("reproduces the first records each way (SESSION_CONFIRM and READY)", () => {
    for (const [record, key, iv] of [
      [m.session_confirm, i.i2r_key, i.i2r_iv],
      [m.ready, i.r2i_key, i.r2i_iv],
    ] as const) {
      const aad = stack.jcs(stack.without(record, "payload", "signature"));
      const sealed = stack.seal("chacha20-poly1305", fromHex(key), stack.nonce(fromHex(iv), record.seq), stack.jcs({ handshake_hash: Buffer.from(fromHex(i.handshake_hash)).toString("base64url") }), aad);
      expect(Buffer.from(sealed).toString("base64url")).toBe(record.payload);
    }
  });

  test("encrypts and decrypts every record vector", () => {
    for (const r of records.records) {
      const nonce = stack.nonce(fromHex(r.iv), r.seq);
      expect(hex(nonce)).toBe(r.nonce);
      const aad = stack.jcs(stack.without(r.envelope, "payload", "signature"));
      expect(Buffer.from(aad).toString("utf8")).toBe(r.aad);
      const alg = r.algorithm as "chacha20-poly1305" | "aes-256-gcm";
      expect(hex(stack.seal(alg, fromHex(r.key), nonce, stack.jcs(r.inner), aad))).toBe(r.ciphertext_and_tag);
      const opened = stack.open(alg, fromHex(r.key), nonce, fromHex(r.ciphertext_and_tag), aad);
      expect(Buffer.from(opened!).toString("utf8")).toBe(r.plaintext);
      // A record whose AAD was changed does not open (PP-KS-007, PP-KS-008).
      const tamperedAad = stack.jcs({ ...(stack.without(r.envelope, "payload", "signature") as object), seq: r.seq === 0 ? 1 : r.seq - 1 });
      expect(stack.open(alg, fromHex(r.key), nonce, fromHex(r.ciphertext_and_tag), tamperedAad)).toBeNull();
    }
  });

  test("canonicalises every JCS vector", () => {
    for (const c of jcsVectors.cases) expect(Buffer.from(stack.jcs(JSON.parse(c.input))).toString("hex")).toBe(c.canonical_hex);
  });

  test("reproduces the resume binder, finished MAC and fresh keys", () => {
    const ri = resume.intermediate;
    const rm = resume.messages;
    const h0 = stack.sha256(ascii("PeerProtocol_X25519_Ed25519_SHA256_ChaChaPoly resume"));
    expect(hex(h0)).toBe(ri.h0);
    const withoutBinder = { ...rm.session_resume, payload: stack.without(rm.session_resume.payload, "binder") };
    const h1 = stack.mixHash(h0, withoutBinder);
    expect(hex(h1)).toBe(ri.h1_without_binder);
    const rs = fromHex(resume.inputs.resumption_secret);
    expect(hex(stack.hmac(stack.expand(rs, "res binder", new Uint8Array(0), 32), h1))).toBe(ri.binder);
    expect(Buffer.from(fromHex(ri.binder)).toString("base64url")).toBe(rm.session_resume.payload.binder);
    const h2 = stack.mixHash(h1, { ...rm.session_resume_ack, payload: stack.without(rm.session_resume_ack.payload, "finished") });
    expect(hex(h2)).toBe(ri.h2_without_finished);
    const dh = stack.x25519(fromHex(resume.inputs.initiator_ephemeral_private), stack.x25519Public(fromHex(resume.inputs.responder_ephemeral_private)));
    expect(hex(dh!)).toBe(ri.dh);
    const { ck, k } = stack.mixKey(rs, dh!);
    expect(hex(ck)).toBe(ri.ck_after_dh);
    expect(hex(k)).toBe(ri.finished_secret);
    expect(hex(stack.hmac(stack.expand(k, "res finished", h2, 32), h2))).toBe(ri.finished);
    expect(hex(stack.expand(ck, "i2r key", h2, 32))).toBe(ri.i2r_key);
    expect(hex(stack.expand(ck, "i2r iv", h2, 12))).toBe(ri.i2r_iv);
    expect(hex(stack.expand(ck, "r2i key", h2, 32))).toBe(ri.r2i_key);
    expect(hex(stack.expand(ck, "r2i iv", h2, 12))).toBe(ri.r2i_iv);
    expect(hex(stack.expand(ck, "resumption", h2, 32))).toBe(ri.next_resumption_secret);
  });

  test("reassembles the chunking vector and checks its digest", () => {
    const bytes = Buffer.concat(chunking.chunks.map((c) => Buffer.from(c.data, "base64url")));
    expect(bytes.toString("utf8")).toBe(chunking.payload_jcs);
    expect(Buffer.from(stack.jcs(chunking.payload)).toString("utf8")).toBe(chunking.payload_jcs);
    expect(bytes.length).toBe(chunking.total_size);
    expect(Buffer.from(stack.sha256(bytes)).toString("base64url")).toBe(chunking.digest);
    expect(chunking.chunks.every((c) => c.data.length > 0 && Buffer.from(c.data, "base64url").length <= chunking.max_chunk_bytes)).toBe(true);
    expect(chunking.chunks.filter((c) => c.is_last).map((c) => c.sequence_number)).toEqual([chunking.chunks.length - 1]);
  });

  test.each(negative.cases)("rejects negative vector: $name", (c) => {
    const v = c as Record<string, unknown> & { kind: string; expected_error: string };
    expect(v.expected_error).toMatch(/^[A-Z_]+$/);
    switch (v.kind) {
      case "x25519-shared-secret":
        expect(stack.x25519(fromHex(v.own_ephemeral_private as string), fromHex(v.peer_ephemeral_public as string))).toBeNull();
        break;
      case "ed25519-public-key":
        expect(stack.keyProblem(fromHex(v.public_key as string))).not.toBeNull();
        break;
      case "ed25519-signature":
        expect(stack.verifyStrict(fromHex(v.public_key as string), fromHex(v.message as string), fromHex(v.signature as string))).toBe(false);
        if (v.valid_signature) expect(stack.verifyStrict(fromHex(v.public_key as string), fromHex(v.message as string), fromHex(v.valid_signature as string))).toBe(true);
        break;
      case "finished-mac": {
        const expected = stack.hmac(fromHex(v.finished_key as string), fromHex(v.transcript_hash as string));
        expect(hex(expected)).toBe(v.expected_finished);
        expect(hex(expected)).not.toBe(v.received_finished);
        break;
      }
      case "reflected-ephemeral":
        expect(v.own_ephemeral_public).toBe(v.peer_ephemeral_public);
        break;
      case "reflected-message":
        expect((v.received as { type: string }).type).toBe("HANDSHAKE_INIT");
        break;
      case "stripped-versions": {
        const h0 = stack.sha256(ascii("PeerProtocol_X25519_Ed25519_SHA256_ChaChaPoly"));
        expect(hex(stack.mixHash(h0, v.sent_init as object))).toBe(v.initiator_h1);
        expect(hex(stack.mixHash(h0, v.received_init as object))).toBe(v.responder_h1);
        expect(v.initiator_h1).not.toBe(v.responder_h1);
        break;
      }
      default:
        throw new Error(`unknown negative vector kind ${v.kind}`);
    }
  });
});

test("the identity-point forgery verifies under a permissive verifier, which is why strict checks exist", async () => {
  const { ed25519 } = await import("@noble/curves/ed25519.js");
  const forgery = negative.cases.find((c) => c.name.startsWith("identity-point forgery")) as { public_key: string; message: string; signature: string };
  expect(ed25519.verify(fromHex(forgery.signature), fromHex(forgery.message), fromHex(forgery.public_key), { zip215: true })).toBe(true);
  const { createPublicKey, verify } = await import("node:crypto");
  const identityKey = createPublicKey({ key: Buffer.concat([Buffer.from("302a300506032b6570032100", "hex"), fromHex(forgery.public_key)]), format: "der", type: "spki" });
  expect(verify(null, fromHex(forgery.message), identityKey, fromHex(forgery.signature))).toBe(true);
  for (const stack of referenceStacks) expect(stack.verifyStrict(fromHex(forgery.public_key), fromHex(forgery.message), fromHex(forgery.signature)), stack.name).toBe(false);
});
