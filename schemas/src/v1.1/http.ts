/**
 * Bodies of the HTTP binding (section 4.3) that are not envelopes, and the token endpoints
 * (section 4.5). Envelopes sent over HTTP use the message schemas.
 */
import { Type, type Static, type TSchema } from "@sinclair/typebox";
import { recordTypesFor, type MessageType } from "../registry.ts";
import { BASE64URL_PATTERN, described, Ed25519KeySchema, Ed25519SignatureSchema, EntityIdSchema, SeqSchema, StringEnum, TimestampSchema } from "./common.ts";
import { envelopeMembers, recordMembers, type Annotations } from "./envelope.ts";
import { EXAMPLE, recordExample } from "./examples.ts";

const V = "1.1";

/** A token challenge: at least 32 random bytes (PP-AUTH-001), canonical base64url. */
const TokenChallengeSchema = Type.String({
  pattern: BASE64URL_PATTERN,
  minLength: 43,
  maxLength: 512,
  description: "At least 32 random bytes, single-use, expiring within 60 seconds (PP-AUTH-001).",
  examples: [EXAMPLE.challenge],
});

/** Expiry instants are timestamps like every other in the protocol: integer milliseconds (PP-ENV-005). */
const ExpiresAtSchema = described(TimestampSchema, "When the value expires, integer milliseconds since the Unix epoch.", [EXAMPLE.timestamp + 60_000]);

export const AuthChallengeSchema = Type.Object(
  { challenge: TokenChallengeSchema, expires_at: ExpiresAtSchema },
  {
    additionalProperties: false,
    description: "Response body of `GET /auth/token?entity_id=<id>&public_key=<b64u>` (section 4.5).",
    examples: [{ challenge: EXAMPLE.challenge, expires_at: EXAMPLE.timestamp + 60_000 }],
  },
);
export type AuthChallenge = Static<typeof AuthChallengeSchema>;

export const AuthVerifyRequestSchema = Type.Object(
  {
    entity_id: described(EntityIdSchema, "The entity the token is for; its `sub` (section 4.5).", [EXAMPLE.client]),
    public_key: described(Ed25519KeySchema, "The entity's Ed25519 identity key; the token's `cnf.jwk.x` (section 4.5).", [EXAMPLE.identityA]),
    challenge: TokenChallengeSchema,
    signature: described(Ed25519SignatureSchema, "Ed25519(identity key, SigInput(\"token challenge\", challenge, \"\")) (section 4.5; PP-AUTH-002).", [EXAMPLE.sigC]),
  },
  {
    additionalProperties: false,
    description: "Request body of `POST /auth/verify` (section 4.5).",
    examples: [{ entity_id: EXAMPLE.client, public_key: EXAMPLE.identityA, challenge: EXAMPLE.challenge, signature: EXAMPLE.sigC }],
  },
);
export type AuthVerifyRequest = Static<typeof AuthVerifyRequestSchema>;

export const AuthTokenSchema = Type.Object(
  {
    token: Type.String({
      pattern: "^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$",
      maxLength: 8192,
      description: "A compact JWT signed with EdDSA, lifetime at most 3600 s (PP-AUTH-003).",
      examples: [EXAMPLE.jwt],
    }),
    expires_at: ExpiresAtSchema,
  },
  {
    additionalProperties: false,
    description: "Response body of `POST /auth/verify` (section 4.5).",
    examples: [{ token: EXAMPLE.jwt, expires_at: EXAMPLE.timestamp + 3_600_000 }],
  },
);
export type AuthToken = Static<typeof AuthTokenSchema>;

export const HttpMessageResponseSchema = Type.Object(
  { ack: described(SeqSchema, "The seq of the record the request carried (section 4.3).", [5]) },
  { additionalProperties: false, description: "Response body of `POST /peers/message` (section 4.3).", examples: [{ ack: 5 }] },
);
export type HttpMessageResponse = Static<typeof HttpMessageResponseSchema>;

/** A record envelope of any of `types`: the items of a poll response. */
export function anyRecordSchema<const VV extends string, E extends Record<string, TSchema>>(version: VV, types: readonly MessageType[], extra: E, annotations: Annotations) {
  return Type.Object(
    {
      ...envelopeMembers(version, "RECORD"),
      type: StringEnum(types, { description: "A record type (section 7.3)." }),
      ...recordMembers,
      ...extra,
    },
    { additionalProperties: false, ...annotations },
  );
}

/** The poll response for a record schema. */
export function pollResponseSchema<R extends TSchema>(record: R, annotations: Annotations) {
  return Type.Object(
    { records: Type.Array(record, { description: "Records from the server with seq > after, in increasing seq order (PP-TRN-010)." }) },
    { additionalProperties: false, ...annotations },
  );
}

export const RecordSchema = anyRecordSchema(V, recordTypesFor(V), {}, {
  description: "A record of any v1.1 record type (section 7.3).",
  examples: [recordExample(V, "PEER_MESSAGE", 5, { sender_id: EXAMPLE.peer, recipient_id: EXAMPLE.client })],
});
export type RecordEnvelope = Static<typeof RecordSchema>;

export const HttpPollResponseSchema = pollResponseSchema(RecordSchema, {
  description: "Response body of `GET /peers/poll?session_id=<id>&after=<seq>` (section 4.3).",
  examples: [{ records: [recordExample(V, "PEER_MESSAGE", 5, { sender_id: EXAMPLE.peer, recipient_id: EXAMPLE.client })] }, { records: [] }],
});
export type HttpPollResponse = Static<typeof HttpPollResponseSchema>;
