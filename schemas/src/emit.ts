/**
 * Emits the JSON Schema 2020-12 files under `schemas/json/<version>/` from the TypeBox sources.
 * `spec/tools/generated-files.ts` writes them with `npm run generate` and checks them with
 * `npm run drift`; they are never edited by hand.
 *
 * File names (see schemas/README.md):
 * - `<type>.json`: a message type as it travels, kebab-case (`HANDSHAKE_INIT` -> `handshake-init.json`).
 *   For a record type this is the encrypted form, whose `payload` is the base64url ciphertext;
 *   `error.json` accepts both forms of ERROR (a record when it has `seq`).
 * - `<type>-payload.json`: the payload object: the plaintext payload of a plaintext or events
 *   message, the decrypted inner payload of a record.
 * - other documents by name: `record`, `limits`, `capabilities`, `discovery`, `auth-*`, `http-*`, `report`.
 */
import type { TSchema } from "@sinclair/typebox";
import { DOCUMENT_SCHEMAS, MESSAGE_SCHEMAS, type MessageSchemas } from "./catalog.ts";
import { VERSIONS, type MessageType, type Version } from "./registry.ts";

export const JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema";
export const SCHEMA_BASE_URL = "https://peer-protocol.dev/schemas";

export interface EmittedSchema {
  /** Relative to the repository root, e.g. `schemas/json/1.2/handshake-init.json`. */
  relativePath: string;
  schema: Record<string, unknown>;
}

/** `HANDSHAKE_INIT` -> `handshake-init`. */
export function kebabName(type: MessageType): string {
  return type.toLowerCase().replace(/_/g, "-");
}

/** The `$id` of an emitted file. */
export function schemaId(version: Version, name: string): string {
  return `${SCHEMA_BASE_URL}/${version}/${name}.json`;
}

/** Keywords first in this order, so each file reads top-down; `examples` last; other keys keep their order. */
const KEY_ORDER = [
  "$schema", "$id", "title", "description", "type", "const", "enum", "pattern", "minLength", "maxLength", "minimum", "maximum",
  "items", "minItems", "maxItems", "uniqueItems", "properties", "required", "additionalProperties", "minProperties",
];
const SCHEMA_MAPS = new Set(["properties", "patternProperties", "$defs"]);
const SCHEMA_LISTS = new Set(["allOf", "anyOf", "oneOf", "prefixItems"]);
const SCHEMA_SINGLES = new Set(["items", "contains", "if", "then", "else", "not", "additionalProperties"]);

function rank(key: string): number {
  if (key === "examples") return KEY_ORDER.length + 1;
  const index = KEY_ORDER.indexOf(key);
  return index === -1 ? KEY_ORDER.length : index;
}

/** Reorders the keywords of a schema and of its subschemas; member names and data stay as they are. */
function ordered(schema: unknown): unknown {
  if (typeof schema !== "object" || schema === null || Array.isArray(schema)) return schema;
  const entries = Object.entries(schema).map(([key, value]): [string, unknown] => {
    if (SCHEMA_MAPS.has(key) && typeof value === "object" && value !== null) return [key, Object.fromEntries(Object.entries(value).map(([name, sub]) => [name, ordered(sub)]))];
    if (SCHEMA_LISTS.has(key) && Array.isArray(value)) return [key, value.map(ordered)];
    if (SCHEMA_SINGLES.has(key)) return [key, ordered(value)];
    return [key, value];
  });
  // Array.prototype.sort is stable: keywords of equal rank keep their order.
  return Object.fromEntries(entries.sort((a, b) => rank(a[0]) - rank(b[0])));
}

function file(version: Version, name: string, title: string, schema: TSchema): EmittedSchema {
  // JSON round trip: plain data only (TypeBox's symbol-keyed markers are dropped).
  const body = ordered(JSON.parse(JSON.stringify(schema))) as Record<string, unknown>;
  return {
    relativePath: `schemas/json/${version}/${name}.json`,
    schema: { $schema: JSON_SCHEMA_DIALECT, $id: schemaId(version, name), title: `${title} (Peer Protocol ${version})`, ...body },
  };
}

/** Every JSON Schema file, per version: messages in registry order, then the other documents. */
export function emitJsonSchemas(): EmittedSchema[] {
  const out: EmittedSchema[] = [];
  for (const version of VERSIONS) {
    for (const [type, entry] of Object.entries(MESSAGE_SCHEMAS[version]) as [MessageType, MessageSchemas][]) {
      out.push(file(version, kebabName(type), type, entry.envelope));
      out.push(file(version, `${kebabName(type)}-payload`, `${type} payload`, entry.payload));
    }
    for (const [name, schema] of Object.entries(DOCUMENT_SCHEMAS[version]) as [string, TSchema][]) out.push(file(version, name, name, schema));
  }
  return out;
}
