/**
 * Markdown for the docs: one `marked` configuration (GitHub-flavoured, headings with the ids
 * GitHub gives them, so `#6-handshake` means the same on GitHub and on the site), and helpers to
 * write Markdown safely from data.
 */
import { Marked, type Token } from "marked";

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens. */
export function githubSlug(text: string): string {
  return text
    .toLowerCase()
    .replace(/<[^>]*>/g, "")
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .trim()
    .replace(/\s/g, "-");
}

/** Plain text of inline tokens (code spans keep their text). */
export function plainText(tokens: readonly Token[]): string {
  return tokens.map((t) => ("tokens" in t && Array.isArray(t.tokens) ? plainText(t.tokens) : "text" in t ? String(t.text) : "")).join("");
}

export function createMarked(): Marked {
  return new Marked({
    gfm: true,
    renderer: {
      heading({ tokens, depth }) {
        const id = githubSlug(plainText(tokens));
        return `<h${depth} id="${id}">${this.parser.parseInline(tokens)}</h${depth}>\n`;
      },
      table(token) {
        // Wide tables scroll inside their box instead of widening the page.
        const header = token.header.map((cell, i) => `<th${align(token.align[i])}>${this.parser.parseInline(cell.tokens)}</th>`).join("");
        const rows = token.rows.map((row) => `<tr>${row.map((cell, i) => `<td${align(token.align[i])}>${wrapLongCode(this.parser.parseInline(cell.tokens))}</td>`).join("")}</tr>`).join("\n");
        return `<div class="table-wrap"><table>\n<thead><tr>${header}</tr></thead>\n<tbody>\n${rows}\n</tbody></table></div>\n`;
      },
    },
  });
}

/** Long code spans in cells (patterns, enums) may break anywhere; short ones (`NOT_FOUND`) never do. */
function wrapLongCode(html: string): string {
  return html.replace(/<code>([^<]{28,})<\/code>/g, (_all, text: string) =>
    /^[\w.[\]-]+$/.test(text) ? `<code class="path">${text.replace(/\./g, ".<wbr>")}</code>` : `<code class="wrap">${text}</code>`,
  );
}

function align(value: "center" | "left" | "right" | null | undefined): string {
  return value ? ` style="text-align:${value}"` : "";
}

export function renderMarkdown(markdown: string): string {
  return createMarked().parse(markdown, { async: false });
}

/** Text for a Markdown table cell or paragraph: no raw HTML, no table breaks, no emphasis by accident. */
export function mdText(text: string): string {
  // Code spans (`x`) stay code; only the pipe needs escaping inside them (GFM tables).
  return text
    .replace(/\r?\n/g, " ")
    .split(/(`[^`]*`)/)
    .map((part, i) => (i % 2 === 1 ? part.replace(/\|/g, "\\|") : part.replace(/\\/g, "\\\\").replace(/\|/g, "\\|").replace(/</g, "&lt;").replace(/([*_[\]])/g, "\\$1")))
    .join("");
}

/** A code span that survives any content (backticks, pipes in a table). */
export function mdCode(text: string): string {
  const fence = text.includes("`") ? "``" : "`";
  const pad = text.startsWith("`") || text.endsWith("`") ? " " : "";
  return `${fence}${pad}${text.replace(/\|/g, "\\|")}${pad}${fence}`;
}

/** A Markdown link; the target goes in angle brackets so any path is safe. */
export function mdLink(label: string, target: string): string {
  return `[${label}](<${target}>)`;
}

export function mdTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  return [`| ${header.join(" | ")} |`, `| ${header.map(() => "---").join(" | ")} |`, ...rows.map((row) => `| ${row.join(" | ")} |`)].join("\n") + "\n";
}
