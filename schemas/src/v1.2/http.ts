/**
 * HTTP binding bodies of v1.2 (section 4.3): the v1.1 token and message bodies, and the poll
 * response whose records are v1.2 records.
 */
import type { Static } from "@sinclair/typebox";
import { recordTypesFor } from "../registry.ts";
import { EXAMPLE, recordExample } from "../v1.1/examples.ts";
import * as v11 from "../v1.1/http.ts";
import { signatureMember, V } from "./envelope.ts";

export const AuthChallengeSchema = v11.AuthChallengeSchema;
export type AuthChallenge = Static<typeof AuthChallengeSchema>;
export const AuthVerifyRequestSchema = v11.AuthVerifyRequestSchema;
export type AuthVerifyRequest = Static<typeof AuthVerifyRequestSchema>;
export const AuthTokenSchema = v11.AuthTokenSchema;
export type AuthToken = Static<typeof AuthTokenSchema>;
export const HttpMessageResponseSchema = v11.HttpMessageResponseSchema;
export type HttpMessageResponse = Static<typeof HttpMessageResponseSchema>;

const pollExample = recordExample(V, "PEER_MESSAGE", 5, { sender_id: EXAMPLE.peer, recipient_id: EXAMPLE.client });

export const RecordSchema = v11.anyRecordSchema(V, recordTypesFor(V), signatureMember, {
  description: "A record of any v1.2 record type (section 7.3).",
  examples: [pollExample],
});
export type RecordEnvelope = Static<typeof RecordSchema>;

export const HttpPollResponseSchema = v11.pollResponseSchema(RecordSchema, {
  description: "Response body of `GET /peers/poll?session_id=<id>&after=<seq>` (section 4.3).",
  examples: [{ records: [pollExample] }, { records: [] }],
});
export type HttpPollResponse = Static<typeof HttpPollResponseSchema>;
