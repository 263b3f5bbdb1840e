/**
 * Reads an emitted JSON Schema for humans: one row per member (nested members by path), its type,
 * whether it is required, its constraints and description; the `if`/`then`/`else` rules as
 * sentences; and the requirement ids its descriptions cite.
 */
import type { JsonSchema } from "./sources.ts";

export interface FieldRow {
  /** `payload.limits.max_frame_bytes`, `records[].seq`. */
  path: string;
  type: string;
  required: boolean;
  /** Markdown-free plain constraints; patterns and values are marked by the renderer. */
  constraints: Constraint[];
  description: string;
}

export type Constraint = { kind: "text"; text: string } | { kind: "code"; label: string; code: string };

const MAX_SAFE = 9007199254740991;

function isObject(value: unknown): value is JsonSchema {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function json(value: unknown): string {
  return JSON.stringify(value);
}

export function typeName(schema: JsonSchema): string {
  const type = schema.type;
  if (type === "array") {
    const items = isObject(schema.items) ? typeName(schema.items) : "any";
    return `array of ${items}`;
  }
  if (Array.isArray(type)) return type.join(" or ");
  if (typeof type === "string") return type;
  if (schema.const !== undefined) return typeof schema.const;
  return "any JSON value";
}

function bound(n: unknown): string {
  return n === MAX_SAFE ? "2^53-1" : String(n);
}

export function constraintsOf(schema: JsonSchema): Constraint[] {
  const out: Constraint[] = [];
  if (schema.const !== undefined) out.push({ kind: "code", label: "always", code: json(schema.const) });
  if (Array.isArray(schema.enum)) out.push({ kind: "code", label: "one of", code: schema.enum.map(json).join(", ") });
  const { minLength, maxLength, minimum, maximum, minItems, maxItems, minProperties } = schema;
  if (minLength !== undefined && minLength === maxLength) out.push({ kind: "text", text: `length ${String(minLength)}` });
  else if (minLength !== undefined && maxLength !== undefined) out.push({ kind: "text", text: `length ${String(minLength)} to ${String(maxLength)}` });
  else if (minLength !== undefined) out.push({ kind: "text", text: `length at least ${String(minLength)}` });
  else if (maxLength !== undefined) out.push({ kind: "text", text: `length at most ${String(maxLength)}` });
  if (minimum !== undefined || maximum !== undefined) {
    if (minimum !== undefined && maximum !== undefined) out.push({ kind: "text", text: `${bound(minimum)} to ${bound(maximum)}` });
    else if (minimum !== undefined) out.push({ kind: "text", text: `at least ${bound(minimum)}` });
    else out.push({ kind: "text", text: `at most ${bound(maximum)}` });
  }
  if (typeof schema.pattern === "string") out.push({ kind: "code", label: "pattern", code: schema.pattern });
  if (minItems !== undefined && maxItems !== undefined) out.push({ kind: "text", text: `${String(minItems)} to ${String(maxItems)} items` });
  else if (minItems !== undefined) out.push({ kind: "text", text: `at least ${String(minItems)} item(s)` });
  else if (maxItems !== undefined) out.push({ kind: "text", text: `at most ${String(maxItems)} items` });
  if (schema.uniqueItems === true) out.push({ kind: "text", text: "unique items" });
  if (schema.type === "array" && isObject(schema.items)) {
    for (const c of constraintsOf(schema.items)) out.push(c.kind === "code" ? { ...c, label: `each item: ${c.label}` } : { kind: "text", text: `each item: ${c.text}` });
  }
  if (minProperties !== undefined) out.push({ kind: "text", text: `at least ${String(minProperties)} member(s)` });
  if (schema.type === "object" && schema.additionalProperties === false) out.push({ kind: "text", text: "no other members" });
  return out;
}

/** The rows of an object schema's members, recursing into nested objects and arrays of objects. */
export function fieldRows(schema: JsonSchema, prefix = ""): FieldRow[] {
  const properties = isObject(schema.properties) ? schema.properties : {};
  const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
  const rows: FieldRow[] = [];
  for (const [name, sub] of Object.entries(properties)) {
    if (!isObject(sub)) continue;
    const path = `${prefix}${name}`;
    rows.push({ path, type: typeName(sub), required: required.has(name), constraints: constraintsOf(sub), description: typeof sub.description === "string" ? sub.description : "" });
    if (isObject(sub.properties)) rows.push(...fieldRows(sub, `${path}.`));
    else if (sub.type === "array" && isObject(sub.items) && isObject(sub.items.properties)) rows.push(...fieldRows(sub.items, `${path}[].`));
  }
  return rows;
}

/** `` `status` is `"READY"` ``, `` `seq` is present ``, or undefined when the condition is not of a known shape. */
function describeIf(condition: JsonSchema): string | undefined {
  const properties = isObject(condition.properties) ? condition.properties : {};
  const clauses: string[] = [];
  for (const [name, sub] of Object.entries(properties)) {
    if (sub === true) clauses.push(`\`${name}\` is present`);
    else if (isObject(sub) && Array.isArray(sub.enum)) clauses.push(sub.enum.length === 1 ? `\`${name}\` is \`${json(sub.enum[0])}\`` : `\`${name}\` is one of ${sub.enum.map((v) => `\`${json(v)}\``).join(", ")}`);
    else if (isObject(sub) && sub.const !== undefined) clauses.push(`\`${name}\` is \`${json(sub.const)}\``);
    else return undefined;
  }
  return clauses.length > 0 ? clauses.join(" and ") : undefined;
}

function describeThen(consequence: JsonSchema): string | undefined {
  const properties = isObject(consequence.properties) ? consequence.properties : {};
  const required = new Set(Array.isArray(consequence.required) ? (consequence.required as string[]) : []);
  const clauses: string[] = [];
  const present = Object.keys(properties).filter((n) => properties[n] === true || required.has(n));
  const absent = Object.keys(properties).filter((n) => properties[n] === false);
  const requiredOnly = [...required].filter((n) => !(n in properties));
  const mustHave = [...new Set([...present.filter((n) => required.has(n)), ...requiredOnly])];
  if (mustHave.length > 0) clauses.push(`${mustHave.map((n) => `\`${n}\``).join(", ")} ${mustHave.length === 1 ? "is" : "are"} required`);
  if (absent.length > 0) clauses.push(`${absent.map((n) => `\`${n}\``).join(", ")} must be absent`);
  for (const [name, sub] of Object.entries(properties)) {
    if (isObject(sub) && sub.const !== undefined) clauses.push(`\`${name}\` is \`${json(sub.const)}\``);
    else if (isObject(sub) && Array.isArray(sub.enum)) clauses.push(`\`${name}\` is one of ${sub.enum.map((v) => `\`${json(v)}\``).join(", ")}`);
    else if (isObject(sub)) return undefined;
  }
  return clauses.length > 0 ? clauses.join("; ") : undefined;
}

function ruleOf(schema: JsonSchema, at: string): string[] {
  if (!isObject(schema.if)) return [];
  const when = describeIf(schema.if);
  const then = isObject(schema.then) ? describeThen(schema.then) : undefined;
  const otherwise = isObject(schema.else) ? describeThen(schema.else) : undefined;
  const where = at === "" ? "" : `In \`${at}\`: `;
  if (when === undefined || (isObject(schema.then) && then === undefined) || (isObject(schema.else) && otherwise === undefined)) return [`${where}a conditional rule applies; see the JSON Schema.`];
  const out: string[] = [];
  if (then !== undefined) out.push(`${where}when ${when}: ${then}.`);
  if (otherwise !== undefined) out.push(`${where}otherwise: ${otherwise}.`);
  return out;
}

/** The schema's `if`/`then`/`else` rules (also inside `allOf` and nested objects) as sentences. */
export function conditionalRules(schema: JsonSchema, at = ""): string[] {
  const out = [...ruleOf(schema, at)];
  if (Array.isArray(schema.allOf)) for (const part of schema.allOf) if (isObject(part)) out.push(...ruleOf(part, at));
  const properties = isObject(schema.properties) ? schema.properties : {};
  for (const [name, sub] of Object.entries(properties)) {
    if (!isObject(sub)) continue;
    const path = at === "" ? name : `${at}.${name}`;
    if (isObject(sub.properties)) out.push(...conditionalRules(sub, path));
  }
  return out.map((s) => s.charAt(0).toUpperCase() + s.slice(1));
}

/**
 * Whole-schema variants: a schema whose `then` and `else` are complete object schemas (ERROR: a
 * record when it has `seq`, else a plaintext envelope). Undefined for an ordinary schema.
 */
export function variants(schema: JsonSchema): { when: string; schema: JsonSchema }[] | undefined {
  if (!isObject(schema.if) || !isObject(schema.then) || !isObject(schema.else)) return undefined;
  if (!isObject(schema.then.properties) || !isObject(schema.else.properties) || isObject(schema.properties)) return undefined;
  const when = describeIf(schema.if) ?? "the condition holds";
  return [
    { when: `when ${when}`, schema: schema.then },
    { when: "otherwise", schema: schema.else },
  ];
}

/** Requirement ids cited in the descriptions of a schema, by the member path that cites them. Ranges (`PP-SES-003 to PP-SES-005`) are expanded against `known`. */
export function citedRequirements(schema: JsonSchema, known: readonly string[], at = ""): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const add = (id: string, path: string): void => {
    const paths = out.get(id) ?? [];
    if (!paths.includes(path)) paths.push(path);
    out.set(id, paths);
  };
  const visit = (node: unknown, path: string): void => {
    if (!isObject(node)) return;
    if (typeof node.description === "string") for (const id of idsIn(node.description, known)) add(id, path);
    if (isObject(node.properties)) for (const [name, sub] of Object.entries(node.properties)) visit(sub, path === "" ? name : `${path}.${name}`);
    if (isObject(node.items)) visit(node.items, `${path}[]`);
    for (const key of ["then", "else"]) visit(node[key], path);
    if (Array.isArray(node.allOf)) for (const part of node.allOf) visit(part, path);
  };
  visit(schema, at);
  return out;
}

/** The requirement ids a text cites, with `A to B` ranges of one area expanded against `known`. */
export function idsIn(text: string, known: readonly string[]): string[] {
  const ids = new Set<string>();
  for (const m of text.matchAll(/\b(PP-[A-Z]+)-(\d{3})(?:\s+to\s+\1-(\d{3}))?\b/g)) {
    const [, area, from, to] = m as unknown as [string, string, string, string | undefined];
    if (to === undefined) ids.add(`${area}-${from}`);
    else for (const id of known) if (id.startsWith(`${area}-`) && Number(id.slice(area.length + 1)) >= Number(from) && Number(id.slice(area.length + 1)) <= Number(to)) ids.add(id);
  }
  return [...ids];
}
