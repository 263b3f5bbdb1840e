/**
 * The discovery document served at `GET /peers/capabilities` without a token (section 4.4;
 * PP-TRN-014 to PP-TRN-016).
 */
import { Type, type Static } from "@sinclair/typebox";
import { DEFAULT_LIMITS } from "../registry.ts";
import { clause, described, Ed25519KeySchema, EntityIdSchema, whenOneOf } from "../v1.1/common.ts";
import { EXAMPLE } from "../v1.1/examples.ts";
import { CapabilityListSchema } from "./capabilities.ts";
import { VersionSchema } from "./handshake.ts";
import { LimitsSchema } from "./limits.ts";

/** An absolute path on the server, or an absolute URL (when an endpoint lives elsewhere). */
const EndpointSchema = Type.String({
  pattern: "^(?:/|https?://|wss?://)[^\\s]*$",
  maxLength: 2048,
  description: "An absolute path on this server, or an absolute http(s) or ws(s) URL.",
  examples: ["/ws/v1/peers"],
});

const endpoint = (description: string, example: string) => described(EndpointSchema, description, [example]);

export const DiscoverySchema = Type.Object(
  {
    protocol: Type.Literal("peer-protocol", { description: "Always `peer-protocol`." }),
    versions: Type.Array(VersionSchema, { minItems: 1, uniqueItems: true, description: "The versions the server speaks, most preferred first: versions this document defines.", examples: [["1.2", "1.1"]] }),
    server_id: described(EntityIdSchema, "The server's entity id; a record addressed to it addresses the server (section 5).", [EXAMPLE.server]),
    identity_key: described(Ed25519KeySchema, "The key the server uses in HANDSHAKE_INIT_ACK (PP-TRN-016, PP-HS-016).", [EXAMPLE.identityB]),
    transports: Type.Object(
      {
        websocket: Type.Optional(
          Type.Object(
            {
              peers: endpoint("The peer session endpoint (section 4.1).", "/ws/v1/peers"),
              events: Type.Optional(endpoint("The events endpoint, served with the `events` capability (PP-TRN-006).", "/ws/v1/events")),
            },
            { additionalProperties: false, description: "The WebSocket transport (sections 4.1, 4.2)." },
          ),
        ),
        http: Type.Optional(
          Type.Object(
            {
              handshake: endpoint("`POST` handshake steps (section 4.3).", "/peers/handshake"),
              message: endpoint("`POST` one record (section 4.3).", "/peers/message"),
              poll: endpoint("`GET` records after a seq (section 4.3).", "/peers/poll"),
            },
            { additionalProperties: false, description: "The HTTP binding (section 4.3)." },
          ),
        ),
      },
      { additionalProperties: false, minProperties: 1, description: "Where each transport is served; at least one." },
    ),
    capabilities: described(CapabilityListSchema, "Every capability the server supports (section 11).", [["websocket", "http", "resume", "chunking", "events"]]),
    limits: described(LimitsSchema, "The limits the server enforces (PP-TRN-015)."),
    auth: Type.Object(
      {
        required: Type.Boolean({ description: "Whether tokens are required (PP-AUTH-006)." }),
        token_endpoint: Type.Optional(endpoint("`GET` a token challenge (section 4.5).", "/auth/token")),
        verify_endpoint: Type.Optional(endpoint("`POST` a signed challenge for a token (section 4.5).", "/auth/verify")),
        algorithms: Type.Optional(
          Type.Array(Type.String({ minLength: 1, maxLength: 32, description: "A JWS algorithm name.", examples: ["EdDSA"] }), {
            minItems: 1,
            uniqueItems: true,
            description: "The JWS algorithms of issued tokens: EdDSA (PP-AUTH-003).",
            examples: [["EdDSA"]],
          }),
        ),
      },
      {
        additionalProperties: false,
        description: "Token requirements (section 4.5). A server that requires tokens names its endpoints and algorithms.",
        if: whenOneOf("required", [true]),
        then: clause({ present: ["token_endpoint", "verify_endpoint", "algorithms"] }),
      },
    ),
  },
  {
    additionalProperties: false,
    description: "The discovery document, `GET /peers/capabilities` (section 4.4).",
    examples: [
      {
        protocol: "peer-protocol",
        versions: ["1.2", "1.1"],
        server_id: EXAMPLE.server,
        identity_key: EXAMPLE.identityB,
        transports: {
          websocket: { peers: "/ws/v1/peers", events: "/ws/v1/events" },
          http: { handshake: "/peers/handshake", message: "/peers/message", poll: "/peers/poll" },
        },
        capabilities: ["websocket", "http", "resume", "chunking", "events"],
        limits: { ...DEFAULT_LIMITS },
        auth: { required: true, token_endpoint: "/auth/token", verify_endpoint: "/auth/verify", algorithms: ["EdDSA"] },
      },
    ],
  },
);
export type Discovery = Static<typeof DiscoverySchema>;
