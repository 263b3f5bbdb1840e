/** Reads a built site: the ids and internal links of every HTML page, and the links that do not resolve. */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, posix } from "node:path";

export interface SitePage {
  ids: string[];
  hrefs: string[];
}

function decode(value: string): string {
  return value.replace(/&quot;/g, '"').replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&#39;/g, "'").replace(/&amp;/g, "&");
}

/** Every file under `dir`, relative, with `/` separators. */
export function listFiles(dir: string, prefix = ""): string[] {
  return readdirSync(join(dir, prefix)).flatMap((name) => {
    const rel = prefix === "" ? name : `${prefix}/${name}`;
    return statSync(join(dir, rel)).isDirectory() ? listFiles(dir, rel) : [rel];
  });
}

export function readPages(dir: string, skip: (path: string) => boolean = () => false): Map<string, SitePage> {
  const pages = new Map<string, SitePage>();
  for (const path of listFiles(dir).filter((p) => p.endsWith(".html") && !skip(p))) {
    const html = readFileSync(join(dir, path), "utf8");
    const ids = [...html.matchAll(/\sid="([^"]*)"/g)].map((m) => decode(m[1] as string));
    const hrefs = [...html.matchAll(/<(?:a|link)\s[^>]*?href="([^"]*)"/g)].map((m) => decode(m[1] as string));
    pages.set(path, { ids, hrefs });
  }
  return pages;
}

/** Internal links (not `http:`, `https:`, `mailto:`) whose file or fragment does not exist. */
export function brokenLinks(dir: string, pages: Map<string, SitePage>): string[] {
  const broken: string[] = [];
  for (const [path, page] of pages) {
    for (const link of page.hrefs) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(link)) continue;
      const [file = "", fragment] = link.split("#", 2);
      const target = file === "" ? path : posix.normalize(posix.join(posix.dirname(path), decodeURI(file)));
      if (target.startsWith("..") || !existsSync(join(dir, target))) {
        broken.push(`${path}: ${link} (no file ${target})`);
        continue;
      }
      if (fragment === undefined || fragment === "") continue;
      const ids = pages.get(target)?.ids;
      if (ids && !ids.includes(decodeURIComponent(fragment))) broken.push(`${path}: ${link} (no id ${fragment} in ${target})`);
    }
  }
  return broken;
}
