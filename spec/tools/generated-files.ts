/**
 * The list of generated files and how each is produced. `generate.ts` writes them; its `--check`
 * mode compares them. Add a generator here and the drift check covers it.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { extractSpec } from "./extract-spec.ts";

export interface GeneratedFile {
  path: string;
  contents: string;
}

export function json(value: unknown): string {
  return JSON.stringify(value, null, 2) + "\n";
}

export async function generatedFiles(root: string): Promise<GeneratedFile[]> {
  const spec = extractSpec(readFileSync(join(root, "spec/peer-protocol-v1.2.md"), "utf8"));
  const files: GeneratedFile[] = [
    { path: join(root, "spec/requirements.json"), contents: json(spec.requirements) },
    { path: join(root, "spec/registries.json"), contents: json(spec.registries) },
  ];
  return files;
}
