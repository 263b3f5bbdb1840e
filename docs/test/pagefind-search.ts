/**
 * Searches a built site the way its search box does: Pagefind's own `pagefind.js` from the site's
 * `pagefind/` directory, run in Node with `fetch` answering `file://` URLs from disk.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export interface SearchHit {
  url: string;
  title: string;
}

interface PagefindModule {
  options(options: { basePath: string; baseUrl: string }): Promise<void>;
  init(): Promise<void>;
  search(query: string): Promise<{ results: Array<{ data(): Promise<{ url: string; meta: { title?: string } }> }> }>;
  destroy?(): Promise<void>;
}

/** Opens the site's index; `search` returns the hits in Pagefind's order, URLs from the site root without `/`. */
export async function openSearch(site: string): Promise<{ search(query: string): Promise<SearchHit[]>; close(): Promise<void> }> {
  const realFetch = globalThis.fetch;
  globalThis.fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (url.protocol !== "file:") return realFetch(input, init);
    return new Response(await readFile(fileURLToPath(url)));
  };
  const dir = join(site, "pagefind");
  // A query string makes each site its own module instance.
  const pagefind = (await import(/* @vite-ignore */ `${pathToFileURL(join(dir, "pagefind.js")).href}?site=${encodeURIComponent(site)}`)) as PagefindModule;
  await pagefind.options({ basePath: `${pathToFileURL(dir).href}/`, baseUrl: "/" });
  await pagefind.init();
  return {
    async search(query) {
      const found = await pagefind.search(query);
      const data = await Promise.all(found.results.map((r) => r.data()));
      return data.map((d) => ({ url: d.url.replace(/^\//, ""), title: d.meta.title ?? "" }));
    },
    async close() {
      await pagefind.destroy?.();
      globalThis.fetch = realFetch;
    },
  };
}
