/**
 * Primitive value schemas shared by every message (spec section 5), and the small helpers that
 * build conditional keywords in the form Ajv's strict mode accepts.
 *
 * Binary values are canonical base64url without padding (PP-ENV-003, PP-ENV-004): the length is
 * never 1 modulo 4 and the unused low bits of the last character are zero, so every byte string
 * has exactly one accepted encoding. Numbers stay within the IEEE 754 safe range (PP-ENV-011).
 */
import { CloneType, Type, type Static, type TSchema, type TUnsafe } from "@sinclair/typebox";
import { EXAMPLE } from "./examples.ts";

/** 2^53 - 1, the largest integer every JSON implementation reads exactly (PP-ENV-011). */
export const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** Any number of whole 4-character groups, then an optional canonical tail of 2 or 3 characters. */
const B64U_BODY = "(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-][AQgw]|[A-Za-z0-9_-]{2}[AEIMQUYcgkosw048])?";
/** Canonical base64url without padding (PP-ENV-003, PP-ENV-004). */
export const BASE64URL_PATTERN = `^${B64U_BODY}$`;
/** 32 bytes: 43 characters, the last carrying 4 data bits (its 2 low bits zero). */
export const BASE64URL_32_PATTERN = "^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$";
/** 64 bytes: 86 characters, the last carrying 2 data bits (its 4 low bits zero). */
export const BASE64URL_64_PATTERN = "^[A-Za-z0-9_-]{85}[AQgw]$";

/** A string enum as a single `enum` keyword (TypeBox's literal unions become `anyOf`, whose Ajv errors say less). */
export function StringEnum<const T extends readonly string[]>(values: T, options: { description: string; examples?: unknown[] }): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ type: "string", enum: [...values], ...options });
}

/** A copy of `schema` with the description (and examples) of one particular use of it. */
export function described<T extends TSchema>(schema: T, description: string, examples?: unknown[]): T {
  return { ...CloneType(schema), description, ...(examples === undefined ? {} : { examples }) };
}

/**
 * A `then`/`else` clause: members that must be present and members that must be absent.
 * (`properties: {name: true}` keeps Ajv's strictRequired satisfied for `required`.)
 */
export function clause(spec: { present?: string[]; absent?: string[] }): Record<string, unknown> {
  const present = spec.present ?? [];
  const absent = spec.absent ?? [];
  return {
    properties: Object.fromEntries([...present.map((name) => [name, true]), ...absent.map((name) => [name, false])]),
    ...(present.length > 0 ? { required: present } : {}),
  };
}

/** `if` clause: member `name` is present and one of `values`. */
export function whenOneOf(name: string, values: readonly unknown[]): Record<string, unknown> {
  return { properties: { [name]: { enum: [...values] } }, required: [name] };
}

/** `if` clause: member `name` is present. */
export function whenPresent(name: string): Record<string, unknown> {
  return clause({ present: [name] });
}

export const Base64UrlSchema = Type.String({
  pattern: BASE64URL_PATTERN,
  description: "Canonical base64url without padding (RFC 4648 section 5; PP-ENV-003, PP-ENV-004).",
  examples: [EXAMPLE.ciphertext],
});
export type Base64Url = Static<typeof Base64UrlSchema>;

const BYTES_32 = { minLength: 43, maxLength: 43, pattern: BASE64URL_32_PATTERN } as const;
const BYTES_64 = { minLength: 86, maxLength: 86, pattern: BASE64URL_64_PATTERN } as const;

export const Base64Url32Schema = Type.String({
  ...BYTES_32,
  description: "32 bytes as canonical base64url without padding (43 characters).",
  examples: [EXAMPLE.keyA],
});
export type Base64Url32 = Static<typeof Base64Url32Schema>;

export const Base64Url64Schema = Type.String({
  ...BYTES_64,
  description: "64 bytes as canonical base64url without padding (86 characters).",
  examples: [EXAMPLE.sigA],
});
export type Base64Url64 = Static<typeof Base64Url64Schema>;

export const X25519KeySchema = Type.String({
  ...BYTES_32,
  description: "An X25519 ephemeral public key (RFC 7748), 32 bytes, base64url.",
  examples: [EXAMPLE.keyA],
});
export const Ed25519KeySchema = Type.String({
  ...BYTES_32,
  description: "An Ed25519 identity public key (RFC 8032), 32 bytes, base64url; strict validation is PP-KS-013, PP-KS-014.",
  examples: [EXAMPLE.identityA],
});
export const Ed25519SignatureSchema = Type.String({
  ...BYTES_64,
  description: "An Ed25519 signature, 64 bytes, base64url; strict validation is PP-KS-015, PP-KS-016.",
  examples: [EXAMPLE.sigA],
});
export const MacSchema = Type.String({
  ...BYTES_32,
  description: "An HMAC-SHA256 value or SHA-256 hash, 32 bytes, base64url.",
  examples: [EXAMPLE.finishedA],
});

export const NonceSchema = Type.String({
  minLength: 22,
  maxLength: 43,
  pattern: BASE64URL_PATTERN,
  description: "A fresh random value of 16 to 32 bytes, base64url (22 to 43 characters; PP-ENV-010).",
  examples: [EXAMPLE.nonceShort, EXAMPLE.nonceA],
});
export type Nonce = Static<typeof NonceSchema>;

/** An AEAD ciphertext always carries a 16-byte tag, so it is at least 22 characters. */
export const CiphertextSchema = Type.String({
  minLength: 22,
  pattern: BASE64URL_PATTERN,
  description: "b64u(AEAD-Seal(k, nonce, JCS(inner payload), AAD)) of a record (section 7.3); at least the 16-byte tag.",
  examples: [EXAMPLE.ciphertext],
});

export const MessageIdSchema = Type.String({
  pattern: "^[A-Za-z0-9_-]{8,128}$",
  description: "Unique per sender; the de-duplication key (section 5; PP-ENV-006, PP-DLV-003).",
  examples: ["msg_01HZX3K9V7Q4"],
});
export type MessageId = Static<typeof MessageIdSchema>;

export const EntityIdSchema = Type.String({
  pattern: "^[A-Za-z0-9._:-]{1,128}$",
  description: "An entity id: 1 to 128 of [A-Za-z0-9._:-] (section 5).",
  examples: ["agent-alice"],
});
export type EntityId = Static<typeof EntityIdSchema>;

export const SessionIdSchema = Type.String({
  pattern: "^sess_[A-Za-z0-9_-]{22}$",
  description: "A session id: `sess_` and 22 base64url characters, 128 random bits (section 5; PP-HS-012).",
  examples: [EXAMPLE.sessionId],
});
export type SessionId = Static<typeof SessionIdSchema>;

export const TimestampSchema = Type.Integer({
  minimum: 0,
  maximum: MAX_SAFE,
  description: "Integer milliseconds since the Unix epoch (PP-ENV-005, PP-ENV-011).",
  examples: [EXAMPLE.timestamp],
});
export type Timestamp = Static<typeof TimestampSchema>;

export const SeqSchema = Type.Integer({
  minimum: 0,
  maximum: MAX_SAFE,
  description: "A per-direction record number, from 0 (PP-KS-005, PP-KS-009).",
  examples: [0, 41],
});
export type Seq = Static<typeof SeqSchema>;

export const ChannelNameSchema = Type.String({
  pattern: "^[A-Za-z0-9._:-]{1,128}$",
  description: "An events channel name (PP-EVT-007).",
  examples: ["weather.alerts"],
});
export type ChannelName = Static<typeof ChannelNameSchema>;

/** Identifiers chosen by the sender that the spec gives no other form: `task_id`, `ping_id`, `event_id`, `action`. */
export const OpaqueIdSchema = Type.String({
  pattern: "^[A-Za-z0-9._:-]{1,128}$",
  description: "An opaque identifier chosen by its sender: 1 to 128 of [A-Za-z0-9._:-].",
  examples: ["task-7"],
});

export const TextSchema = Type.String({
  maxLength: 1024,
  description: "Human-readable text; never tokens, keys or session secrets (PP-ERR-008, PP-AUTH-008).",
  examples: ["record failed schema validation"],
});

/** Any JSON value: the application's content. */
export const JsonValueSchema = Type.Unknown({ description: "Any JSON value, chosen by the application.", examples: [{ text: "hello" }] });
