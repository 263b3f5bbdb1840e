/**
 * Regenerates every generated file, or with `--check` fails when any is out of date (the drift
 * check of `npm run check`). Generated files are never edited by hand.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync, mkdirSync, existsSync } from "node:fs";
import { dirname, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { generatedFiles } from "./generated-files.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const check = process.argv.includes("--check");

const stale: string[] = [];
const written: string[] = [];
for (const { path, contents } of await generatedFiles(root)) {
  const current = existsSync(path) ? readFileSync(path, "utf8") : undefined;
  if (current === contents) continue;
  if (check) {
    stale.push(relative(root, path));
  } else {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, contents);
    written.push(relative(root, path));
    console.log(`wrote ${relative(root, path)}`);
  }
}
if (stale.length > 0) {
  console.error(`generated files are out of date (run npm run generate):\n  ${stale.join("\n  ")}`);
  process.exit(1);
}
if (check) console.log("generated files are up to date");
// The schemas read spec/registries.json when their module loads, so a registry change needs one
// more pass in a fresh process before everything that depends on it is current.
if (!check && written.includes("spec/registries.json") && !process.env.PP_GENERATE_SECOND_PASS) {
  execFileSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url)], { stdio: "inherit", env: { ...process.env, PP_GENERATE_SECOND_PASS: "1" } });
}
