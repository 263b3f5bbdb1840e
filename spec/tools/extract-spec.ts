/**
 * Extracts the machine-readable parts of the spec: the requirement index and the registries.
 *
 * The spec is the source of truth (DESIGN.md §2). Every normative sentence is a list item of the
 * form `- **PP-AREA-NNN** text` carrying exactly one BCP 14 key word; a key word in capitals
 * anywhere else (outside backticks) is an error, so a normative sentence cannot escape the index.
 */

export const BCP14_LEVELS = ["MUST NOT", "SHALL NOT", "SHOULD NOT", "NOT RECOMMENDED", "MUST", "SHALL", "REQUIRED", "SHOULD", "RECOMMENDED", "MAY", "OPTIONAL"] as const;
export type Bcp14Level = (typeof BCP14_LEVELS)[number];

export const REQUIREMENT_AREAS = ["ENV", "VER", "TRN", "AUTH", "HS", "KS", "SES", "DLV", "CHK", "CAP", "ERR", "LIM", "RPL", "EVT"] as const;

export interface Requirement {
  id: string;
  level: Bcp14Level;
  section: string;
  text: string;
}

export type RegistryTable = Record<string, string>[];

export interface SpecExtract {
  requirements: Requirement[];
  registries: Record<string, RegistryTable>;
}

const REQUIREMENT_LINE = /^- \*\*(PP-([A-Z]+)-(\d{3}))\*\* (.+)$/;
const KEYWORD = /\b(MUST NOT|SHALL NOT|SHOULD NOT|NOT RECOMMENDED|MUST|SHALL|REQUIRED|SHOULD|RECOMMENDED|MAY|OPTIONAL)\b/g;
const REGISTRY_MARKER = /^<!-- registry:([a-z-]+) -->$/;

export class SpecFormatError extends Error {
  constructor(line: number, reason: string) {
    super(`spec line ${line}: ${reason}`);
  }
}

/** Removes inline code spans so that quoted key words (`MUST`) are not read as normative. */
function withoutCodeSpans(text: string): string {
  return text.replace(/`[^`]*`/g, "");
}

function keywordsIn(text: string): string[] {
  return [...withoutCodeSpans(text).matchAll(KEYWORD)].map((m) => m[1] as string);
}

function tableCells(line: string): string[] {
  return line.trim().replace(/^\|/, "").replace(/\|$/, "").split("|").map((cell) => cell.trim().replace(/^`(.*)`$/, "$1"));
}

export function extractSpec(markdown: string): SpecExtract {
  const lines = markdown.split("\n");
  const requirements: Requirement[] = [];
  const registries: Record<string, RegistryTable> = {};
  const seen = new Set<string>();
  let section = "";
  let inFence = false;

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    const lineNo = i + 1;
    if (line.startsWith("```")) {
      inFence = !inFence;
      continue;
    }
    if (inFence) continue;
    const heading = /^#{2,4} (.+)$/.exec(line);
    if (heading) {
      section = (heading[1] as string).trim();
      continue;
    }
    const marker = REGISTRY_MARKER.exec(line);
    if (marker) {
      const name = marker[1] as string;
      const header = tableCells(lines[i + 1] ?? "");
      const rows: RegistryTable = [];
      let j = i + 3;
      while (j < lines.length && (lines[j] as string).startsWith("|")) {
        const cells = tableCells(lines[j] as string);
        if (cells.length !== header.length) throw new SpecFormatError(j + 1, `registry ${name} row has ${cells.length} cells, header has ${header.length}`);
        rows.push(Object.fromEntries(header.map((h, k) => [h, cells[k] as string])));
        j++;
      }
      if (rows.length === 0) throw new SpecFormatError(lineNo, `registry ${name} has no rows`);
      registries[name] = rows;
      i = j - 1;
      continue;
    }
    const req = REQUIREMENT_LINE.exec(line);
    if (req) {
      const [, id, area, , text] = req as unknown as [string, string, string, string, string];
      if (!(REQUIREMENT_AREAS as readonly string[]).includes(area)) throw new SpecFormatError(lineNo, `${id} has unknown area ${area}`);
      if (seen.has(id)) throw new SpecFormatError(lineNo, `${id} appears twice`);
      seen.add(id);
      const keywords = keywordsIn(text);
      if (keywords.length !== 1) throw new SpecFormatError(lineNo, `${id} must carry exactly one BCP 14 key word, found ${keywords.length} (${keywords.join(", ")})`);
      requirements.push({ id, level: keywords[0] as Bcp14Level, section, text });
      continue;
    }
    if (line.startsWith("|")) continue; // tables are informative or registries
    const stray = keywordsIn(line);
    if (stray.length > 0) throw new SpecFormatError(lineNo, `key word ${stray[0]} outside a requirement item`);
  }
  return { requirements, registries };
}
