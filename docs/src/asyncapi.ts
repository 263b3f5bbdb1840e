/**
 * The AsyncAPI 3.0 document of Peer Protocol v1.2, generated from the JSON Schemas and the message
 * type registry. It describes a server: the channels `/ws/v1/peers` and `/ws/v1/events`, a
 * `receive` operation for what clients send and a `send` operation for what the server sends, and
 * one message per type whose payload is the type's wire envelope.
 *
 * AsyncAPI's default schema format is a superset of JSON Schema draft-07, so the 2020-12 schemas
 * are down-converted: `$schema` and `$id` dropped, `$defs` -> `definitions`, `prefixItems` ->
 * `items` + `additionalItems`, `dependentRequired`/`dependentSchemas` -> `dependencies`.
 * Data keywords (`const`, `enum`, `examples`, `default`) are copied as they are.
 */
import { stringify } from "yaml";
import type { DocsSources, JsonSchema, MessageTypeInfo } from "./sources.ts";

const SCHEMA_MAPS = new Set(["properties", "patternProperties", "$defs", "definitions", "dependentSchemas"]);
const SCHEMA_LISTS = new Set(["allOf", "anyOf", "oneOf"]);
const DATA = new Set(["const", "enum", "examples", "default", "required", "dependentRequired", "type", "description", "title", "pattern", "format"]);
const DROPPED = new Set(["$schema", "$id", "$anchor", "$dynamicAnchor", "$vocabulary"]);

function isObject(value: unknown): value is JsonSchema {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function mapValues(value: unknown): unknown {
  return isObject(value) ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toDraft07(v)])) : value;
}

/** A JSON Schema 2020-12 (sub)schema as draft-07, for AsyncAPI's schema format. */
export function toDraft07(schema: unknown): unknown {
  if (!isObject(schema)) return schema; // booleans and non-schemas
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (DROPPED.has(key)) continue;
    if (DATA.has(key) && key !== "dependentRequired") out[key] = value;
    else if (key === "$ref" && typeof value === "string") out.$ref = value.replace("#/$defs/", "#/definitions/");
    else if (key === "$defs") out.definitions = mapValues(value);
    else if (key === "prefixItems" && Array.isArray(value)) {
      out.items = value.map(toDraft07);
      if (schema.items !== undefined) out.additionalItems = toDraft07(schema.items);
    } else if (key === "items" && Array.isArray(schema.prefixItems)) continue;
    else if (key === "dependentRequired" || key === "dependentSchemas") out.dependencies = { ...(isObject(out.dependencies) ? out.dependencies : {}), ...(key === "dependentRequired" ? (value as JsonSchema) : (mapValues(value) as JsonSchema)) };
    else if (SCHEMA_MAPS.has(key)) out[key] = mapValues(value);
    else if (SCHEMA_LISTS.has(key) && Array.isArray(value)) out[key] = value.map(toDraft07);
    else out[key] = isObject(value) ? toDraft07(value) : value;
  }
  return out;
}

const ref = (path: string): { $ref: string } => ({ $ref: path });

function messageObject(m: MessageTypeInfo): JsonSchema {
  const description = String(m.envelope.description ?? "");
  const sealed = m.form === "record" || m.form === "either";
  const examples = (Array.isArray(m.envelope.examples) ? m.envelope.examples : []).map((payload, i) => ({ name: `${m.slug}-${i + 1}`, payload }));
  return {
    name: m.type,
    title: m.type,
    summary: description,
    description:
      `${description}\n\nSince ${m.since}; form: ${m.form}; sent by: ${m.sentBy}.` +
      (sealed ? ` As a record its \`payload\` is the base64url AEAD ciphertext of the payload schema \`${m.type}.payload\` (components/schemas).` : ""),
    contentType: "application/json",
    payload: ref(`#/components/schemas/${m.type}`),
    ...(examples.length > 0 ? { examples } : {}),
  };
}

const CLIENT_SENT = new Set(["initiator", "client", "either"]);
const SERVER_SENT = new Set(["responder", "server", "either"]);

export function asyncApiDocument(sources: DocsSources): JsonSchema {
  if (sources.version !== "1.2") throw new Error(`the AsyncAPI document describes the WebSocket transport of v1.2; version ${sources.version} has none`);
  const peers = sources.messages.filter((m) => m.form !== "events");
  const events = sources.messages.filter((m) => m.form === "events" || m.type === "ERROR");
  const channelMessages = (list: MessageTypeInfo[]): JsonSchema => Object.fromEntries(list.map((m) => [m.type, ref(`#/components/messages/${m.type}`)]));
  const pick = (channel: string, list: MessageTypeInfo[], senders: Set<string>): { $ref: string }[] => list.filter((m) => senders.has(m.sentBy)).map((m) => ref(`#/channels/${channel}/messages/${m.type}`));
  const schemas: JsonSchema = {};
  for (const m of sources.messages) {
    schemas[m.type] = toDraft07(m.envelope);
    schemas[`${m.type}.payload`] = toDraft07(m.payload);
  }
  const wsBinding = (query: JsonSchema): JsonSchema => ({ ws: { method: "GET", query, bindingVersion: "0.1.0" } });
  const token = { type: "string", description: "A bearer token (spec section 4.5), for browsers that cannot set the Authorization header (PP-AUTH-005)." };
  return {
    asyncapi: "3.0.0",
    info: {
      title: "Peer Protocol",
      version: sources.version,
      description:
        "Peer-to-peer messaging for autonomous agents: an authenticated X25519/Ed25519 handshake, AEAD-protected records, chunking, resume and events. " +
        "This document describes a Peer Protocol v1.2 server over WebSocket; the normative text is `spec/peer-protocol-v1.2.md`. " +
        "Generated from the JSON Schemas by `docs/src/asyncapi.ts`; do not edit.",
      license: { name: "MIT" },
    },
    defaultContentType: "application/json",
    servers: {
      local: { host: "127.0.0.1:8080", protocol: "ws", description: "The reference server on loopback (`npx peer-server`). Outside loopback TLS is required (PP-TRN-017).", security: [ref("#/components/securitySchemes/bearer"), ref("#/components/securitySchemes/queryToken")] },
      production: {
        host: "{host}",
        protocol: "wss",
        description: "A deployed server, over TLS (PP-TRN-017).",
        variables: { host: { default: "peers.example.com", description: "host[:port] of the server" } },
        security: [ref("#/components/securitySchemes/bearer"), ref("#/components/securitySchemes/queryToken")],
      },
    },
    channels: {
      peers: {
        address: "/ws/v1/peers",
        title: "Peer sessions",
        description: "One envelope per WebSocket text frame (PP-TRN-001). A connection runs the six-step handshake (option B), or sends SESSION_RESUME first when its URL carries `session_id` (option A and reconnects).",
        messages: channelMessages(peers),
        bindings: wsBinding({ type: "object", properties: { session_id: { type: "string", pattern: "^sess_[A-Za-z0-9_-]{22}$", description: "Makes the connection a resume attempt (PP-TRN-004); never grants a session alone (PP-TRN-019)." }, token } }),
      },
      events: {
        address: "/ws/v1/events",
        title: "Channel subscriptions and broadcasts",
        description: "Plain (not AEAD-protected) envelopes, protected by TLS (spec section 4.2). Served by a server offering the `events` capability (PP-TRN-006).",
        messages: channelMessages(events),
        bindings: wsBinding({ type: "object", properties: { token } }),
      },
    },
    operations: {
      receivePeers: { action: "receive", channel: ref("#/channels/peers"), title: "Receive from a peer", summary: "What an initiator sends to the server on /ws/v1/peers.", messages: pick("peers", peers, CLIENT_SENT) },
      sendPeers: { action: "send", channel: ref("#/channels/peers"), title: "Send to a peer", summary: "What the server, as responder or router, sends on /ws/v1/peers.", messages: pick("peers", peers, SERVER_SENT) },
      receiveEvents: { action: "receive", channel: ref("#/channels/events"), title: "Receive subscriptions", summary: "SUBSCRIBE and UNSUBSCRIBE from a client on /ws/v1/events.", messages: pick("events", events, CLIENT_SENT).filter((r) => !r.$ref.endsWith("/ERROR")) },
      sendEvents: { action: "send", channel: ref("#/channels/events"), title: "Send events", summary: "Confirmations, EVENT deliveries and errors on /ws/v1/events.", messages: pick("events", events, SERVER_SENT) },
    },
    components: {
      messages: Object.fromEntries(sources.messages.map((m) => [m.type, messageObject(m)])),
      schemas,
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT", description: "An EdDSA JWT from POST /auth/verify, in the Authorization header (PP-AUTH-004); required only by servers configured to require tokens." },
        queryToken: { type: "httpApiKey", name: "token", in: "query", description: "The same token in the `token` query parameter of the WebSocket URL (PP-AUTH-005)." },
      },
    },
  };
}

export const ASYNCAPI_PATH = "docs/asyncapi.yaml";

export function asyncApiYaml(sources: DocsSources): string {
  const header = "# Generated by docs/src/asyncapi.ts from the JSON Schemas of Peer Protocol 1.2 (npm run generate). Do not edit.\n";
  return header + stringify(asyncApiDocument(sources), { aliasDuplicateObjects: false, lineWidth: 0 });
}
