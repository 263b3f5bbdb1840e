/**
 * The conformance classes of spec §18 as data: the requirement ids a conforming client must pass,
 * read from the table under "**Client.**" (one row per area: ids, ranges `PP-HS-004 to PP-HS-008`,
 * areas `PP-KS-*` with an optional `except`, notes in parentheses, `none: …`), so that
 * `peer-conformance client` counts its coverage against the spec's own list and the list cannot
 * drift from the text.
 */
export interface ConformanceClasses {
  /** Every requirement id the client class names, in the index's order. */
  client: string[];
}

const ID = /PP-[A-Z]+-\d{3}/;

export function conformanceClasses(markdown: string, requirementIds: readonly string[]): ConformanceClasses {
  const section = /^## 18\. [^\n]*\n([\s\S]*?)(?=^## \d)/m.exec(markdown)?.[1];
  if (!section) throw new Error("spec §18 (Conformance classes) not found");
  const client = /\*\*Client\.\*\*([\s\S]*?)(?=\n\*\*|\n### |$)/.exec(section)?.[1];
  if (!client) throw new Error("spec §18 has no **Client.** paragraph");
  const rows = client.split("\n").filter((line) => /^\|\s*[A-Z]+\s*\|/.test(line));
  if (rows.length === 0) throw new Error("spec §18: the client class has no table of requirements by area");
  const list = rows
    .map((row) => row.split("|")[2] ?? "")
    .map((cell) => cell.replace(/\([^)]*\)/g, "").trim())
    .filter((cell) => !/^none\b/.test(cell))
    .join(", ");
  const known = new Set(requirementIds);
  const chosen = new Set<string>();
  const areaOf = (id: string) => id.split("-")[1]!;
  // Items are comma-separated, the last pair joined by "and"; an "except" list runs to the next comma.
  const items = list.split(/,\s*/).flatMap((piece) => (piece.includes(" except ") ? [piece] : piece.split(/\s+and\s+(?=PP-)/)));
  for (const raw of items) {
    const item = raw.trim();
    if (item === "") continue;
    const range = new RegExp(`^(${ID.source}) to (${ID.source})$`).exec(item);
    const area = /^PP-([A-Z]+)-\*(?: except (.+))?$/.exec(item);
    if (range) {
      const [from, to] = [range[1]!, range[2]!];
      if (areaOf(from) !== areaOf(to)) throw new Error(`spec §18: range ${item} spans two areas`);
      const lo = Number(from.slice(-3));
      const hi = Number(to.slice(-3));
      const ids = requirementIds.filter((id) => areaOf(id) === areaOf(from) && Number(id.slice(-3)) >= lo && Number(id.slice(-3)) <= hi);
      if (!known.has(from) || !known.has(to)) throw new Error(`spec §18: range ${item} names an id the index lacks`);
      for (const id of ids) chosen.add(id);
    } else if (area) {
      const excluded = new Set((area[2] ?? "").split(/\s*(?:,|\band\b)\s*/).filter((s) => s !== ""));
      for (const e of excluded) if (!known.has(e)) throw new Error(`spec §18: '${e}' (excepted from PP-${area[1]}-*) is not a requirement id`);
      for (const id of requirementIds) if (areaOf(id) === area[1] && !excluded.has(id)) chosen.add(id);
    } else if (new RegExp(`^${ID.source}$`).test(item)) {
      if (!known.has(item)) throw new Error(`spec §18: '${item}' is not a requirement id`);
      chosen.add(item);
    } else throw new Error(`spec §18: cannot read '${item}' in the client class (expected an id, 'A to B', or 'PP-XX-*' with an optional 'except')`);
  }
  if (chosen.size === 0) throw new Error("spec §18: the client class names no requirement");
  return { client: requirementIds.filter((id) => chosen.has(id)) };
}
