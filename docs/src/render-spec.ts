/**
 * The spec page: `spec/peer-protocol-v1.2.md` rendered to HTML with
 * - an anchor per requirement (`<li id="PP-HS-004">`) and a link to its entry in the requirement index;
 * - every other mention of a requirement id linked to that anchor;
 * - message types, error codes, capabilities and limits in code spans linked to their reference pages;
 * - the sequence diagrams of `diagrams.ts` drawn as SVG after the ASCII diagram of their section.
 */
import type { Token, Tokens } from "marked";
import type { PlacedDiagram } from "./diagrams.ts";
import { escapeHtml } from "./layout.ts";
import { createMarked, githubSlug, plainText } from "./markdown.ts";
import { renderSequenceDiagram } from "./sequence-diagram.ts";

export interface SpecLinks {
  /** Requirement ids the spec defines. */
  requirementIds: ReadonlySet<string>;
  /** Site path of a code span's reference entry (`messages/ack.html`, `errors.html#CHUNK_ERROR`), or undefined. */
  codeTarget(code: string): string | undefined;
  /** Site path of a requirement's entry in the requirement index. */
  requirementIndex(id: string): string;
  /** What tests a requirement: "3 cases", "excluded", "no case". */
  caseLabel(id: string): string;
  /** Makes a site path relative to the spec page. */
  href(target: string): string;
}

export interface RenderedSpec {
  html: string;
  /** Sections for the sidebar: [depth, id, text]. */
  toc: { depth: number; id: string; text: string }[];
}

/** Inserts each diagram's figure after the first code block of its section. */
function placeDiagrams(tokens: Token[], diagrams: readonly PlacedDiagram[]): Token[] {
  const out: Token[] = [];
  let section = "";
  const pending = new Map(diagrams.map((d) => [d.section, d]));
  for (const token of tokens) {
    out.push(token);
    if (token.type === "heading") section = plainText((token as Tokens.Heading).tokens);
    const placed = pending.get(section);
    if (token.type === "code" && placed) {
      pending.delete(section);
      const figure = `<figure class="diagram" id="figure-${placed.diagram.id}">\n${renderSequenceDiagram(placed.diagram)}<figcaption>${escapeHtml(placed.caption)}</figcaption>\n</figure>\n`;
      out.push({ type: "html", raw: figure, text: figure, block: true, pre: false } as Tokens.HTML);
    }
  }
  if (pending.size > 0) throw new Error(`spec has no code block under section(s): ${[...pending.keys()].join(", ")} (docs/src/diagrams.ts)`);
  return out;
}

/**
 * Applies `onText` to text outside tags and `onCode` to `<code>` spans, except inside `<a>`,
 * `<pre>` and `<svg>` (links are not nested, code blocks and drawings stay as they are).
 */
export function rewriteHtml(html: string, onText: (text: string) => string, onCode: (code: string) => string | undefined): string {
  const parts = html.split(/(<[^>]+>)/);
  let skip = 0;
  let out = "";
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] as string;
    if (part.startsWith("<")) {
      if (/^<(a|pre|svg)[\s>]/i.test(part)) skip++;
      else if (/^<\/(a|pre|svg)>/i.test(part)) skip--;
      else if (skip === 0 && part === "<code>" && parts[i + 2] === "</code>") {
        const replaced = onCode(parts[i + 1] as string);
        if (replaced !== undefined) {
          out += replaced;
          i += 2;
          continue;
        }
      }
      out += part;
      continue;
    }
    out += skip === 0 ? onText(part) : part;
  }
  return out;
}

const REQ_ID = /\bPP-[A-Z]+-\d{3}\b/g;

export function renderSpec(markdown: string, diagrams: readonly PlacedDiagram[], links: SpecLinks): RenderedSpec {
  const marked = createMarked();
  const tokens = marked.lexer(markdown);
  const toc = tokens
    .filter((t): t is Tokens.Heading => t.type === "heading" && (t as Tokens.Heading).depth >= 2 && (t as Tokens.Heading).depth <= 3)
    .map((t) => ({ depth: t.depth, id: githubSlug(plainText(t.tokens)), text: plainText(t.tokens) }));
  const placed = placeDiagrams(tokens, diagrams);
  let html = marked.parser(placed);

  // Requirement items: anchor, self-link, link to the index.
  html = html.replace(/<li><strong>(PP-[A-Z]+-\d{3})<\/strong>([\s\S]*?)<\/li>/g, (_all, id: string, rest: string) => {
    const cases = `<a class="req-cases" href="${links.href(links.requirementIndex(id))}" title="requirement index">${escapeHtml(links.caseLabel(id))}</a>`;
    return `<li id="${id}" class="req"><a class="req-id" href="#${id}" data-pagefind-weight="10">${id}</a>${rest} ${cases}</li>`;
  });

  html = rewriteHtml(
    html,
    (text) => text.replace(REQ_ID, (id) => (links.requirementIds.has(id) ? `<a href="#${id}">${id}</a>` : id)),
    (code) => {
      const target = links.codeTarget(code.replace(/&quot;/g, '"'));
      return target === undefined ? undefined : `<a class="ref" href="${links.href(target)}"><code>${code}</code></a>`;
    },
  );
  return { html, toc };
}
