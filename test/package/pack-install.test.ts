/**
 * The package as another project gets it (issue 13): `npm pack`, the tarball installed into a fresh
 * project, and the bins and the library exports used from there by plain Node, with no TypeScript
 * loader and none of this repository's dev dependencies.
 *
 * The install is offline. `npm ci` in this repository puts every dependency's tarball in the npm
 * cache, by the integrity its lockfile pins, but not the registry metadata that `npm install` needs
 * to choose versions without a lockfile. So the fresh project gets a lockfile made from this
 * repository's: the run-time dependencies at the versions tested here, which the cache holds.
 */
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ALL_CASES } from "../../conformance/src/cases/index.ts";
import { select } from "../../conformance/src/selection.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** npm settings that say where packages come from; a child keeps them (the cache is the one `npm ci` filled). */
const KEPT_NPM_CONFIG = /^npm_config_(cache|registry|userconfig|globalconfig|cafile|proxy|https_proxy|noproxy)$/i;

/**
 * This process's environment without what would change how npm or node behave in the child: the
 * variables `npm run` sets (npm_config_local_prefix would point npm at this repository), loaders
 * (NODE_OPTIONS), vitest's own.
 */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(npm_|node_options$|node_env$|vitest|tsx_)/i.test(key) && !KEPT_NPM_CONFIG.test(key)) continue;
    env[key] = value;
  }
  return env;
}

function run(command: string, args: string[], cwd: string, timeoutMs = 120_000): Promise<Result> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd, env: cleanEnv(), timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, encoding: "utf8" }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : null;
      resolve({ code, stdout, stderr: error !== null && code === null ? `${stderr}\n${error.message}` : stderr });
    });
  });
}

/** `run`, failing with the command's output unless it exits 0. */
async function ok(command: string, args: string[], cwd: string, timeoutMs?: number): Promise<string> {
  const result = await run(command, args, cwd, timeoutMs);
  if (result.code !== 0) throw new Error(`${command} ${args.join(" ")} exited ${result.code}:\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

interface LockEntry {
  dev?: boolean;
  [field: string]: unknown;
}

/** A lockfile for a project whose only dependency is this package: the non-dev entries of this repository's lockfile. */
function consumerLock(): object {
  const lock = JSON.parse(readFileSync(join(ROOT, "package-lock.json"), "utf8")) as { packages: Record<string, LockEntry> };
  const packages: Record<string, LockEntry> = { "": { name: "consumer" } };
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (path !== "" && entry.dev !== true) packages[path] = entry;
  }
  return { name: "consumer", lockfileVersion: 3, requires: true, packages };
}

interface PackedFile {
  path: string;
}

let tmp: string;
let consumer: string;
let packedFiles: string[];

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), "peer-pack-"));
  // dist/ is fresh (the global setup built it); --ignore-scripts keeps `prepare` from rebuilding it while other test files run it.
  const [packed] = JSON.parse(await ok("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", tmp], ROOT)) as [{ filename: string; files: PackedFile[] }];
  packedFiles = packed.files.map((f) => f.path);
  consumer = join(tmp, "consumer");
  mkdirSync(consumer);
  writeFileSync(join(consumer, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }, null, 2));
  writeFileSync(join(consumer, "package-lock.json"), JSON.stringify(consumerLock(), null, 2));
  await ok("npm", ["install", "--offline", "--no-audit", "--no-fund", join(tmp, packed.filename)], consumer);
}, 180_000);

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe("the packed tarball", () => {
  test("holds the build, the bins and the data, and no TypeScript sources, tests or self-test", () => {
    expect(packedFiles).toEqual(expect.arrayContaining(["dist/conformance/src/runner.js", "dist/conformance/src/runner.d.ts", "bin/peer-conformance.js", "package.json"]));
    expect(packedFiles.filter((path) => path.endsWith(".ts") && !path.endsWith(".d.ts"))).toEqual([]);
    expect(packedFiles.filter((path) => /(^|\/)test\/|\.test\.|conformance\/selftest\/|tsbuildinfo/.test(path))).toEqual([]);
  });
});

describe("installed into a fresh project", () => {
  test("npx peer-conformance --help prints the usage and exits 0", async () => {
    const result = await run("npx", ["--no-install", "peer-conformance", "--help"], consumer);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Usage: peer-conformance \[TARGET\] \[options\]/);
  });

  test("a plain .mjs file runs the handshake cases with runConformance from peer-protocol/conformance", async () => {
    writeFileSync(
      join(consumer, "consumer.mjs"),
      'import { runConformance } from "peer-protocol/conformance";\nconst report = await runConformance({ only: ["handshake"] });\nconsole.log(JSON.stringify(report.summary));\n',
    );
    const summary = JSON.parse(await ok("node", ["consumer.mjs"], consumer)) as { passed: number; failed: number; total: number };
    expect(summary.failed).toBe(0);
    expect(summary.passed).toBeGreaterThan(0);
    expect(summary.total).toBe(select(ALL_CASES, ["handshake"]).selected.length);
  }, 120_000);

  test("npx peer-conformance runs the whole suite against the embedded reference server and exits 0", { timeout: 600_000 }, async () => {
    const result = await run("npx", ["--no-install", "peer-conformance"], consumer, 600_000);
    // On failure: each failed case with its expected/actual lines (not its wire trace), the summary and stderr.
    const lines = result.stdout.split("\n");
    const failures = lines.flatMap((line, i) => (line.includes("✘") ? lines.slice(i, i + 4) : []));
    expect(result.code, [...failures, ...lines.slice(-4), result.stderr.slice(-2000)].join("\n")).toBe(0);
  });
});
