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

function relax(schema: unknown): unknown {
  if (!isSchemaObject(schema)) return schema; // `true` / `false` schemas
  const out: JsonSchema = { ...schema };
  if (out.additionalProperties === false) delete out.additionalProperties;
  for (const key of SCHEMA_MAPS) {
    const map = out[key];
    if (isSchemaObject(map)) out[key] = Object.fromEntries(Object.entries(map).map(([name, sub]) => [name, relax(sub)]));
  }
  for (const key of SCHEMA_LISTS) {
    const list = out[key];
    if (Array.isArray(list)) out[key] = list.map(relax);
  }
  for (const key of SCHEMA_SINGLES) {
    if (key in out) out[key] = relax(out[key]);
  }
  return out;
}

/** The lenient (receiver) form of a strict schema: a plain-JSON copy without `additionalProperties: false`. */
export function lenient<T extends object>(schema: T): JsonSchema {
  return relax(JSON.parse(JSON.stringify(schema))) as JsonSchema;
}
