/**
 * Property tests: values generated from the schemas themselves (see arbitrary.ts) validate, have a
 * stable RFC 8785 form that does not depend on member order (PP-ENV-009), and stop validating when
 * a required member is dropped or a member gets the wrong JSON type.
 */
import canonicalizeModule from "canonicalize";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BASE64URL_PATTERN, DOCUMENT_SCHEMAS, MESSAGE_SCHEMAS, validateDocument, validateEnvelope, validateInnerPayload, type DocumentName, type Version } from "../src/index.ts";
import { schemaArbitrary } from "./arbitrary.ts";

// The package is CommonJS (`module.exports = serialize`) but its types declare a default export.
const canonicalize = canonicalizeModule as unknown as (value: unknown) => string | undefined;

const RUNS = { numRuns: 30 };

type Schema = Record<string, unknown>;
interface Target {
  name: string;
  kind: "envelope" | "payload" | "document";
  schema: Schema;
  validate: (value: unknown) => ReturnType<typeof validateEnvelope>;
}

function targets(): Target[] {
  const out: Target[] = [];
  for (const version of ["1.1", "1.2"] as const satisfies Version[]) {
    for (const [type, entry] of Object.entries(MESSAGE_SCHEMAS[version]) as [string, { envelope: Schema; payload: Schema }][]) {
      out.push({ name: `${version} ${type}`, kind: "envelope", schema: entry.envelope, validate: (v) => validateEnvelope(version, v, { strict: true }) });
      out.push({ name: `${version} ${type} payload`, kind: "payload", schema: entry.payload, validate: (v) => validateInnerPayload(version, type, v, { strict: true }) });
    }
    for (const [name, schema] of Object.entries(DOCUMENT_SCHEMAS[version]) as [DocumentName, Schema][]) {
      out.push({ name: `${version} ${name}`, kind: "document", schema, validate: (v) => validateDocument(version, name, v, { strict: true }) });
    }
  }
  return out;
}

const ALL = targets();
const ENVELOPES = ALL.filter((t) => t.kind === "envelope");

/**
 * The object schema that applies to `value` (the schema, or the branch of ERROR's choice of form),
 * and whether an error must name the mutated member: with conditionals Ajv evaluates `if` before
 * `required`, so a mutation can surface at a member that depends on the mutated one.
 */
function applicable(schema: Schema, value: Record<string, unknown>): { schema: Schema; exact: boolean } {
  const object = schema.properties !== undefined ? schema : (("seq" in value ? schema.then : schema.else) as Schema);
  const conditional = object !== schema || "if" in object || "allOf" in object;
  return { schema: object, exact: !conditional };
}

/** A JSON value of a different type than `type`. */
function wrongType(type: string): unknown {
  return { string: 12345, integer: "12", number: "1.5", boolean: "true", array: { length: 0 }, object: ["x"] }[type];
}

/** A deterministic deep shuffle of object members (arrays keep their order). */
function shuffled(value: unknown, seed: number): unknown {
  let state = seed >>> 0 || 1;
  const next = () => ((state = (Math.imul(state, 1103515245) + 12345) >>> 0), state);
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (typeof v !== "object" || v === null) return v;
    const entries = Object.entries(v);
    for (let i = entries.length - 1; i > 0; i--) {
      const j = next() % (i + 1);
      [entries[i], entries[j]] = [entries[j] as [string, unknown], entries[i] as [string, unknown]];
    }
    return Object.fromEntries(entries.map(([k, sub]) => [k, walk(sub)]));
  };
  return walk(value);
}

describe("values generated from the schemas", () => {
  it.each(ALL.map((t) => [t.name, t] as const))("%s: every generated value validates", (_name, target) => {
    fc.assert(
      fc.property(schemaArbitrary(target.schema), (value) => {
        expect(target.validate(value)).toEqual({ ok: true });
      }),
      RUNS,
    );
  });

  it.each(ENVELOPES.map((t) => [t.name, t] as const))("%s: JCS is stable under a JSON round trip and independent of member order", (_name, target) => {
    fc.assert(
      fc.property(schemaArbitrary(target.schema), fc.integer(), (value, seed) => {
        const text = canonicalize(value);
        expect(text).toBeTypeOf("string");
        expect(canonicalize(JSON.parse(text as string))).toBe(text);
        expect(canonicalize(shuffled(value, seed))).toBe(text);
        expect(target.validate(shuffled(value, seed))).toEqual({ ok: true });
      }),
      RUNS,
    );
  });
});

describe("mutated values", () => {
  const objects = ALL.filter((t) => t.schema.type === "object");
  const withRequired = objects.filter((t) => t.schema.properties === undefined || ((t.schema.required ?? []) as string[]).length > 0);

  it.each(withRequired.map((t) => [t.name, t] as const))("%s: dropping a required member is rejected at that member", (_name, target) => {
    fc.assert(
      fc.property(schemaArbitrary(target.schema), fc.nat(), (value, pick) => {
        const { schema, exact } = applicable(target.schema, value as Record<string, unknown>);
        const required = (schema.required ?? []) as string[];
        fc.pre(required.length > 0);
        const name = required[pick % required.length] as string;
        const { [name]: _dropped, ...rest } = value as Record<string, unknown>;
        const result = target.validate(rest);
        expect(result.ok).toBe(false);
        if (exact && !result.ok) expect(result.path).toBe(`/${name}`);
      }),
      RUNS,
    );
  });

  it.each(objects.map((t) => [t.name, t] as const))("%s: a member of the wrong JSON type is rejected", (_name, target) => {
    fc.assert(
      fc.property(schemaArbitrary(target.schema), fc.nat(), (value, pick) => {
        const record = value as Record<string, unknown>;
        const { schema, exact } = applicable(target.schema, record);
        const properties = schema.properties as Record<string, Schema | boolean>;
        const typed = Object.keys(record).filter((name) => typeof properties[name] === "object" && typeof (properties[name] as Schema).type === "string");
        fc.pre(typed.length > 0);
        const name = typed[pick % typed.length] as string;
        const result = target.validate({ ...record, [name]: wrongType((properties[name] as Schema).type as string) });
        expect(result.ok).toBe(false);
        if (exact && !result.ok) expect(result.path.startsWith(`/${name}`)).toBe(true);
      }),
      RUNS,
    );
  });
});

describe("canonical base64url (PP-ENV-003, PP-ENV-004)", () => {
  const pattern = new RegExp(BASE64URL_PATTERN);

  it("accepts exactly the strings that decode and re-encode to themselves", () => {
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/";
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...alphabet), maxLength: 24 }), (text) => {
        const canonical = /^[A-Za-z0-9_-]*$/.test(text) && text.length % 4 !== 1 && Buffer.from(text, "base64url").toString("base64url") === text;
        expect(pattern.test(text)).toBe(canonical);
      }),
      { numRuns: 2000 },
    );
  });

  it("accepts the encoding of any byte string", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 70 }), (bytes) => {
        expect(pattern.test(Buffer.from(bytes).toString("base64url"))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});
