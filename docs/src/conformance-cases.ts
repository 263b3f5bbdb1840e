/**
 * The conformance cases as the docs see them: id, title, level, suite, section, requirements.
 *
 * The registry `ALL_CASES` of `conformance/src/cases/index.ts` is the source. The suite is still
 * growing, so when that module cannot be loaded (a case file mid-edit) the case files are read as
 * text instead: each declares `suite("name", "section", [ { id, title, requirements, level } ])`.
 * The docs then say which source they used.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

export interface CaseInfo {
  id: string;
  title: string;
  level: string;
  suite: string;
  section: string;
  requirements: string[];
  requires: string[];
  slow: boolean;
}

export interface ExclusionInfo {
  requirement: string;
  reason: string;
}

export interface CaseCatalog {
  cases: CaseInfo[];
  exclusions: ExclusionInfo[];
  /** How the cases were read: `registry` (ALL_CASES) or `source` (the case files as text). */
  source: "registry" | "source";
  /** Why the registry could not be used, when `source` is `source`. */
  note?: string;
}

const CASES_DIR = "conformance/src/cases";

function asStrings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

function fromRegistry(list: readonly Record<string, unknown>[]): CaseInfo[] {
  return list.map((c) => ({
    id: String(c.id),
    title: String(c.title),
    level: String(c.level),
    suite: String(c.suite),
    section: String(c.section),
    requirements: asStrings(c.requirements),
    requires: asStrings(c.requires),
    slow: c.slow === true,
  }));
}

const STRING = String.raw`(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|\x60((?:[^\x60\\]|\\.)*)\x60)`;
const SUITE_CALL = new RegExp(String.raw`suite\(\s*${STRING}\s*,\s*${STRING}`, "g");
const CASE_HEAD = new RegExp(String.raw`\bid:\s*${STRING}\s*,\s*title:\s*${STRING}`, "g");

function stringValue(match: RegExpExecArray, first: number): string {
  return (match[first] ?? match[first + 1] ?? match[first + 2] ?? "").replace(/\\(.)/g, "$1");
}

/** Reads the cases of one case file as text (the fallback). */
export function parseCaseFile(text: string): CaseInfo[] {
  const out: CaseInfo[] = [];
  const suites = [...text.matchAll(SUITE_CALL)];
  for (const [index, call] of suites.entries()) {
    const suite = stringValue(call, 1);
    const section = stringValue(call, 4);
    const end = suites[index + 1]?.index ?? text.length;
    const body = text.slice(call.index, end);
    const heads = [...body.matchAll(CASE_HEAD)];
    for (const [k, head] of heads.entries()) {
      const chunk = body.slice(head.index, heads[k + 1]?.index ?? body.length);
      const requirements = /requirements:\s*\[([^\]]*)\]/.exec(chunk)?.[1] ?? "";
      const requires = /requires:\s*\[([^\]]*)\]/.exec(chunk)?.[1] ?? "";
      out.push({
        id: `${suite}.${stringValue(head, 1)}`,
        title: stringValue(head, 4),
        level: /level:\s*"(MUST|SHOULD|MAY)"/.exec(chunk)?.[1] ?? "MUST",
        suite,
        section,
        requirements: [...requirements.matchAll(/PP-[A-Z]+-\d{3}/g)].map((m) => m[0]),
        requires: [...requires.matchAll(/"([^"]+)"/g)].map((m) => m[1] as string),
        slow: /\bslow:\s*true/.test(chunk),
      });
    }
  }
  return out;
}

function fromSource(root: string): CaseInfo[] {
  const dir = join(root, CASES_DIR);
  return readdirSync(dir)
    .filter((name) => name.endsWith(".ts") && name !== "index.ts")
    .sort()
    .flatMap((name) => parseCaseFile(readFileSync(join(dir, name), "utf8")));
}

function parseExclusions(text: string): ExclusionInfo[] {
  return [...text.matchAll(/requirement:\s*"(PP-[A-Z]+-\d{3})"/g)].map((m) => ({ requirement: m[1] as string, reason: "see conformance/src/exclusions.ts" }));
}

export async function loadCases(root: string): Promise<CaseCatalog> {
  let exclusions: ExclusionInfo[];
  try {
    const module = (await import(pathToFileURL(join(root, "conformance/src/exclusions.ts")).href)) as { EXCLUSIONS: ExclusionInfo[] };
    exclusions = module.EXCLUSIONS.map((e) => ({ requirement: e.requirement, reason: e.reason }));
  } catch {
    exclusions = parseExclusions(readFileSync(join(root, "conformance/src/exclusions.ts"), "utf8"));
  }
  try {
    const module = (await import(pathToFileURL(join(root, CASES_DIR, "index.ts")).href)) as { ALL_CASES: readonly Record<string, unknown>[] };
    if (!Array.isArray(module.ALL_CASES)) throw new Error("conformance/src/cases/index.ts exports no ALL_CASES array");
    return { cases: fromRegistry(module.ALL_CASES), exclusions, source: "registry" };
  } catch (error) {
    const note = error instanceof Error ? error.message.split("\n")[0] : String(error);
    return { cases: fromSource(root), exclusions, source: "source", note };
  }
}
