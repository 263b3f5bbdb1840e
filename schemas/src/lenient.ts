/**
 * Strict and lenient forms of a schema.
 *
 * The schemas are strict (`additionalProperties: false`): they describe exactly what a conforming
 * sender emits, because PP-ENV-001 forbids a sender to emit members the schema of the negotiated
 * version does not define. A receiver must instead ignore members it does not recognise
 * (PP-VER-001), so it validates with the lenient form, which is the strict schema with every
 * `additionalProperties: false` removed. Everything else (required members, types, patterns,
 * conditionals) is unchanged, so a lenient receiver still rejects a malformed known member.
 */

import { BASE64URL_PATTERN } from "./v1.1/common.ts";

/** Keywords whose value is a map of subschemas. */
const SCHEMA_MAPS = ["properties", "patternProperties", "$defs", "dependentSchemas"] as const;
/** Keywords whose value is an array of subschemas. */
const SCHEMA_LISTS = ["allOf", "anyOf", "oneOf", "prefixItems"] as const;
/** Keywords whose value is one subschema. */
const SCHEMA_SINGLES = ["items", "contains", "if", "then", "else", "not", "additionalProperties", "propertyNames", "unevaluatedItems", "unevaluatedProperties"] as const;

type JsonSchema = Record<string, unknown>;

function isSchemaObject(value: unknown): value is JsonSchema {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A copy of `schema` in which `edit` has changed every subschema, at any depth (`name`: the member a subschema describes, if any). */
function transform(schema: unknown, edit: (out: JsonSchema, name: string | undefined) => void, name?: string): unknown {
  if (!isSchemaObject(schema)) return schema; // `true` / `false` schemas
  const out: JsonSchema = { ...schema };
  edit(out, name);
  for (const key of SCHEMA_MAPS) {
    const map = out[key];
    if (isSchemaObject(map)) out[key] = Object.fromEntries(Object.entries(map).map(([member, sub]) => [member, transform(sub, edit, key === "properties" ? member : undefined)]));
  }
  for (const key of SCHEMA_LISTS) {
    const list = out[key];
    if (Array.isArray(list)) out[key] = list.map((sub) => transform(sub, edit));
  }
  for (const key of SCHEMA_SINGLES) {
    if (key in out) out[key] = transform(out[key], edit);
  }
  return out;
}

/** The lenient (receiver) form of a strict schema: a plain-JSON copy without `additionalProperties: false`. */
export function lenient<T extends object>(schema: T): JsonSchema {
  return transform(JSON.parse(JSON.stringify(schema)), (out) => {
    if (out.additionalProperties === false) delete out.additionalProperties;
  }) as JsonSchema;
}

/**
 * A copy of an envelope schema without the pattern of a record's ciphertext: the `payload` member
 * that is a base64url string (section 7.3). For a receiver that decodes the ciphertext at once with
 * a strict decoder (PP-ENV-004): see `ValidateOptions.ciphertextPattern`. Its minimum length stays,
 * as the equivalent `minLengthPattern`: Ajv checks `minLength` by counting every code point of
 * the string, the whole ciphertext, where this pattern (with Ajv's `u` flag, so counting code points
 * too) stops after the first `minLength` of them.
 */
export function withoutCiphertextPattern<T extends object>(schema: T): JsonSchema {
  return transform(JSON.parse(JSON.stringify(schema)), (out, name) => {
    if (name === "payload" && out.type === "string" && out.pattern === BASE64URL_PATTERN) {
      delete out.pattern;
      if (typeof out.minLength === "number") {
        out.pattern = minLengthPattern(out.minLength);
        delete out.minLength;
      }
    }
  }) as JsonSchema;
}

/** `^[\s\S]{n}`: at least n code points, found by looking at n of them. */
export function minLengthPattern(n: number): string {
  return `^[\\s\\S]{${n}}`;
}

/** The n of a `minLengthPattern`, or undefined for any other pattern. */
export function minLengthOfPattern(pattern: string): number | undefined {
  const match = /^\^\[\\s\\S\]\{(\d+)\}$/.exec(pattern);
  return match ? Number(match[1]) : undefined;
}
