/**
 * The page shell of the docs site: head, navigation sidebar, content. Every link in the site is
 * written as a path from the site root and made relative here, so the site works from `file://`
 * and from any web root, offline (no CDN).
 *
 * The one script is the search box: Pagefind's UI over the index `site.ts` writes to `pagefind/`.
 * Pagefind loads its index with `fetch` and a module import, which browsers refuse on `file://`,
 * so there the box says that search needs the site served over HTTP and everything else works.
 */
import { posix } from "node:path";

export interface NavItem {
  path: string;
  label: string;
}

export const NAV: readonly NavItem[] = [
  { path: "index.html", label: "Overview" },
  { path: "spec.html", label: "Specification" },
  { path: "messages/index.html", label: "Messages" },
  { path: "errors.html", label: "Error codes" },
  { path: "capabilities.html", label: "Capabilities" },
  { path: "limits.html", label: "Limits" },
  { path: "requirements.html", label: "Requirement index" },
  { path: "cases.html", label: "Conformance cases" },
  { path: "asyncapi.html", label: "AsyncAPI" },
  { path: "guides/conformance-in-ci.html", label: "Run conformance in CI" },
  { path: "guides/benchmark.html", label: "Benchmark your server" },
  { path: "guides/client-conformance.html", label: "Test your client" },
  { path: "guides/deployment.html", label: "Run a cluster on Redis" },
  { path: "api/index.html", label: "API (TypeScript)" },
];

export function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** A link from the page at `from` to `to`, both paths from the site root (`to` may carry `#id`). */
export function href(from: string, to: string): string {
  const [path = "", hash] = to.split("#", 2);
  const fromDir = posix.dirname(from);
  const target = path === "" ? "" : path === from ? "" : posix.relative(fromDir, path) || posix.basename(path);
  return hash === undefined ? target || posix.basename(from) : `${target}#${hash}`;
}

export interface PageOptions {
  /** The page's path from the site root, e.g. `messages/ack.html`. */
  path: string;
  title: string;
  /** The content, HTML. */
  body: string;
  /** Extra sidebar HTML under the site navigation, e.g. the spec's table of contents. */
  sidebar?: string;
  /** The version the site documents. */
  version: string;
}

/** Where Pagefind's bundle is written, from the site root. */
export const SEARCH_DIR = "pagefind";

/**
 * The search box of a page. The result URLs Pagefind stores start at the site root (`/spec.html`),
 * so `baseUrl` is the site root as this page sees it: the site may be served from a sub-path.
 */
export function searchBox(path: string): string {
  const root = href(path, "index.html");
  return `<div class="search" id="search" role="search" data-pagefind-ignore>
<noscript><p class="search-note">Search needs JavaScript.</p></noscript>
</div>
<script src="${href(path, `${SEARCH_DIR}/pagefind-ui.js`)}"></script>
<script>
(function () {
  var box = document.getElementById("search");
  if (location.protocol === "file:" || typeof PagefindUI === "undefined") {
    box.innerHTML = '<p class="search-note">Search needs the site served over HTTP, e.g. <code>npx http-server docs/site</code> or <code>python3 -m http.server -d docs/site</code>.</p>';
    return;
  }
  new PagefindUI({ element: "#search", baseUrl: new URL("./", new URL("${root}", location.href)).pathname, showSubResults: true, resetStyles: false });
})();
</script>`;
}

export function page(options: PageOptions): string {
  const { path, title, body, sidebar = "", version } = options;
  const nav = NAV.map((item) => {
    const current = item.path === path || (item.path === "messages/index.html" && path.startsWith("messages/"));
    return `<li${current ? ' class="current"' : ""}><a href="${href(path, item.path)}">${escapeHtml(item.label)}</a></li>`;
  }).join("\n");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Peer Protocol ${escapeHtml(version)}</title>
<link rel="stylesheet" href="${href(path, "style.css")}">
<link rel="stylesheet" href="${href(path, `${SEARCH_DIR}/pagefind-ui.css`)}">
</head>
<body>
<aside class="sidebar">
<a class="brand" href="${href(path, "index.html")}">Peer Protocol <span class="version">v${escapeHtml(version)}</span></a>
${searchBox(path)}
<nav aria-label="site"><ul>
${nav}
</ul></nav>
${sidebar}
</aside>
<main>
${body}
<footer>Generated from <code>spec/peer-protocol-v1.2.md</code> and the JSON Schemas of version ${escapeHtml(version)} by <code>npm run docs</code>. Do not edit by hand.</footer>
</main>
</body>
</html>
`;
}
