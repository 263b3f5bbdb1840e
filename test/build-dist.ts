/**
 * Vitest global setup: builds dist/ once before any test runs. The bins (`bin/*.js`), the package's
 * exports (`peer-protocol/conformance`, ...) and the packed tarball all run the build, so a test
 * against a stale or missing dist/ would test something other than the sources. A failed build stops
 * the run with tsc's diagnostics.
 */
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

export default function buildDist(): void {
  const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
  const started = Date.now();
  const result = spawnSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], { cwd: ROOT, encoding: "utf8" });
  if (result.status !== 0) {
    throw new Error(`the build of dist/ failed (tsc -p tsconfig.build.json exited ${result.status ?? result.signal}); no test ran:\n${result.stdout}${result.stderr}${result.error ? String(result.error) : ""}`);
  }
  console.log(`dist/ built in ${Date.now() - started} ms`);
}
