import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_LIMITS,
  DiscoverySchema,
  emitJsonSchemas,
  HandshakeInitSchema,
  lenient,
  PeerMessageSchema,
  precompileValidators,
  ReportSchema,
  SessionResumeAckSchema,
  V11HandshakeInitSchema,
  validateDiscovery,
  validateDocument,
  validateEnvelope,
  validateInnerPayload,
  validateReport,
} from "../src/index.ts";

const example = <T>(schema: { examples?: unknown }): T => structuredClone((schema.examples as T[])[0] as T);
const init12 = example<Record<string, unknown>>(HandshakeInitSchema);
const init11 = example<Record<string, unknown>>(V11HandshakeInitSchema);

describe("strict and lenient validation (PP-ENV-001, PP-VER-001)", () => {
  it("rejects an unknown envelope member strictly and ignores it leniently", () => {
    const message = { ...init12, x_trace: "abc" };
    expect(validateEnvelope("1.2", message, { strict: true })).toEqual({ ok: false, error: "envelope must NOT have additional property 'x_trace'", path: "/x_trace" });
    expect(validateEnvelope("1.2", message)).toEqual({ ok: true });
    expect(validateEnvelope("1.2", message, { strict: false })).toEqual({ ok: true });
  });

  it("rejects an unknown payload member strictly and ignores it leniently", () => {
    const message = { ...init12, payload: { ...(init12.payload as object), future: 1 } };
    expect(validateEnvelope("1.2", message, { strict: true })).toMatchObject({ ok: false, path: "/payload/future" });
    expect(validateEnvelope("1.2", message)).toEqual({ ok: true });
  });

  it("still rejects a malformed known member leniently", () => {
    const message = { ...init12, x_trace: "abc", payload: { ...(init12.payload as object), identity_key: "AAAA" } };
    expect(validateEnvelope("1.2", message)).toMatchObject({ ok: false, path: "/payload/identity_key" });
  });

  it("lets a v1.1 receiver ignore the v1.2 members of a HANDSHAKE_INIT, and a strict v1.1 check reject them", () => {
    const message = { ...init11, payload: init12.payload };
    expect(validateEnvelope("1.1", message)).toEqual({ ok: true });
    expect(validateEnvelope("1.1", message, { strict: true })).toMatchObject({ ok: false, path: "/payload/versions" });
  });

  it("derives the lenient schema by removing only additionalProperties: false", () => {
    const relaxed = JSON.stringify(lenient(SessionResumeAckSchema));
    expect(relaxed).not.toContain('"additionalProperties":false');
    expect(relaxed).toContain('"ephemeral_key":false');
    expect(JSON.stringify(lenient(DiscoverySchema))).not.toContain('"additionalProperties":false');
  });
});

describe("dispatch on type (PP-ENV-008)", () => {
  it("names an unknown type", () => {
    expect(validateEnvelope("1.2", { ...init12, type: "HELLO" })).toEqual({ ok: false, error: "unknown message type HELLO", path: "/type" });
    expect(validateInnerPayload("1.2", "HELLO", {})).toEqual({ ok: false, error: "unknown message type HELLO", path: "/type" });
  });

  it("treats a type added in 1.2 as unknown in 1.1", () => {
    expect(validateEnvelope("1.1", { type: "BYE" })).toEqual({ ok: false, error: "unknown message type BYE (defined in version 1.2, not 1.1)", path: "/type" });
  });

  it("does not take inherited object members for message types", () => {
    expect(validateEnvelope("1.2", { type: "constructor" })).toMatchObject({ ok: false, path: "/type" });
    expect(validateEnvelope("1.2", { type: "__proto__" })).toMatchObject({ ok: false, path: "/type" });
  });

  it("rejects a non-object, a missing type and a non-string type", () => {
    expect(validateEnvelope("1.2", "{}")).toEqual({ ok: false, error: "envelope must be a JSON object", path: "" });
    expect(validateEnvelope("1.2", [init12])).toMatchObject({ ok: false, path: "" });
    expect(validateEnvelope("1.2", {})).toEqual({ ok: false, error: "envelope must have required property 'type'", path: "/type" });
    expect(validateEnvelope("1.2", { type: 7 })).toEqual({ ok: false, error: "type must be a string", path: "/type" });
  });

  it("rejects an unknown protocol version", () => {
    expect(validateEnvelope("2.0" as "1.2", init12)).toMatchObject({ ok: false });
  });

  it("validates a record's envelope and its decrypted inner payload separately", () => {
    const record = example<Record<string, unknown>>(PeerMessageSchema);
    expect(validateEnvelope("1.2", record, { strict: true })).toEqual({ ok: true });
    expect(validateInnerPayload("1.2", "PEER_MESSAGE", { content: [1, 2, 3] }, { strict: true })).toEqual({ ok: true });
    expect(validateInnerPayload("1.2", "PEER_MESSAGE", { content: 1, sealed: "AAAA" })).toEqual({ ok: false, error: "/sealed must not be present here", path: "/sealed" });
  });

  it("accepts ERROR as a plaintext envelope before a session and as a record inside one", () => {
    const plaintext = { message_id: "msg_err_0001", type: "ERROR", version: "1.2", timestamp: 1, sender_id: "server-1", nonce: "Do9SG3t1zj0sdSrcrLePjw", payload: { code: "INVALID_MESSAGE", message: "bad", retryable: false } };
    const record = { message_id: "msg_err_0002", type: "ERROR", version: "1.2", timestamp: 1, seq: 3, session_id: "sess_fw5NgzNxRrVnl3vvYthO7w", sender_id: "server-1", payload: "VpACNbMrSQDonafXDxtKwz1W17DO48HKNgrJxrhP3W42yDnNaXFnbQ" };
    expect(validateEnvelope("1.2", plaintext, { strict: true })).toEqual({ ok: true });
    expect(validateEnvelope("1.2", record, { strict: true })).toEqual({ ok: true });
    expect(validateEnvelope("1.2", { ...record, payload: plaintext.payload })).toMatchObject({ ok: false, path: "/payload" });
  });
});

describe("a record's ciphertext left to the strict decoder (ciphertextPattern: false)", () => {
  it("keeps the minimum length, counted in code points, with the same error as with the pattern", () => {
    const record = example<Record<string, unknown>>(PeerMessageSchema);
    const payloads = fc.oneof(fc.string({ maxLength: 30 }), fc.string({ unit: "grapheme", maxLength: 30 }), fc.string({ unit: "binary", maxLength: 30 }), fc.base64String({ maxLength: 40 }));
    fc.assert(
      fc.property(payloads, (payload) => {
        const message = { ...record, payload };
        const without = validateEnvelope("1.2", message, { ciphertextPattern: false });
        const withPattern = validateEnvelope("1.2", message);
        if ([...payload].length < 22) expect(without).toEqual(withPattern);
        else expect(without).toEqual({ ok: true });
      }),
      { numRuns: 3000 },
    );
  });
});

describe("documents", () => {
  it("accepts the discovery example and requires token endpoints when tokens are required", () => {
    const doc = example<Record<string, unknown>>(DiscoverySchema);
    expect(validateDiscovery(doc, { strict: true })).toEqual({ ok: true });
    expect(validateDiscovery({ ...doc, auth: { required: true } })).toMatchObject({ ok: false, path: "/auth/token_endpoint" });
    expect(validateDiscovery({ ...doc, auth: { required: false } })).toEqual({ ok: true });
    expect(validateDiscovery({ ...doc, transports: {} })).toMatchObject({ ok: false, path: "/transports" });
    expect(validateDiscovery({ ...doc, limits: { ...DEFAULT_LIMITS, max_chunk_bytes: 0 } })).toMatchObject({ ok: false, path: "/limits/max_chunk_bytes" });
  });

  it("accepts the report example and rejects a failed case without a message", () => {
    const report = example<{ cases: Record<string, unknown>[] }>(ReportSchema);
    expect(validateReport(report)).toEqual({ ok: true });
    const { message: _message, ...caseWithoutMessage } = report.cases[0] as Record<string, unknown>;
    expect(validateReport({ ...report, cases: [caseWithoutMessage] })).toMatchObject({ ok: false, path: "/cases/0/message" });
    expect(validateReport({ ...report, extra: true })).toMatchObject({ ok: false, path: "/extra" });
  });

  it("validates HTTP and token bodies by name, and knows which version defines them", () => {
    expect(validateDocument("1.1", "http-message-response", { ack: 5 }, { strict: true })).toEqual({ ok: true });
    expect(validateDocument("1.2", "auth-challenge", { challenge: "short", expires_at: 1 })).toMatchObject({ ok: false, path: "/challenge" });
    expect(validateDocument("1.1", "discovery", {})).toEqual({ ok: false, error: "version 1.1 defines no document discovery", path: "" });
  });
});

describe("cost", () => {
  it("compiles no validator when it is imported, only on demand", () => {
    // Load time is a performance figure for bench/, not a wall-clock assertion here: what keeps the
    // import cheap is that no schema is compiled until a validator is asked for.
    const index = fileURLToPath(new URL("../src/index.ts", import.meta.url));
    const script = [
      `const { default: Ajv } = await import("ajv/dist/2020.js"); let compiled = 0;`,
      `const compile = Ajv.prototype.compile; Ajv.prototype.compile = function (...args) { compiled++; return compile.apply(this, args); };`,
      `const schemas = await import(${JSON.stringify(index)}); const before = compiled;`,
      `schemas.validateEnvelope("1.2", { type: "HANDSHAKE_INIT" }, { strict: true }); console.log(JSON.stringify([before, compiled]));`,
    ].join("\n");
    const [atImport, afterOneUse] = JSON.parse(execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { encoding: "utf8" }).trim()) as [number, number];
    expect(atImport).toBe(0);
    expect(afterOneUse).toBeGreaterThan(0);
    expect(precompileValidators()).toBe(2 * emitJsonSchemas().length);
  });
});
