import { existsSync, readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import { describe, expect, it } from "vitest";
import { emitJsonSchemas, JSON_SCHEMA_DIALECT, MESSAGE_SCHEMAS, messageTypesFor, SCHEMA_BASE_URL, type Version } from "../src/index.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const emitted = emitJsonSchemas();

/** One strict Ajv for all files; subschemas are compiled once per distinct content. */
const ajv = new Ajv2020({ strict: true, addUsedSchema: false });
const compiledSubschemas = new Map<string, ValidateFunction>();
function compileSubschema(schema: Record<string, unknown>): ValidateFunction {
  const { $id: _id, $schema: _schema, ...body } = schema;
  const key = JSON.stringify(body);
  let validate = compiledSubschemas.get(key);
  if (validate === undefined) {
    validate = ajv.compile(body);
    compiledSubschemas.set(key, validate);
  }
  return validate;
}

/** Every subschema that carries `examples`, with its JSON pointer. */
function* withExamples(schema: unknown, pointer = ""): Generator<[string, Record<string, unknown>]> {
  if (typeof schema !== "object" || schema === null) return;
  const s = schema as Record<string, unknown>;
  if (Array.isArray(s.examples)) yield [pointer, s];
  for (const key of ["properties", "$defs"]) {
    const map = s[key];
    if (typeof map === "object" && map !== null) for (const [name, sub] of Object.entries(map)) yield* withExamples(sub, `${pointer}/${key}/${name}`);
  }
  for (const key of ["items", "if", "then", "else", "not"]) if (key in s) yield* withExamples(s[key], `${pointer}/${key}`);
  for (const key of ["allOf", "anyOf", "oneOf"]) if (Array.isArray(s[key])) for (const [i, sub] of (s[key] as unknown[]).entries()) yield* withExamples(sub, `${pointer}/${key}/${i}`);
}

describe("emitted JSON Schemas", () => {
  it("are one envelope and one payload file per message type of each version, plus the documents", () => {
    for (const version of ["1.1", "1.2"] as const satisfies Version[]) {
      const names = emitted.filter((f) => f.relativePath.startsWith(`schemas/json/${version}/`)).map((f) => f.relativePath.split("/").pop());
      for (const type of messageTypesFor(version)) {
        const kebab = type.toLowerCase().replace(/_/g, "-");
        expect(names).toContain(`${kebab}.json`);
        expect(names).toContain(`${kebab}-payload.json`);
      }
      for (const document of ["record", "auth-challenge", "auth-verify-request", "auth-token", "http-message-response", "http-poll-response"]) expect(names).toContain(`${document}.json`);
      expect(names.length).toBe(new Set(names).size);
    }
    for (const document of ["limits", "capabilities", "discovery", "report"]) expect(emitted.map((f) => f.relativePath)).toContain(`schemas/json/1.2/${document}.json`);
    expect(emitted.length).toBe(2 * Object.keys(MESSAGE_SCHEMAS["1.1"]).length + 6 + 2 * Object.keys(MESSAGE_SCHEMAS["1.2"]).length + 10);
  });

  it.each(emitted.map((f) => [f.relativePath, f.schema] as const))("%s is a 2020-12 schema with a versioned $id that compiles under Ajv strict mode", (relativePath, schema) => {
    const [, , version, file] = relativePath.split("/");
    expect(schema.$schema).toBe(JSON_SCHEMA_DIALECT);
    expect(schema.$id).toBe(`${SCHEMA_BASE_URL}/${version}/${file}`);
    expect(typeof schema.description).toBe("string");
    expect((schema.examples as unknown[]).length).toBeGreaterThan(0);
    expect(() => new Ajv2020({ strict: true }).compile(schema)).not.toThrow();
  });

  it.each(emitted.map((f) => [f.relativePath, f.schema] as const))("every example in %s validates against its (sub)schema", (_path, schema) => {
    for (const [pointer, sub] of withExamples(schema)) {
      const validate = compileSubschema(sub);
      for (const example of sub.examples as unknown[]) expect(validate(example), `${pointer}: ${JSON.stringify(example)} ${JSON.stringify(validate.errors)}`).toBe(true);
    }
  });

  it("are written to disk exactly as generated (npm run generate; npm run drift checks this too)", () => {
    for (const { relativePath, schema } of emitted) {
      const path = `${root}${relativePath}`;
      expect(existsSync(path), relativePath).toBe(true);
      expect(readFileSync(path, "utf8"), relativePath).toBe(JSON.stringify(schema, null, 2) + "\n");
    }
    for (const version of ["1.1", "1.2"]) {
      const onDisk = readdirSync(`${root}schemas/json/${version}`).map((name) => `schemas/json/${version}/${name}`);
      expect(onDisk.sort()).toEqual(emitted.filter((f) => f.relativePath.startsWith(`schemas/json/${version}/`)).map((f) => f.relativePath).sort());
    }
  });
});
