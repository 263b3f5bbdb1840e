/**
 * The spec, its generated index and registries, and the code agree: every requirement ID in the
 * text is indexed and the reverse, IDs are unique and well-formed, and every label, error code and
 * limit named in the spec's registries is the one the implementations use.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import requirements from "../requirements.json" with { type: "json" };
import registries from "../registries.json" with { type: "json" };
import { extractSpec, REQUIREMENT_AREAS, SpecFormatError } from "../tools/extract-spec.ts";
import { ERROR_ROWS } from "../../reference/src/errors.ts";
import { DEFAULT_LIMITS } from "../../reference/src/limits.ts";

const specText = readFileSync(new URL("../peer-protocol-v1.2.md", import.meta.url), "utf8");

describe("requirement index", () => {
  test("spec/requirements.json is exactly what the spec yields", () => {
    expect(extractSpec(specText).requirements).toEqual(requirements);
  });

  test("every requirement ID mentioned anywhere in the spec is defined, and every defined ID is mentioned", () => {
    const mentioned = new Set(specText.match(/PP-[A-Z]+-\d{3}/g));
    const defined = new Set(requirements.map((r) => r.id));
    expect([...mentioned].filter((id) => !defined.has(id))).toEqual([]);
    expect([...defined].filter((id) => !mentioned.has(id))).toEqual([]);
  });

  test("IDs are unique, in known areas, and each carries one BCP 14 level", () => {
    const ids = requirements.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const r of requirements) {
      expect(REQUIREMENT_AREAS).toContain(r.id.split("-")[1]);
      expect(r.text).toContain(r.level);
    }
  });

  test("the extractor refuses a key word outside a requirement item and a requirement with two", () => {
    expect(() => extractSpec("## x\n\nImplementations MUST do this.\n")).toThrow(SpecFormatError);
    expect(() => extractSpec("## x\n\n- **PP-HS-999** A MUST and a SHOULD.\n")).toThrow(/exactly one/);
    expect(() => extractSpec("## x\n\n- **PP-HS-998** One MUST.\n- **PP-HS-998** Again MUST.\n")).toThrow(/twice/);
  });
});

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith(".ts") ? [path] : [];
  });
}

test("every requirement ID cited in the source code exists in the spec", () => {
  const root = fileURLToPath(new URL("../../", import.meta.url));
  const defined = new Set(requirements.map((r) => r.id));
  const unknown: string[] = [];
  for (const dir of ["reference/src", "conformance/src", "schemas/src", "docs/src", "bench/src"]) {
    let files: string[] = [];
    try {
      files = sourceFiles(join(root, dir));
    } catch {
      continue; // a part that does not exist yet
    }
    for (const file of files) for (const id of readFileSync(file, "utf8").match(/PP-[A-Z]+-\d{3}/g) ?? []) if (!defined.has(id)) unknown.push(`${file.slice(root.length)}: ${id}`);
  }
  expect(unknown).toEqual([]);
});

describe("registries agree with the code", () => {
  test("every error code's row is what the reference applies", () => {
    expect([...ERROR_ROWS.keys()].sort()).toEqual(registries.errors.map((r) => r.code).sort());
    for (const row of registries.errors) {
      const applied = ERROR_ROWS.get(row.code as never)!;
      expect(applied.closes).toBe(row.connection === "close");
      expect(applied.closeCode === null ? "-" : String(applied.closeCode)).toBe(row.close);
      expect(String(applied.httpStatus)).toBe(row.http);
    }
  });

  test("a closing error has a close code and an open one has none", () => {
    for (const row of registries.errors) expect(row.connection === "close").toBe(row.close !== "-");
  });

  test("every Expand and SigInput label of the registry appears in both key schedules, and no other", () => {
    const labels = registries.labels.filter((l) => l.function !== "SHA-256").map((l) => l.label);
    for (const file of ["../../reference/src/key-schedule.ts", "../../conformance/src/probe/schedule.ts"]) {
      const source = readFileSync(new URL(file, import.meta.url), "utf8");
      const used = new Set([...source.matchAll(/"((?:i|r|res) finished|(?:i2r|r2i) (?:key|iv)|resumption|res binder|(?:initiator|responder|record) signature|token challenge)"/g)].map((m) => m[1]));
      for (const label of used) expect(labels, `${file} uses unregistered label ${label}`).toContain(label);
    }
    const referenceSource = readFileSync(new URL("../../reference/src/key-schedule.ts", import.meta.url), "utf8");
    for (const label of labels) expect(referenceSource, `reference lacks ${label}`).toContain(`"${label}"`);
  });

  test("the protocol name in the label registry is the one both stacks hash", () => {
    const name = registries.labels[0]!.label;
    expect(readFileSync(new URL("../../reference/src/key-schedule.ts", import.meta.url), "utf8")).toContain(`"${name}"`);
    expect(readFileSync(new URL("../../conformance/src/probe/schedule.ts", import.meta.url), "utf8")).toContain(`"${name}"`);
  });

  test("limit defaults are the spec's table", () => {
    expect(Object.keys(DEFAULT_LIMITS).sort()).toEqual(registries.limits.map((l) => l.member).sort());
    for (const row of registries.limits) expect(DEFAULT_LIMITS[row.member as keyof typeof DEFAULT_LIMITS]).toBe(Number(row.default));
  });
});
