/**
 * Regenerates every generated file, or with `--check` fails when any is out of date (the drift
 * check of `npm run check`). Generated files are never edited by hand.
 */
import { readFileSync, writeFileSync, mkdirSync, existsSync } from "node:fs";
import { dirname, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { generatedFiles } from "./generated-files.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const check = process.argv.includes("--check");

const stale: string[] = [];
for (const { path, contents } of await generatedFiles(root)) {
  const current = existsSync(path) ? readFileSync(path, "utf8") : undefined;
  if (current === contents) continue;
  if (check) {
    stale.push(relative(root, path));
  } else {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, contents);
    console.log(`wrote ${relative(root, path)}`);
  }
}
if (stale.length > 0) {
  console.error(`generated files are out of date (run npm run generate):\n  ${stale.join("\n  ")}`);
  process.exit(1);
}
if (check) console.log("generated files are up to date");
