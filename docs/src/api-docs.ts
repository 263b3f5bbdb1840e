/**
 * The API docs of the TypeScript libraries (schemas, reference client and server, conformance
 * runner), built by TypeDoc from the root `typedoc.json` into `<site>/api`. A warning fails the
 * build (`treatWarningsAsErrors`), so the docs cannot silently lose a symbol or a link.
 *
 * They belong to the site: the site's palette and fonts (`docs/assets/api.css` as TypeDoc's
 * `customCss`), links back to the site on every page, and modules named by the import paths users
 * write (`peer-protocol/schemas`: the `@module` tag of each entry file's first comment), each with
 * the first paragraph of that comment as its summary on the index.
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { Application, Converter, LogLevel, ReflectionKind, TSConfigReader, TypeDocReader } from "typedoc";

export class ApiDocsError extends Error {}

/**
 * TypeDoc writes navigation links as given, the same on every page, but the API pages sit at
 * different depths under `api/`; links to the site are written with this prefix and made relative
 * to each page after TypeDoc is done.
 */
const SITE = "peer-docs-site:";

/** The site's pages in TypeDoc's header, from the site root. */
const SITE_LINKS: Record<string, string> = {
  "Protocol docs": `${SITE}index.html`,
  Specification: `${SITE}spec.html`,
  "Run conformance in CI": `${SITE}guides/conformance-in-ci.html`,
};

function linkPagesToSite(out: string): void {
  const walk = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith(".html") ? [join(dir, e.name)] : []));
  for (const file of walk(out)) {
    const depth = relative(out, file).split(/[\\/]/).length; // api/index.html is 1 below the site root
    const html = readFileSync(file, "utf8");
    if (html.includes(SITE)) writeFileSync(file, html.replaceAll(`href="${SITE}`, `href="${"../".repeat(depth)}`));
  }
}

export async function buildApiDocs(root: string, out: string, log: (line: string) => void): Promise<void> {
  const cwd = process.cwd();
  // TypeDoc resolves typedoc.json's relative paths against the working directory.
  process.chdir(root);
  try {
    const app = await Application.bootstrapWithPlugins({ options: join(root, "typedoc.json"), out, logLevel: LogLevel.Warn, navigationLinks: SITE_LINKS }, [new TypeDocReader(), new TSConfigReader()]);
    // Entry files without a `@module` name are named by their path without the `src` folder:
    // `conformance/case`, `reference/server/embedded` (types the public modules refer to).
    app.converter.on(Converter.EVENT_RESOLVE_BEGIN, (context) => {
      for (const module of context.project.getReflectionsByKind(ReflectionKind.Module)) module.name = module.name.replace(/\/src(?=\/|$)/, "");
    });
    const project = await app.convert();
    if (!project) throw new ApiDocsError("TypeDoc could not convert the entry points (see the messages above)");
    app.validate(project);
    if (app.logger.hasErrors() || app.logger.hasWarnings()) throw new ApiDocsError("TypeDoc reported warnings or errors (see above)");
    await app.generateOutputs(project);
    if (app.logger.hasErrors() || app.logger.hasWarnings()) throw new ApiDocsError("TypeDoc reported warnings or errors while writing (see above)");
    linkPagesToSite(out);
    log(`api: ${out}`);
  } finally {
    process.chdir(cwd);
  }
}
