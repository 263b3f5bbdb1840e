#!/usr/bin/env node
// Runs the build in dist/ (`npm run build`; `npm ci` and installs from a tarball or git URL include it).
import { existsSync } from "node:fs";

const entry = new URL("../dist/conformance/src/cli.js", import.meta.url);
if (!existsSync(entry)) {
  console.error("peer-protocol: dist/ is missing; run `npm run build`");
  process.exit(2);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
