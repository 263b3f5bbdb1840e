/**
 * The list of generated files and how each is produced. `generate.ts` writes them; its `--check`
 * mode compares them. Add a generator here and the drift check covers it.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { conformanceClasses } from "./conformance-classes.ts";
import { extractSpec, type SpecExtract } from "./extract-spec.ts";
import { buildVectors } from "./vectors.ts";

export interface GeneratedFile {
  path: string;
  contents: string;
}

export function json(value: unknown): string {
  return JSON.stringify(value, null, 2) + "\n";
}

/** The limits registry of spec §13 as member -> default value. */
export function defaultLimits(registries: SpecExtract["registries"]): Record<string, number> {
  return Object.fromEntries((registries.limits ?? []).map((row) => [row.member as string, Number(row.default)]));
}

export async function generatedFiles(root: string): Promise<GeneratedFile[]> {
  const markdown = readFileSync(join(root, "spec/peer-protocol-v1.2.md"), "utf8");
  const spec = extractSpec(markdown);
  const files: GeneratedFile[] = [
    { path: join(root, "spec/requirements.json"), contents: json(spec.requirements) },
    { path: join(root, "spec/registries.json"), contents: json(spec.registries) },
    { path: join(root, "spec/conformance-classes.json"), contents: json(conformanceClasses(markdown, spec.requirements.map((r) => r.id))) },
  ];
  for (const [name, vector] of Object.entries(buildVectors(defaultLimits(spec.registries)))) files.push({ path: join(root, "spec/vectors", name), contents: json(vector) });
  for (const { relativePath, schema } of (await import("../../schemas/src/emit.ts")).emitJsonSchemas()) files.push({ path: join(root, relativePath), contents: json(schema) });
  for (const file of (await import("../../docs/src/generated.ts")).docsGeneratedFiles(root)) files.push(file);
  return files;
}
