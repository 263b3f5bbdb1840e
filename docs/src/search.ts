/**
 * The site's search index: Pagefind indexes every built page (the API pages included) into
 * `<out>/pagefind/`, beside its UI (`pagefind-ui.js`, `pagefind-ui.css`) that `layout.ts` puts in
 * the sidebar. The index is static files; a browser loads them over HTTP only (not from `file://`).
 */
import { readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { close, createIndex } from "pagefind";
import { SEARCH_DIR } from "./layout.ts";

/**
 * What is not searched: the site's sidebar and footer, and TypeDoc's toolbar, navigation and
 * footer, which repeat on every page and would make every page match every word of the menu.
 */
export const SEARCH_EXCLUDE = ["aside.sidebar", "footer", ".tsd-page-toolbar", ".col-sidebar", ".tsd-navigation", ".site-menu"];

export class SearchIndexError extends Error {}

/** Indexes the HTML under `out` into `<out>/pagefind`; returns the files written, relative to `out`. */
export async function buildSearchIndex(out: string, log: (line: string) => void): Promise<string[]> {
  try {
    // keepIndexUrl: results link to `messages/index.html`, which works on any static server.
    // includeCharacters: `PP-HS-004` and `retransmit_buffer` are searched as whole words too.
    const created = await createIndex({ forceLanguage: "en", keepIndexUrl: true, excludeSelectors: SEARCH_EXCLUDE, includeCharacters: "_" });
    const index = created.index;
    if (!index) throw new SearchIndexError(`pagefind: ${created.errors.join("; ")}`);
    const added = await index.addDirectory({ path: out });
    if (added.errors.length > 0) throw new SearchIndexError(`pagefind: ${added.errors.join("; ")}`);
    const written = await index.writeFiles({ outputPath: join(out, SEARCH_DIR) });
    if (written.errors.length > 0) throw new SearchIndexError(`pagefind: ${written.errors.join("; ")}`);
    log(`search: ${added.page_count} pages indexed into ${join(out, SEARCH_DIR)}`);
    return listFiles(join(out, SEARCH_DIR)).map((file) => relative(out, file).split("\\").join("/"));
  } finally {
    await close();
  }
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? listFiles(join(dir, entry.name)) : [join(dir, entry.name)]));
}
