/**
 * The targets file of `peer-conformance matrix` (YAML): run options shared by all targets, and the
 * targets, each a running server (`url`) or a command that starts one (`command`, with `{port}`
 * replaced by a free port). Validated where it enters: every error names the path of the bad field
 * (`targets[1].runs: expected a positive integer, got "x"`).
 *
 *   seed: 42                    # one seed for every target, so that their results compare
 *   only: [handshake]           # run options: only, skip, runs, slow, strict, timeout (ms), token-command
 *   targets:
 *     - name: reference
 *       command: node bin/peer-server.js --port {port}
 *       ready: http://127.0.0.1:{port}/peers/capabilities   # default: discovery of `url`
 *       url: ws://127.0.0.1:{port}/ws/v1/peers             # default with a command: http://127.0.0.1:{port}
 *     - name: staging
 *       url: wss://staging.example/ws/v1/peers
 *       skip: [limits]
 */
import { parseDocument } from "yaml";
import { ALL_CASES } from "../cases/index.ts";
import { select, selectors, UsageError } from "../selection.ts";

/** Options of a run: the targets file's top level, overridden per target. */
export interface MatrixRunOptions {
  only?: string[];
  skip?: string[];
  runs?: number;
  slow?: boolean;
  strict?: boolean;
  /** Per-case timeout (ms), as --timeout. */
  timeoutMs?: number;
  tokenCommand?: string;
}

export interface MatrixTarget extends MatrixRunOptions {
  name: string;
  /** ws(s) or http(s) URL; with `command`, `{port}` in it is the port picked for the server. */
  url?: string;
  /** A shell command that starts the server; `{port}` is replaced by a free port. */
  command?: string;
  /** With `command`: the URL that answers (HTTP 2xx) when the server is ready; default the discovery URL of `url`. */
  ready?: string;
  /** With `command`: how long to wait for `ready` (ms, default 30000). */
  readyTimeoutMs?: number;
  /** With `command`: its working directory, relative to the targets file (default: the current directory). */
  cwd?: string;
  /** With `command`: extra environment variables. */
  env?: Record<string, string>;
}

export interface MatrixFile extends MatrixRunOptions {
  seed?: number;
  targets: MatrixTarget[];
}

export const DEFAULT_READY_TIMEOUT_MS = 30_000;

const RUN_KEYS = ["only", "skip", "runs", "slow", "strict", "timeout", "token-command"] as const;
const TOP_KEYS = ["seed", "targets", ...RUN_KEYS] as const;
const TARGET_KEYS = ["name", "url", "command", "ready", "ready-timeout", "cwd", "env", ...RUN_KEYS] as const;

const show = (value: unknown): string => (value === undefined ? "nothing" : value === null ? "null" : JSON.stringify(value));

function fail(path: string, message: string): never {
  throw new UsageError(`${path}: ${message}`);
}

function record(value: unknown, path: string): Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) fail(path, `expected a mapping, got ${Array.isArray(value) ? "a list" : show(value)}`);
  return value as Record<string, unknown>;
}

function onlyKeys(value: Record<string, unknown>, keys: readonly string[], path: string): void {
  for (const key of Object.keys(value)) if (!keys.includes(key)) fail(path ? `${path}.${key}` : key, `unknown key (expected one of ${keys.join(", ")})`);
}

function string(value: unknown, path: string): string {
  if (typeof value !== "string" || value.trim() === "") fail(path, `expected a non-empty string, got ${show(value)}`);
  return value;
}

function integer(value: unknown, path: string, min: number, max: number, form: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min || value > max) fail(path, `expected ${form}, got ${show(value)}`);
  return value;
}

function boolean(value: unknown, path: string): boolean {
  if (typeof value !== "boolean") fail(path, `expected true or false, got ${show(value)}`);
  return value;
}

/** A selector list: a list of strings, or one comma-separated string, as --only takes it. */
function selectorList(value: unknown, path: string): string[] {
  const items = typeof value === "string" ? [value] : Array.isArray(value) ? value : fail(path, `expected a list of case ids, requirement ids, suites or sections, got ${show(value)}`);
  items.forEach((item, i) => (typeof item === "string" || typeof item === "number" ? undefined : fail(`${path}[${i}]`, `expected a case id, requirement id, suite or section, got ${show(item)}`)));
  const list = selectors(items.map(String));
  const { unmatched } = select(ALL_CASES, list);
  if (unmatched.length > 0) fail(path, `${unmatched.map((s) => `'${s}'`).join(", ")} match${unmatched.length === 1 ? "es" : ""} no case id, requirement id, suite or section (see peer-conformance --list)`);
  return list;
}

function url(value: unknown, path: string, schemes: RegExp, form: string): string {
  const text = string(value, path);
  try {
    const parsed = new URL(text.replace(/\{port\}/g, "1"));
    if (!schemes.test(parsed.protocol)) throw new Error();
  } catch {
    fail(path, `expected ${form}, got ${show(text)}`);
  }
  return text;
}

function runOptions(value: Record<string, unknown>, path: string): MatrixRunOptions {
  const at = (key: string) => (path ? `${path}.${key}` : key);
  const options: MatrixRunOptions = {};
  if (value.only !== undefined) options.only = selectorList(value.only, at("only"));
  if (value.skip !== undefined) options.skip = selectorList(value.skip, at("skip"));
  if (value.runs !== undefined) options.runs = integer(value.runs, at("runs"), 1, 1_000_000, "a positive integer");
  if (value.slow !== undefined) options.slow = boolean(value.slow, at("slow"));
  if (value.strict !== undefined) options.strict = boolean(value.strict, at("strict"));
  if (value.timeout !== undefined) options.timeoutMs = integer(value.timeout, at("timeout"), 1, 3_600_000, "a positive number of milliseconds");
  if (value["token-command"] !== undefined) options.tokenCommand = string(value["token-command"], at("token-command"));
  return options;
}

function target(value: unknown, path: string): MatrixTarget {
  const t = record(value, path);
  onlyKeys(t, TARGET_KEYS, path);
  const name = string(t.name, `${path}.name`);
  if (!/^[A-Za-z0-9][A-Za-z0-9 ._()+-]{0,63}$/.test(name)) fail(`${path}.name`, `expected letters, digits, spaces and . _ ( ) + - (at most 64, starting with a letter or digit), got ${show(name)}`);
  const result: MatrixTarget = { name, ...runOptions(t, path) };
  if (t.url === undefined && t.command === undefined) fail(path, "give url (a running server) or command (one to start)");
  if (t.url !== undefined) result.url = url(t.url, `${path}.url`, /^(wss?|https?):$/, "a ws(s):// or http(s):// URL");
  if (t.command !== undefined) {
    result.command = string(t.command, `${path}.command`);
    if (t.ready !== undefined) result.ready = url(t.ready, `${path}.ready`, /^https?:$/, "an http(s):// URL that answers when the server is ready");
    if (t["ready-timeout"] !== undefined) result.readyTimeoutMs = integer(t["ready-timeout"], `${path}.ready-timeout`, 1, 600_000, "a positive number of milliseconds (at most 600000)");
    if (t.cwd !== undefined) result.cwd = string(t.cwd, `${path}.cwd`);
    if (t.env !== undefined) {
      const env = record(t.env, `${path}.env`);
      result.env = {};
      for (const [key, v] of Object.entries(env)) {
        if (typeof v !== "string" && typeof v !== "number" && typeof v !== "boolean") fail(`${path}.env.${key}`, `expected a string, got ${show(v)}`);
        result.env[key] = String(v);
      }
    }
  } else {
    for (const key of ["ready", "ready-timeout", "cwd", "env"] as const) if (t[key] !== undefined) fail(`${path}.${key}`, "only with command (a server the matrix starts)");
    if (/\{port\}/.test(result.url!)) fail(`${path}.url`, "{port} is only replaced for a target started by command");
  }
  return result;
}

/** Parses and validates a targets file; a UsageError names the file and the path of the bad field. */
export function parseMatrixFile(text: string, file: string): MatrixFile {
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (document.errors.length > 0) {
    const error = document.errors[0]!;
    const line = error.linePos?.[0];
    throw new UsageError(`${file}${line ? `:${line.line}:${line.col}` : ""}: not valid YAML (${error.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "")})`);
  }
  try {
    const top = record(document.toJS(), "(top level)");
    onlyKeys(top, TOP_KEYS, "");
    const targets = top.targets;
    if (!Array.isArray(targets) || targets.length === 0) fail("targets", `expected a list of one or more targets, got ${Array.isArray(targets) ? "an empty list" : show(targets)}`);
    const parsed: MatrixFile = { ...runOptions(top, ""), targets: targets.map((t, i) => target(t, `targets[${i}]`)) };
    if (top.seed !== undefined) parsed.seed = integer(top.seed, "seed", -2147483648, 2147483647, "a 32-bit integer (-2147483648 to 2147483647)");
    const names = new Map<string, number>();
    parsed.targets.forEach((t, i) => {
      const first = names.get(slug(t.name));
      if (first !== undefined) fail(`targets[${i}].name`, `${show(t.name)} names the same files as targets[${first}] (${show(parsed.targets[first]!.name)}); names must differ in more than case and punctuation`);
      names.set(slug(t.name), i);
    });
    return parsed;
  } catch (error) {
    if (error instanceof UsageError) throw new UsageError(`${file}: ${error.message}`);
    throw error;
  }
}

/** A target's run options: its own over the file's. */
export function effectiveOptions(file: MatrixFile, t: MatrixTarget): MatrixRunOptions {
  const pick = <K extends keyof MatrixRunOptions>(key: K): MatrixRunOptions[K] => t[key] ?? file[key];
  const options: MatrixRunOptions = {};
  for (const key of ["only", "skip", "runs", "slow", "strict", "timeoutMs", "tokenCommand"] as const) {
    const value = pick(key);
    if (value !== undefined) (options as Record<string, unknown>)[key] = value;
  }
  return options;
}

/** A file name for a target: its name in lower case, runs of other characters as `-`. */
export function slug(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9._]+/g, "-").replace(/^-+|-+$/g, "") || "target";
}
