import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadCases } from "../src/conformance-cases.ts";
import { kebab, loadSources } from "../src/sources.ts";
import { buildSite } from "../src/site.ts";
import { brokenLinks, listFiles, readPages, type SitePage } from "./html-links.ts";
import { openSearch } from "./pagefind-search.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const sources = loadSources(root, "1.2");
const quiet = (): void => {};

describe("the docs site for v1.2 (built without TypeDoc)", () => {
  let out: string;
  let pages: Map<string, SitePage>;
  const ids = (path: string): string[] => pages.get(path)?.ids ?? [];

  beforeAll(async () => {
    out = mkdtempSync(join(tmpdir(), "peer-docs-"));
    await buildSite({ root, version: "1.2", out, api: false, log: quiet });
    pages = readPages(out);
  });
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it("has a page for every message type of the registry", () => {
    const registry = sources.registries["message-types"] ?? [];
    expect(registry.length).toBeGreaterThan(0);
    for (const row of registry) expect(pages.has(`messages/${kebab(row.type as string)}.html`), row.type).toBe(true);
  });

  it("shows each message type's members, an example and its requirements", () => {
    const html = readFileSync(join(out, "messages/handshake-init.html"), "utf8");
    expect(html).toContain("payload.ephemeral_key");
    expect(html).toContain('<h2 id="example">Example</h2>');
    expect(html).toContain("&quot;type&quot;: &quot;HANDSHAKE_INIT&quot;");
    expect(html).toContain('href="../spec.html#PP-VER-002"');
  });

  it("anchors every error code, with its close code and HTTP status", () => {
    const html = readFileSync(join(out, "errors.html"), "utf8");
    for (const row of sources.errors) {
      expect(ids("errors.html"), row.code).toContain(row.code);
      expect(html).toContain(`<code>${row.http}</code>`);
    }
  });

  it("anchors every capability and every limit", () => {
    for (const row of sources.capabilities) expect(ids("capabilities.html"), row.name).toContain(row.name);
    for (const row of sources.limits) expect(ids("limits.html"), row.member).toContain(row.member);
  });

  it("anchors every requirement id in the spec and in the requirement index", () => {
    expect(sources.requirements.length).toBeGreaterThan(100);
    for (const r of sources.requirements) {
      expect(ids("spec.html"), r.id).toContain(r.id);
      expect(ids("requirements.html"), r.id).toContain(r.id);
    }
  });

  it("anchors every conformance case on the cases page and links it from the index", async () => {
    const catalog = await loadCases(root);
    expect(catalog.cases.length).toBeGreaterThan(0);
    const index = readFileSync(join(out, "requirements.html"), "utf8");
    for (const c of catalog.cases) {
      expect(ids("cases.html"), c.id).toContain(c.id);
      if (c.requirements.some((id) => sources.requirements.some((r) => r.id === id))) expect(index).toContain(`href="cases.html#${c.id}"`);
    }
  });

  it("draws the handshake and resume diagrams in the spec and keeps the ASCII ones", () => {
    const html = readFileSync(join(out, "spec.html"), "utf8");
    expect(html.match(/<figure class="diagram"[^>]*>\s*<svg /g)?.length).toBe(2);
    expect(ids("spec.html")).toEqual(expect.arrayContaining(["figure-handshake", "figure-resume"]));
    expect(html).toContain("1 HANDSHAKE_INIT {versions, ephemeral_key e_I, capabilities,");
    expect(html.indexOf('id="figure-handshake"')).toBeLessThan(html.indexOf('id="61-messages"'));
    expect(html.indexOf('id="figure-resume"')).toBeGreaterThan(html.indexOf('id="8-session-and-resume"'));
  });

  it("has no broken internal link and no duplicate id", () => {
    expect(brokenLinks(out, pages)).toEqual([]);
    for (const [path, page] of pages) expect(page.ids.filter((id, i) => page.ids.indexOf(id) !== i), path).toEqual([]);
  });

  it("needs nothing from the network", () => {
    for (const path of listFiles(out).filter((p) => p.endsWith(".html") || p.endsWith(".css"))) {
      const text = readFileSync(join(out, path), "utf8");
      expect(text, path).not.toMatch(/<(script|link|img|iframe)\b[^>]*(src|href)="https?:/);
      expect(text, path).not.toMatch(/@import|url\(\s*["']?https?:/);
    }
  });

  it("has a search box on every page, which says on file:// that search needs HTTP", () => {
    for (const [path] of pages) {
      const html = readFileSync(join(out, path), "utf8");
      expect(html, path).toContain('<div class="search" id="search" role="search" data-pagefind-ignore>');
      const script = /<script src="([^"]*pagefind-ui\.js)"><\/script>/.exec(html)?.[1];
      expect(script, path).toBeDefined();
      expect(listFiles(out), `${path}: ${script ?? ""}`).toContain(join(path, "..", script ?? "").replace(/^\.\//, ""));
      expect(html, path).toContain('location.protocol === "file:"');
    }
  });

  it("builds a Pagefind index in which a requirement id and a word of the spec find their pages", async () => {
    const files = listFiles(out);
    expect(files).toContain("pagefind/pagefind.js");
    expect(files).toContain("pagefind/pagefind-ui.js");
    expect(files.some((f) => /^pagefind\/index\/.+\.pf_index$/.test(f))).toBe(true);
    expect(files.some((f) => /^pagefind\/fragment\/.+\.pf_fragment$/.test(f))).toBe(true);

    const search = await openSearch(out);
    try {
      const requirement = (await search.search("PP-HS-004")).map((hit) => hit.url);
      expect(requirement.slice(0, 3)).toContain("spec.html");
      expect(requirement).toContain("requirements.html");
      expect(requirement).toContain("cases.html");
      // A limit's name is one word (includeCharacters "_"), found on its registry page.
      expect((await search.search("retransmit_buffer")).map((hit) => hit.url)).toContain("limits.html");
      // The sidebar is not indexed: a word only the navigation has finds nothing.
      const benchmark = (await search.search("Benchmark your server")).map((hit) => hit.url);
      expect(benchmark).toContain("guides/benchmark.html");
      expect(benchmark).not.toContain("errors.html");
      expect((await search.search("binder")).map((hit) => hit.url)).toEqual(expect.arrayContaining(["spec.html", "messages/session-resume.html"]));
    } finally {
      await search.close();
    }
  });

  it("serves the AsyncAPI document and the JSON Schemas beside the pages", () => {
    const files = listFiles(out);
    expect(files).toContain("asyncapi.yaml");
    expect(files).toContain("schemas/1.2/handshake-init.json");
    expect(files).toContain("diagrams/handshake.svg");
  });
});

describe("the docs site for v1.1", () => {
  it("documents only the v1.1 message types and has no broken link", async () => {
    const out = mkdtempSync(join(tmpdir(), "peer-docs-11-"));
    try {
      await buildSite({ root, version: "1.1", out, api: false, log: quiet });
      const pages = readPages(out);
      const v11 = loadSources(root, "1.1").messages.map((m) => m.slug);
      expect(v11).toContain("handshake-init");
      expect(v11).not.toContain("session-resume");
      for (const slug of v11) expect(pages.has(`messages/${slug}.html`), slug).toBe(true);
      expect(pages.has("messages/session-resume.html")).toBe(false);
      expect(brokenLinks(out, pages)).toEqual([]);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
