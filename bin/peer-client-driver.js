#!/usr/bin/env node
// Runs the build in dist/ (`npm run build`; `npm ci` and installs from a tarball or git URL include it).
// The scenario contract of `peer-conformance client`: configured by PEER_* environment variables,
// exit status 0 (completed), 1 (refused or gave up), 2 (could not run).
import { existsSync } from "node:fs";

const entry = new URL("../dist/reference/src/cli/peer-client-driver.js", import.meta.url);
if (!existsSync(entry)) {
  console.error("peer-protocol: dist/ is missing; run `npm run build`");
  process.exit(2);
}
const { main } = await import(entry.href);
const code = await main(process.env, { stderr: (line) => process.stderr.write(`${line}\n`), argv: process.argv.slice(2) });
// A connection still closing must not keep the runner waiting for the exit status.
process.exit(code);
