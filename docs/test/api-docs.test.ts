import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApiDocs } from "../src/api-docs.ts";
import { listFiles } from "./html-links.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));

/** The import paths of package.json's `exports`, as users write them. */
const IMPORT_PATHS = ["peer-protocol/conformance", "peer-protocol/schemas", "peer-protocol/reference/client", "peer-protocol/reference/server"];

describe("the API docs (TypeDoc)", () => {
  let site: string;
  let api: string;
  beforeAll(async () => {
    site = mkdtempSync(join(tmpdir(), "peer-api-"));
    api = join(site, "api");
    await buildApiDocs(root, api, () => {});
  }, 120_000);
  afterAll(() => rmSync(site, { recursive: true, force: true }));

  it("names the modules by the import paths users write, each with its description on the index", () => {
    const index = readFileSync(join(api, "index.html"), "utf8");
    for (const path of IMPORT_PATHS) {
      const entry = new RegExp(`<a href="modules/[^"]+\\.html">${path}</a>[\\s\\S]*?<dd class="tsd-member-summary[^"]*">([\\s\\S]*?)</dd>`).exec(index);
      expect(entry, path).not.toBeNull();
      expect(entry?.[1]?.replace(/<[^>]*>/g, "").trim().length ?? 0, `${path} has a description`).toBeGreaterThan(40);
    }
  });

  it("shows each import path in an example on its module page", () => {
    for (const path of IMPORT_PATHS) {
      const page = readFileSync(join(api, "modules", `${path.replaceAll("/", "_")}.html`), "utf8");
      expect(page, path).toContain(path);
      expect(page.replace(/<[^>]*>/g, ""), path).toMatch(new RegExp(`import \\{ \\w+ \\} from &quot;${path}&quot;|import \\{ \\w+ \\} from "${path}"`));
    }
  });

  it("takes the site's stylesheet and links every page back to the site at its depth", () => {
    const pages = listFiles(api).filter((p) => p.endsWith(".html"));
    expect(pages.length).toBeGreaterThan(10);
    expect(listFiles(api)).toContain("assets/custom.css");
    expect(readFileSync(join(api, "assets/custom.css"), "utf8")).toContain("--color-link: #1d4ed8");
    for (const path of pages) {
      const html = readFileSync(join(api, path), "utf8");
      const up = "../".repeat(path.split("/").length);
      expect(html, path).toContain(`<a href="${up}index.html" class="tsd-nav-link">Protocol docs</a>`);
      expect(html, path).toContain(`<a href="${up}spec.html" class="tsd-nav-link">Specification</a>`);
      expect(html, path).not.toContain("peer-docs-site:");
      expect(html, path).toMatch(/<link rel="stylesheet" href="[./]*assets\/custom\.css"/);
    }
  });
});
