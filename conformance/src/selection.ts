/**
 * `--only` / `--skip`: a selector names a case id (globs with `*` allowed), a requirement id or an
 * area prefix (`PP-HS-004`, `PP-HS`), a suite (`handshake`) or a spec section (`6`, `6.2`).
 */
import { sectionNumber, type Case } from "./case.ts";

/** Local error: a usage mistake the CLI reports with exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

function globToRegExp(glob: string): RegExp {
  return new RegExp(`^${glob.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`);
}

/** What a selector looks at: server cases (case.ts) and client cases (client-mode/client-case.ts) alike. */
export type Selectable = Pick<Case, "id" | "suite" | "section" | "requirements">;

export function matches(c: Selectable, selector: string): boolean {
  const s = selector.trim();
  if (s === "") return false;
  if (s.includes("*")) return globToRegExp(s).test(c.id);
  if (c.id === s || c.suite === s) return true;
  const upper = s.toUpperCase();
  if (upper.startsWith("PP-")) return c.requirements.some((r) => r === upper || r.startsWith(`${upper}-`));
  if (/^\d+(\.\d+)*$/.test(s)) {
    const number = sectionNumber(c.section);
    return number === s || number.startsWith(`${s}.`);
  }
  return false;
}

/** Splits repeated and comma-separated flag values. */
export function selectors(values: readonly string[] | undefined): string[] {
  return (values ?? []).flatMap((v) => v.split(",")).map((v) => v.trim()).filter((v) => v !== "");
}

export interface SelectionResult<T extends Selectable = Case> {
  selected: T[];
  /** Selectors that match no case: a usage error, since a typo would silently test nothing. */
  unmatched: string[];
}

export function select<T extends Selectable = Case>(cases: readonly T[], only: readonly string[] = [], skip: readonly string[] = []): SelectionResult<T> {
  const unmatched = [...only, ...skip].filter((s) => !cases.some((c) => matches(c, s)));
  const selected = cases.filter((c) => (only.length === 0 || only.some((s) => matches(c, s))) && !skip.some((s) => matches(c, s)));
  return { selected, unmatched };
}
