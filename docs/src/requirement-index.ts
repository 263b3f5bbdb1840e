/**
 * The traceability pages: the requirement index (every requirement id, its level, its text and the
 * conformance cases that test it, or the reason it is excluded) and the cases page (every case, the
 * requirements it checks). Together they take an implementer from a failing case to the sentence
 * it enforces and back.
 */
import type { CaseCatalog, CaseInfo } from "./conformance-cases.ts";
import { href } from "./layout.ts";
import { mdCode, mdLink, mdTable, mdText } from "./markdown.ts";
import type { Requirement } from "./sources.ts";

const MUST = /^(MUST|REQUIRED|SHALL)/;

export interface Traceability {
  /** Requirement id -> ids of the cases citing it. */
  casesByRequirement: Map<string, string[]>;
  exclusions: Map<string, string>;
  /** Case citations of ids the spec does not define. */
  unknown: { caseId: string; requirement: string }[];
}

export function traceability(requirements: readonly Requirement[], catalog: CaseCatalog): Traceability {
  const known = new Set(requirements.map((r) => r.id));
  const casesByRequirement = new Map<string, string[]>();
  const unknown: Traceability["unknown"] = [];
  for (const c of catalog.cases)
    for (const id of c.requirements) {
      if (!known.has(id)) unknown.push({ caseId: c.id, requirement: id });
      const list = casesByRequirement.get(id) ?? [];
      if (!list.includes(c.id)) list.push(c.id);
      casesByRequirement.set(id, list);
    }
  return { casesByRequirement, exclusions: new Map(catalog.exclusions.map((e) => [e.requirement, e.reason])), unknown };
}

function bySection<T>(items: readonly T[], section: (item: T) => string): [string, T[]][] {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(section(item), [...(groups.get(section(item)) ?? []), item]);
  return [...groups];
}

function sourceNote(catalog: CaseCatalog): string {
  return catalog.source === "registry"
    ? "Cases are read from `ALL_CASES` in `conformance/src/cases/index.ts`."
    : `Cases are read from the case files as text, because \`conformance/src/cases/index.ts\` could not be loaded (${mdText(catalog.note ?? "unknown error")}).`;
}

const PAGE = "requirements.html";
const CASES = "cases.html";

export function requirementIndexMarkdown(requirements: readonly Requirement[], catalog: CaseCatalog, messagesByRequirement: Map<string, string[]>, messagePath: (type: string) => string): string {
  const trace = traceability(requirements, catalog);
  const must = requirements.filter((r) => MUST.test(r.level));
  const covered = must.filter((r) => trace.casesByRequirement.has(r.id)).length;
  const excluded = must.filter((r) => !trace.casesByRequirement.has(r.id) && trace.exclusions.has(r.id)).length;
  const untested = must.length - covered - excluded;
  const out: string[] = [];
  out.push("# Requirement index\n");
  out.push(
    `The spec has ${requirements.length} requirements, ${must.length} of them \`MUST\`-level. ` +
      `${catalog.cases.length} conformance cases test ${covered} of the \`MUST\` requirements; ${excluded} are excluded with a reason (most bind only a client, and \`peer-conformance\` tests servers); ${untested} ${untested === 1 ? "has" : "have"} no case yet. ` +
      `${sourceNote(catalog)}\n`,
  );
  out.push("Each id links to its sentence in the spec; each case links to its entry on the [cases page](<cases.html>).\n");
  if (trace.unknown.length > 0) out.push(`**Cases citing ids the spec does not define:** ${trace.unknown.map((u) => `${mdCode(u.caseId)} cites ${mdCode(u.requirement)}`).join(", ")}.\n`);
  for (const [section, reqs] of bySection(requirements, (r) => r.section)) {
    out.push(`## ${mdText(section)}\n`);
    out.push(
      mdTable(
        ["id", "level", "requirement", "tested by", "messages"],
        reqs.map((r) => {
          const cases = trace.casesByRequirement.get(r.id) ?? [];
          const exclusion = trace.exclusions.get(r.id);
          const tested =
            cases.length > 0
              ? cases.map((id) => mdLink(mdCode(id), href(PAGE, `${CASES}#${id}`))).join("<br>")
              : exclusion !== undefined
                ? `*excluded:* ${mdText(exclusion)}`
                : MUST.test(r.level)
                  ? "**no case yet**"
                  : "-";
          const messages = (messagesByRequirement.get(r.id) ?? []).map((t) => mdLink(mdCode(t), href(PAGE, messagePath(t)))).join(" ");
          return [`<a id="${r.id}"></a>${mdLink(r.id, href(PAGE, `spec.html#${r.id}`))}`, r.level, mdText(r.text), tested, messages || "-"];
        }),
      ),
    );
  }
  return out.join("\n");
}

export function casesMarkdown(requirements: readonly Requirement[], catalog: CaseCatalog): string {
  const byId = new Map(requirements.map((r) => [r.id, r]));
  const out: string[] = [];
  const suites = bySection(catalog.cases, (c) => `${c.section}\u0000${c.suite}`);
  out.push("# Conformance cases\n");
  out.push(
    `\`peer-conformance\` runs ${catalog.cases.length} cases in ${suites.length} suites, one suite per spec section. ` +
      "A failing case names its id; find it here, then follow its requirements to the sentences it enforces (hover an id for its text). " +
      `Select cases with \`--only\` / \`--skip\` by case id, requirement id, suite or section. ${sourceNote(catalog)}\n`,
  );
  for (const [key, cases] of suites) {
    const [section, suite] = key.split("\u0000") as [string, string];
    out.push(`## ${mdText(section)} (${mdCode(suite)})\n`);
    out.push(
      mdTable(
        ["case", "level", "what it checks", "requirements", "runs when"],
        cases.map((c: CaseInfo) => [
          `<a id="${c.id}"></a>${mdCode(c.id)}`,
          c.level,
          mdText(c.title),
          c.requirements.map((id) => {
            const r = byId.get(id);
            return r ? `[${id}](<${href(CASES, `spec.html#${id}`)}> "${r.text.replace(/["\\]/g, "'").replace(/`/g, "")}")` : `${mdCode(id)} (not in the spec)`;
          }).join(", "),
          [c.requires.length > 0 ? `target advertises ${c.requires.map(mdCode).join(", ")}` : "always", c.slow ? "with `--slow`" : ""].filter(Boolean).join(", "),
        ]),
      ),
    );
  }
  return out.join("\n");
}
