/**
 * A fast-check arbitrary for the subset of JSON Schema 2020-12 the protocol schemas use, so that
 * property tests generate values straight from the schemas and stay in step with them.
 *
 * Supported: boolean schemas, `const`, `enum`, `type` string (pattern, minLength, maxLength),
 * integer and number (minimum, maximum), boolean, array (items, minItems, maxItems, uniqueItems),
 * object (properties, required, minProperties), schemas without `type` (any JSON value), and the
 * conditionals `if`/`then`/`else` (also inside `allOf`) in the form the schemas write them:
 * a branch requires members, forbids members (`false`) or pins a member's value.
 */
import fc from "fast-check";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";

type Schema = Record<string, unknown> | boolean;
type SchemaObject = Record<string, unknown>;

/** Evaluates `if` conditions; never used to filter generated values. */
const conditionAjv = new Ajv2020({ strict: false });
const conditions = new WeakMap<object, ValidateFunction>();
function holds(condition: SchemaObject, value: unknown): boolean {
  let validate = conditions.get(condition);
  if (validate === undefined) {
    validate = conditionAjv.compile(condition);
    conditions.set(condition, validate);
  }
  return validate(value);
}

const MAX_ITEMS = 4;
const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const cache = new WeakMap<object, fc.Arbitrary<unknown>>();

/** Any JSON value, kept small. */
const anyJson: fc.Arbitrary<unknown> = fc.jsonValue({ maxDepth: 2 });

function num(schema: SchemaObject, key: string): number | undefined {
  const value = schema[key];
  return typeof value === "number" ? value : undefined;
}

function stringArbitrary(schema: SchemaObject): fc.Arbitrary<string> {
  const minLength = num(schema, "minLength") ?? 0;
  const maxLength = num(schema, "maxLength");
  const fits = (s: string) => s.length >= minLength && (maxLength === undefined || s.length <= maxLength);
  if (typeof schema.pattern === "string") {
    // With an unbounded repetition (`(...)*`) the length comes from fast-check's size: "small"
    // gives up to ~40 characters, "medium" up to ~400, so choose the one that meets minLength often.
    return fc.stringMatching(new RegExp(schema.pattern), { size: minLength > 40 ? "medium" : "small" }).filter(fits);
  }
  return fc.string({ minLength, maxLength: maxLength ?? Math.max(minLength, 16) });
}

function integerArbitrary(schema: SchemaObject): fc.Arbitrary<number> {
  const min = num(schema, "minimum") ?? -MAX_SAFE;
  const max = num(schema, "maximum") ?? MAX_SAFE;
  return fc.bigInt({ min: BigInt(min), max: BigInt(max) }).map(Number);
}

function numberArbitrary(schema: SchemaObject): fc.Arbitrary<number> {
  const min = num(schema, "minimum") ?? -1e9;
  const max = num(schema, "maximum") ?? 1e9;
  return fc.double({ min, max, noNaN: true, noDefaultInfinity: true }).map((n) => (Object.is(n, -0) ? 0 : n));
}

function arrayArbitrary(schema: SchemaObject): fc.Arbitrary<unknown[]> {
  const items = schemaArbitrary((schema.items ?? true) as Schema);
  const minLength = num(schema, "minItems") ?? 0;
  const maxLength = num(schema, "maxItems") ?? Math.max(minLength, MAX_ITEMS);
  if (schema.uniqueItems === true) return fc.uniqueArray(items, { minLength, maxLength, selector: (v) => JSON.stringify(v) });
  return fc.array(items, { minLength, maxLength });
}

/** The conditionals of an object schema: its own `if` and those of its `allOf` entries. */
function conditionalsOf(schema: SchemaObject): SchemaObject[] {
  const all = Array.isArray(schema.allOf) ? (schema.allOf as SchemaObject[]) : [];
  return [schema, ...all].filter((s) => typeof s.if === "object");
}

/** Makes a generated object satisfy the branches its conditions select (members required, forbidden or pinned). */
function applyConditionals(schema: SchemaObject, properties: Record<string, Schema>, base: Record<string, unknown>): fc.Arbitrary<Record<string, unknown>> {
  const set: Record<string, fc.Arbitrary<unknown>> = {};
  const remove: string[] = [];
  for (const conditional of conditionalsOf(schema)) {
    const branch = (holds(conditional.if as SchemaObject, base) ? conditional.then : conditional.else) as SchemaObject | undefined;
    if (branch === undefined) continue;
    const branchProperties = (branch.properties ?? {}) as Record<string, Schema>;
    for (const [name, sub] of Object.entries(branchProperties)) {
      if (sub === false) remove.push(name);
      else if (sub !== true) set[name] = schemaArbitrary(sub);
    }
    for (const name of (branch.required ?? []) as string[]) {
      if (!(name in base) && !(name in set)) set[name] = schemaArbitrary(properties[name] ?? true);
    }
  }
  return fc.record(set).map((values) => {
    const out = { ...base };
    for (const name of remove) delete out[name];
    return Object.assign(out, values);
  });
}

function objectArbitrary(schema: SchemaObject): fc.Arbitrary<unknown> {
  const properties = (schema.properties ?? {}) as Record<string, Schema>;
  const required = (schema.required ?? []) as string[];
  const arbitraries = Object.fromEntries(Object.entries(properties).map(([name, sub]) => [name, schemaArbitrary(sub)]));
  let result: fc.Arbitrary<Record<string, unknown>> = fc.record(arbitraries, { requiredKeys: required });
  if (conditionalsOf(schema).length > 0) result = result.chain((base) => applyConditionals(schema, properties, base));
  const minProperties = num(schema, "minProperties");
  if (minProperties !== undefined) result = result.filter((o) => Object.keys(o).length >= minProperties);
  return result;
}

/** An arbitrary of the values `schema` accepts. */
export function schemaArbitrary(schema: Schema): fc.Arbitrary<unknown> {
  if (schema === true) return anyJson;
  if (schema === false) throw new Error("no value satisfies the false schema");
  const cached = cache.get(schema);
  if (cached !== undefined) return cached;
  let arbitrary: fc.Arbitrary<unknown>;
  if ("const" in schema) arbitrary = fc.constant(schema.const);
  else if (Array.isArray(schema.enum)) arbitrary = fc.constantFrom(...(schema.enum as unknown[]));
  else if (schema.properties === undefined && typeof schema.if === "object" && typeof schema.then === "object" && typeof schema.else === "object") {
    // A choice between two whole forms (ERROR as a record or as a plaintext envelope).
    const { if: condition, then: whenTrue, else: whenFalse } = schema as { if: SchemaObject; then: SchemaObject; else: SchemaObject };
    arbitrary = fc.oneof(schemaArbitrary(whenTrue).filter((v) => holds(condition, v)), schemaArbitrary(whenFalse).filter((v) => !holds(condition, v)));
  } else {
    switch (schema.type) {
      case "string":
        arbitrary = stringArbitrary(schema);
        break;
      case "integer":
        arbitrary = integerArbitrary(schema);
        break;
      case "number":
        arbitrary = numberArbitrary(schema);
        break;
      case "boolean":
        arbitrary = fc.boolean();
        break;
      case "array":
        arbitrary = arrayArbitrary(schema);
        break;
      case "object":
        arbitrary = objectArbitrary(schema);
        break;
      case undefined:
        arbitrary = anyJson;
        break;
      default:
        throw new Error(`schemaArbitrary does not support type ${JSON.stringify(schema.type)}`);
    }
  }
  cache.set(schema, arbitrary);
  return arbitrary;
}
