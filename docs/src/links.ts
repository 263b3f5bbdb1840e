/**
 * Where a reference points, for the two places the reference is published: the site (HTML pages,
 * one per message) and the committed Markdown under `docs/reference/` (read on GitHub, linking
 * into `spec/peer-protocol-v1.2.md` by section). The Markdown generators take a `RefLinks` and do
 * not know which one they write for.
 */
import { href } from "./layout.ts";
import { githubSlug, mdLink, mdText } from "./markdown.ts";
import { kebab, SPEC_PATH, type Requirement } from "./sources.ts";

export interface RefLinks {
  requirement(id: string): string;
  message(type: string): string;
  error(code: string): string;
  capability(name: string): string;
  limit(member: string): string;
  /** A JSON Schema file of the documented version, by name (`handshake-init`). */
  schema(name: string): string;
  /** The conformance cases citing a requirement, or undefined where there is no cases page. */
  requirementCases(id: string): string | undefined;
}

/** Site links from the page at `from` (a path from the site root). */
export function siteLinks(from: string, version: string): RefLinks {
  const to = (target: string): string => href(from, target);
  return {
    requirement: (id) => to(`spec.html#${id}`),
    message: (type) => to(`messages/${kebab(type)}.html`),
    error: (code) => to(`errors.html#${code}`),
    capability: (name) => to(`capabilities.html#${name}`),
    limit: (member) => to(`limits.html#${member}`),
    schema: (name) => to(`schemas/${version}/${name}.json`),
    requirementCases: (id) => to(`requirements.html#${id}`),
  };
}

/** Links for `docs/reference/<file>.md`, relative to that folder, as GitHub renders them. */
export function repoLinks(requirements: readonly Requirement[], version: string): RefLinks {
  const sectionOf = new Map(requirements.map((r) => [r.id, r.section]));
  return {
    requirement: (id) => `../../${SPEC_PATH}#${githubSlug(sectionOf.get(id) ?? "")}`,
    message: (type) => `messages.md#${githubSlug(type)}`,
    error: (code) => `errors.md#${code}`,
    capability: (name) => `capabilities.md#${name}`,
    limit: (member) => `limits.md#${member}`,
    schema: (name) => `../../schemas/json/${version}/${name}.json`,
    requirementCases: () => undefined,
  };
}

/** Prose from the spec or the schemas as Markdown: escaped, requirement ids linked (outside code spans). */
export function prose(text: string, links: RefLinks, known: ReadonlySet<string>): string {
  return mdText(text)
    .split(/(`[^`]*`)/)
    .map((part, i) => (i % 2 === 1 ? part : part.replace(/\bPP-[A-Z]+-\d{3}\b/g, (id) => (known.has(id) ? mdLink(id, links.requirement(id)) : id))))
    .join("");
}
