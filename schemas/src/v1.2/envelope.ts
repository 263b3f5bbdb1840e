/**
 * v1.2 envelopes: the v1.1 members with `version` "1.2" (PP-VER-006) plus the optional per-message
 * `signature` of the `message-signatures` capability (section 5, PP-CAP-006).
 */
import { Type, type TSchema } from "@sinclair/typebox";
import { described, Ed25519SignatureSchema } from "../v1.1/common.ts";
import { envelopeMembers, recordEnvelope, type Annotations } from "../v1.1/envelope.ts";
import { EXAMPLE } from "../v1.1/examples.ts";

export const V = "1.2";

export const signatureMember = {
  signature: Type.Optional(
    described(
      Ed25519SignatureSchema,
      "With `message-signatures`: Ed25519(IK, SigInput(\"record signature\", JCS(envelope without signature), \"\")) (PP-CAP-006).",
      [EXAMPLE.sigC],
    ),
  ),
};

/** The members every v1.2 envelope carries (PP-ENV-002), plus the optional `signature`. */
export function envelopeMembers12<const T extends string>(type: T) {
  return { ...envelopeMembers(V, type), ...signatureMember };
}

/** The encrypted form of a v1.2 record of `type` (section 7.3). */
export function recordEnvelope12<const T extends string, E extends Record<string, TSchema>>(type: T, extra: E, annotations: Annotations) {
  return recordEnvelope(V, type, { ...signatureMember, ...extra }, annotations);
}
