/**
 * Builds the static docs site for one protocol version: every page, the stylesheet, the JSON
 * Schemas and diagrams as files, the AsyncAPI document, (unless `api` is false) the TypeDoc
 * API docs, and last the Pagefind search index of all of them. Pure output: it reads the sources
 * and writes only under `out`.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { buildApiDocs } from "./api-docs.ts";
import { asyncApiYaml } from "./asyncapi.ts";
import { loadCases } from "./conformance-cases.ts";
import { SPEC_DIAGRAMS } from "./diagrams.ts";
import { loadGuides } from "./guides.ts";
import { escapeHtml, href, page } from "./layout.ts";
import { siteLinks } from "./links.ts";
import { mdCode, mdLink, renderMarkdown } from "./markdown.ts";
import { documentMarkdown, documentNames, governingRequirements, messageIndexMarkdown, messageMarkdown } from "./message-reference.ts";
import { capabilitiesMarkdown, errorsMarkdown, limitsMarkdown } from "./registry-pages.ts";
import { renderSpec } from "./render-spec.ts";
import { casesMarkdown, requirementIndexMarkdown, traceability } from "./requirement-index.ts";
import { buildSearchIndex } from "./search.ts";
import { renderSequenceDiagram } from "./sequence-diagram.ts";
import { loadSources, type Version } from "./sources.ts";

export interface SiteOptions {
  root: string;
  version: Version;
  out: string;
  /** Run TypeDoc into `<out>/api` (slow); otherwise `api/index.html` says how to build it. */
  api: boolean;
  log: (line: string) => void;
}

export interface SiteResult {
  /** Every file written, relative to `out`. */
  files: string[];
}

/** Marks a directory as built by peer-docs, so a rebuild may clear it. */
const MARKER = ".peer-docs-site";

function prepareOut(out: string): void {
  if (existsSync(out) && readdirSync(out).length > 0) {
    if (!existsSync(join(out, MARKER))) throw new Error(`${out} is not empty and was not built by peer-docs; choose another --out`);
    rmSync(out, { recursive: true, force: true });
  }
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, MARKER), "Built by docs/src/build.ts; a rebuild deletes this directory.\n");
}

export async function buildSite(options: SiteOptions): Promise<SiteResult> {
  const { root, version, out, log } = options;
  const sources = loadSources(root, version);
  const catalog = await loadCases(root);
  if (catalog.source === "source") log(`note: conformance cases read from the case files (${catalog.note ?? ""})`);
  const guides = await loadGuides(root);
  const governing = governingRequirements(sources);
  const trace = traceability(sources.requirements, catalog);
  const messageSlugs = new Map(sources.messages.map((m) => [m.type, m.slug]));

  prepareOut(out);
  const files: string[] = [];
  const write = (path: string, contents: string): void => {
    mkdirSync(dirname(join(out, path)), { recursive: true });
    writeFileSync(join(out, path), contents);
    files.push(path);
  };
  const html = (path: string, title: string, body: string, sidebar?: string): void => write(path, page({ path, title, body, version, ...(sidebar === undefined ? {} : { sidebar }) }));
  const md = (path: string, title: string, markdown: string, sidebar?: string): void => html(path, title, renderMarkdown(markdown), sidebar);

  write("style.css", readFileSync(join(root, "docs/assets/style.css"), "utf8"));
  for (const [name, schema] of sources.schemas) write(`schemas/${version}/${name}.json`, JSON.stringify(schema, null, 2) + "\n");
  for (const placed of SPEC_DIAGRAMS) write(`diagrams/${placed.diagram.id}.svg`, renderSequenceDiagram(placed.diagram));

  // The spec.
  const codeTargets = new Map<string, string>();
  for (const m of sources.messages) codeTargets.set(m.type, `messages/${m.slug}.html`);
  for (const row of sources.errors) codeTargets.set(row.code as string, `errors.html#${row.code}`);
  for (const row of sources.capabilities) codeTargets.set(row.name as string, `capabilities.html#${row.name}`);
  for (const row of sources.limits) codeTargets.set(row.member as string, `limits.html#${row.member}`);
  const spec = renderSpec(sources.specMarkdown, SPEC_DIAGRAMS, {
    requirementIds: new Set(sources.requirements.map((r) => r.id)),
    // `HANDSHAKE_INIT.payload.versions` links to its message like `HANDSHAKE_INIT`.
    codeTarget: (code) => codeTargets.get(code) ?? (messageSlugs.has(code.split(".")[0] ?? "") ? codeTargets.get(code.split(".")[0] ?? "") : undefined),
    requirementIndex: (id) => `requirements.html#${id}`,
    caseLabel: (id) => {
      const n = trace.casesByRequirement.get(id)?.length ?? 0;
      return n > 1 ? `${n} cases` : n === 1 ? "1 case" : trace.exclusions.has(id) ? "excluded from the suite" : "no case";
    },
    href: (target) => href("spec.html", target),
  });
  const toc = `<nav class="toc" aria-label="sections"><h2>Sections</h2><ul>\n${spec.toc.map((t) => `<li class="depth-${t.depth}"><a href="#${t.id}">${escapeHtml(t.text)}</a></li>`).join("\n")}\n</ul></nav>`;
  html("spec.html", "Specification", `<article class="spec">\n${spec.html}</article>`, toc);

  // The message reference.
  const messageNav = (from: string): string =>
    `<nav class="toc" aria-label="messages"><h2>Message types</h2><ul>\n${sources.messages.map((m) => `<li><a href="${href(from, `messages/${m.slug}.html`)}"${from === `messages/${m.slug}.html` ? ' class="current"' : ""}><code>${m.type}</code></a></li>`).join("\n")}\n</ul></nav>`;
  md("messages/index.html", "Messages", messageIndexMarkdown(sources, siteLinks("messages/index.html", version), 1, (name) => href("messages/index.html", `documents/${name}.html`)), messageNav("messages/index.html"));
  for (const m of sources.messages) {
    const path = `messages/${m.slug}.html`;
    md(path, m.type, messageMarkdown(m, sources, governing.get(m.type) ?? [], siteLinks(path, version), 1), messageNav(path));
  }
  for (const name of documentNames(sources)) {
    const path = `documents/${name}.html`;
    md(path, name, documentMarkdown(name, sources, siteLinks(path, version), 1));
  }

  // Registries.
  md("errors.html", "Error codes", errorsMarkdown(sources, siteLinks("errors.html", version)));
  md("capabilities.html", "Capabilities", capabilitiesMarkdown(sources, siteLinks("capabilities.html", version)));
  md("limits.html", "Limits", limitsMarkdown(sources, siteLinks("limits.html", version)));

  // Traceability.
  const messagesByRequirement = new Map<string, string[]>();
  for (const [type, list] of governing) for (const g of list) messagesByRequirement.set(g.id, [...(messagesByRequirement.get(g.id) ?? []), type]);
  md("requirements.html", "Requirement index", requirementIndexMarkdown(sources.requirements, catalog, messagesByRequirement, (type) => `messages/${messageSlugs.get(type) ?? ""}.html`));
  md("cases.html", "Conformance cases", casesMarkdown(sources.requirements, catalog));

  // AsyncAPI.
  if (version === "1.2") {
    const yaml = asyncApiYaml(sources);
    write("asyncapi.yaml", yaml);
    md(
      "asyncapi.html",
      "AsyncAPI",
      `# AsyncAPI document\n\nAn [AsyncAPI 3.0](<https://www.asyncapi.com/docs/reference/specification/v3.0.0>) description of a v1.2 server: the channels \`/ws/v1/peers\` and \`/ws/v1/events\`, ` +
        `a \`receive\` and a \`send\` operation on each, and one message per type with its schema (JSON Schema down-converted to draft-07) and examples. ` +
        `Feed it to AsyncAPI tooling to generate code or browse it; it is generated from the same schemas as the [message reference](<messages/index.html>).\n\n` +
        `Download: ${mdLink("asyncapi.yaml", "asyncapi.yaml")} (${Math.round(yaml.length / 1024)} KiB).\n\n` +
        `| channel | address | messages |\n| --- | --- | --- |\n` +
        `| \`peers\` | \`/ws/v1/peers\` | ${sources.messages.filter((m) => m.form !== "events").map((m) => mdLink(mdCode(m.type), `messages/${m.slug}.html`)).join(", ")} |\n` +
        `| \`events\` | \`/ws/v1/events\` | ${sources.messages.filter((m) => m.form === "events" || m.type === "ERROR").map((m) => mdLink(mdCode(m.type), `messages/${m.slug}.html`)).join(", ")} |\n\n` +
        `The beginning of the document:\n\n\`\`\`yaml\n${yaml.split("\n").slice(0, 60).join("\n")}\n...\n\`\`\`\n`,
    );
  } else {
    md("asyncapi.html", "AsyncAPI", `# AsyncAPI document\n\nVersion ${version} runs over the HTTP binding only, so it has no AsyncAPI document; build the site for version 1.2 (\`peer-docs --version 1.2\`) for the WebSocket channels.\n`);
  }

  // Guides.
  for (const guide of guides) {
    const title = /^# (.+)$/m.exec(guide.markdown)?.[1] ?? guide.name;
    md(`guides/${guide.name}.html`, title, guide.markdown);
  }

  // API docs.
  if (options.api) {
    await buildApiDocs(root, join(out, "api"), log);
    files.push("api/index.html");
  } else {
    md("api/index.html", "API", "# API docs\n\nThe API docs were not built in this run. Build them with `npm run docs` (or `peer-docs` without `--no-api`).\n");
  }

  // The overview, last: it counts what was built.
  md("index.html", "Overview", overviewMarkdown(version, sources.messages.length, sources.requirements.length, catalog.cases.length, sources.errors.length));

  // The search index, after every page (the API pages included) is written.
  files.push(...(await buildSearchIndex(out, log)));
  log(`site: ${files.length} files in ${out}`);
  return { files };
}

function overviewMarkdown(version: string, messages: number, requirements: number, cases: number, errors: number): string {
  return `# Peer Protocol ${version}

Peer Protocol is a peer-to-peer messaging protocol for autonomous agents: an authenticated
X25519 + Ed25519 handshake, end-to-end encrypted sessions, chunked transfer of large messages, a
fixed error model, session resume after reconnect, WebSocket as the preferred transport and HTTP
as the fallback. Everything on this site is generated from the spec and the JSON Schemas.

| I want to | go to |
| --- | --- |
| read the protocol | [the specification](<spec.html>), with a diagram of the [handshake](<spec.html#figure-handshake>) and of [resume](<spec.html#figure-resume>) |
| look up a message's fields | [the ${messages} message types](<messages/index.html>): members, constraints, an example, the requirements that govern each |
| handle an error | [the ${errors} error codes](<errors.html>) with close codes and HTTP statuses |
| negotiate features | [capabilities](<capabilities.html>) and [limits](<limits.html>) |
| go from a failing case to the sentence | [the requirement index](<requirements.html>) (${requirements} requirements) and [the ${cases} conformance cases](<cases.html>) |
| generate code for the WebSocket channels | [the AsyncAPI document](<asyncapi.html>) |
| test a server in CI | [run conformance in CI](<guides/conformance-in-ci.html>) |
| measure a server | [benchmark your server](<guides/benchmark.html>) |
| test a client | [test your client](<guides/client-conformance.html>): the scenario contract of \`peer-conformance client\` |
| run several server nodes | [run a cluster on Redis](<guides/deployment.html>): nodes behind a load balancer, the Redis settings that matter, what happens when Redis or a node is lost |
| use the TypeScript libraries | [the API docs](<api/index.html>): schemas and validators, the reference client and server, the conformance runner |

The JSON Schemas of this version are served beside the pages, under [\`schemas/${version}/\`](<schemas/${version}/handshake-init.json>).
Build this site for another version with \`npx peer-docs --version 1.1 --out DIR\`.
`;
}
