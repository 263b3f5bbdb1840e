/**
 * Envelope members (spec section 5) and the record envelope (section 7.3).
 *
 * Each message schema spells out its own envelope from these parts, so that which members a type
 * carries (`session_id`, `recipient_id`, `nonce`, `seq`) is visible where the type is defined:
 *
 * - every envelope: `message_id`, `type`, `version`, `timestamp`, `sender_id`, `payload` (PP-ENV-002);
 * - plaintext envelopes: a fresh `nonce` (PP-ENV-010), `payload` an object;
 * - records: `seq` and `session_id` (PP-KS-005, PP-KS-012), `payload` the base64url ciphertext;
 * - data records also name their `recipient_id`.
 *
 * Schemas are strict (`additionalProperties: false`): they describe what a conforming sender emits
 * (PP-ENV-001). Receivers validate with the lenient variant (see `lenient.ts`), which ignores
 * unknown members as PP-VER-001 requires.
 */
import { Type, type TSchema } from "@sinclair/typebox";
import { CiphertextSchema, EntityIdSchema, MessageIdSchema, SeqSchema, SessionIdSchema, TimestampSchema } from "./common.ts";

/** The members every envelope carries (PP-ENV-002), for a given version and type. `recipient_id` is optional here. */
export function envelopeMembers<const V extends string, const T extends string>(version: V, type: T) {
  return {
    message_id: MessageIdSchema,
    type: Type.Literal(type, { description: `The message type (registry 17.1).` }),
    version: Type.Literal(version, { description: `The protocol version of this envelope (PP-VER-006).` }),
    timestamp: TimestampSchema,
    sender_id: EntityIdSchema,
    recipient_id: Type.Optional(EntityIdSchema),
  };
}

/** The members of a record envelope (section 7.3) other than those of `envelopeMembers`. */
export const recordMembers = {
  seq: SeqSchema,
  session_id: SessionIdSchema,
  payload: CiphertextSchema,
};

export interface Annotations {
  description: string;
  examples: unknown[];
}

/** Data records (section 9) must name their recipient: pass this as `extra` of `recordEnvelope`. */
export const dataRecordMembers = { recipient_id: EntityIdSchema };

/**
 * The encrypted form of a record of `type`: an envelope whose payload is the ciphertext of
 * `JCS(inner payload)` (section 7.3). `extra` adds or overrides members (v1.2's `signature`, a data record's required `recipient_id`).
 */
export function recordEnvelope<const V extends string, const T extends string, E extends Record<string, TSchema>>(
  version: V,
  type: T,
  extra: E,
  annotations: Annotations,
) {
  return Type.Object({ ...envelopeMembers(version, type), ...recordMembers, ...extra }, { additionalProperties: false, ...annotations });
}
