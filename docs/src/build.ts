/**
 * `npm run docs` (the tool calls itself peer-docs; it is not in the package): builds the docs site.
 *
 *   peer-docs [--version 1.1|1.2] [--out DIR] [--no-api]
 *
 * Exit codes: 0 built; 1 the build failed (a TypeDoc warning included); 2 usage error.
 */
import { resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { ApiDocsError } from "./api-docs.ts";
import { buildSite } from "./site.ts";
import { isVersion, VERSIONS, type Version } from "./sources.ts";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));

export const USAGE = `Usage: peer-docs [options]

Builds the Peer Protocol docs site: the spec, the message reference, the registries, the
requirement index, the AsyncAPI document, the guides and the API docs.

Options:
  --version V   protocol version to document: ${VERSIONS.join(" | ")} (default 1.2)
  --out DIR     output directory (default docs/site); rebuilt from scratch
  --no-api      skip the TypeDoc API docs (faster)
  -h, --help    this help

Exit codes: 0 built; 1 the build failed; 2 usage error.`;

export class UsageError extends Error {}

export interface BuildArgs {
  version: Version;
  out: string;
  api: boolean;
  help: boolean;
}

export function parseBuildArgs(argv: string[], cwd = process.cwd()): BuildArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { version: { type: "string" }, out: { type: "string" }, "no-api": { type: "boolean" }, help: { type: "boolean", short: "h" } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new UsageError(`${(error as Error).message.split("\n")[0]} (see --help)`);
  }
  const version = values.version ?? "1.2";
  if (!isVersion(version)) throw new UsageError(`--version expects ${VERSIONS.join(" or ")}, got '${version}'`);
  if (values.out === "") throw new UsageError("--out needs a directory");
  return { version, out: resolve(cwd, values.out ?? resolve(ROOT, "docs/site")), api: values["no-api"] !== true, help: values.help === true };
}

export async function main(argv: string[]): Promise<number> {
  let args: BuildArgs;
  try {
    args = parseBuildArgs(argv);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`peer-docs: ${error.message}`);
      return 2;
    }
    throw error;
  }
  if (args.help) {
    console.log(USAGE);
    return 0;
  }
  try {
    await buildSite({ root: ROOT, version: args.version, out: args.out, api: args.api, log: (line) => console.log(`peer-docs: ${line}`) });
    return 0;
  } catch (error) {
    console.error(`peer-docs: ${error instanceof ApiDocsError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return 1;
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  process.exitCode = await main(process.argv.slice(2));
}
