/**
 * What client mode covers (issue 14): the requirements of spec §18's client class
 * (spec/conformance-classes.json, generated from the text) against the client cases that cite
 * them and the exclusions, each with its reason. Printed by `client --list` and counted in every
 * client run's report.
 */
import classes from "../../../spec/conformance-classes.json" with { type: "json" };
import { isMust, REQUIREMENTS, type Requirement } from "../coverage.ts";
import type { ClientCase } from "./client-case.ts";
import { CLIENT_EXCLUSIONS } from "./exclusions.ts";

/** The client class's MUST requirements, as the spec's index has them. */
export const CLIENT_REQUIREMENTS: readonly Requirement[] = REQUIREMENTS.filter((r) => classes.client.includes(r.id) && isMust(r));

export interface ClientCoverage {
  covered: string[];
  excluded: string[];
  uncovered: string[];
  total: number;
}

export function clientCoverage(cases: readonly ClientCase[]): ClientCoverage {
  const cited = new Set(cases.flatMap((c) => c.requirements));
  const excluded = new Set(CLIENT_EXCLUSIONS.map((e) => e.requirement));
  const ids = CLIENT_REQUIREMENTS.map((r) => r.id);
  return { covered: ids.filter((id) => cited.has(id)), excluded: ids.filter((id) => !cited.has(id) && excluded.has(id)), uncovered: ids.filter((id) => !cited.has(id) && !excluded.has(id)), total: ids.length };
}

export function clientCoverageLine(cases: readonly ClientCase[]): string {
  const cov = clientCoverage(cases);
  const percent = Math.round((100 * (cov.covered.length + cov.excluded.length)) / cov.total);
  const line = `client-mode MUST coverage: of the ${cov.total} requirements of the client class (spec §18), ${cov.covered.length} have a client case and ${cov.excluded.length} are excluded with a reason (${percent}%)`;
  return cov.uncovered.length > 0 ? `${line}; without either: ${cov.uncovered.join(" ")}` : `${line}; none without either`;
}

export function renderClientList(cases: readonly ClientCase[]): string {
  const lines: string[] = [];
  let section = "";
  for (const c of cases) {
    if (c.section !== section) {
      section = c.section;
      lines.push("", section);
    }
    lines.push(`  ${c.id}  [${c.level}, scenario ${c.scenario}] ${c.requirements.join(" ")}`, `      ${c.title}`);
  }
  const excluded = new Set(clientCoverage(cases).excluded);
  lines.push("", "Excluded from client mode, each with its reason");
  for (const e of CLIENT_EXCLUSIONS) if (excluded.has(e.requirement)) lines.push(`  ${e.requirement}  ${e.reason}`);
  lines.push("", `${cases.length} client cases; ${clientCoverageLine(cases)}`);
  return `${lines.join("\n").trimStart()}\n`;
}
