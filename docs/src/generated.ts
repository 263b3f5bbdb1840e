/**
 * The docs files committed to the repository, for `npm run generate` and its drift check
 * (`spec/tools/generated-files.ts`): the AsyncAPI document and the Markdown reference under
 * `docs/reference/` (messages, error codes, capabilities, limits), all for v1.2. The site itself
 * is built by `npm run docs` and not committed.
 *
 * They depend on the spec and the schemas only, never on the conformance cases, so that adding a
 * case does not make the committed docs stale.
 */
import { join } from "node:path";
import { ASYNCAPI_PATH, asyncApiYaml } from "./asyncapi.ts";
import { repoLinks } from "./links.ts";
import { messagesReferenceMarkdown } from "./message-reference.ts";
import { capabilitiesMarkdown, errorsMarkdown, limitsMarkdown } from "./registry-pages.ts";
import { loadSources } from "./sources.ts";

export interface DocsFile {
  /** Absolute path. */
  path: string;
  contents: string;
}

export function docsGeneratedFiles(root: string): DocsFile[] {
  const sources = loadSources(root, "1.2");
  const links = repoLinks(sources.requirements, sources.version);
  const files: [string, string][] = [
    [ASYNCAPI_PATH, asyncApiYaml(sources)],
    ["docs/reference/messages.md", messagesReferenceMarkdown(sources, links)],
    ["docs/reference/errors.md", errorsMarkdown(sources, links, true)],
    ["docs/reference/capabilities.md", capabilitiesMarkdown(sources, links, true)],
    ["docs/reference/limits.md", limitsMarkdown(sources, links, true)],
  ];
  return files.map(([path, contents]) => ({ path: join(root, path), contents: contents.endsWith("\n") ? contents : `${contents}\n` }));
}
