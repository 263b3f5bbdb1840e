/**
 * The how-to guides: hand-written Markdown under `docs/guides/`, with the `--help` text of each
 * command pulled from its CLI module at build time (`<!-- usage:peer-conformance -->`), so the
 * flag reference in the guides is the one the command prints.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

export interface Guide {
  /** File name without `.md`: the page is `guides/<name>.html`. */
  name: string;
  markdown: string;
}

/** Where each command's `USAGE` string lives. */
const USAGE_MODULES: Record<string, string> = {
  "peer-conformance": "conformance/src/cli.ts",
  "peer-bench": "bench/src/cli.ts",
  "peer-server": "reference/src/cli/peer-server.ts",
  "peer-client-driver": "reference/src/cli/peer-client-driver.ts",
};

async function usage(root: string, command: string): Promise<string | undefined> {
  const module = USAGE_MODULES[command];
  if (module === undefined || !existsSync(join(root, module))) return undefined;
  try {
    const loaded = (await import(pathToFileURL(join(root, module)).href)) as { USAGE?: unknown };
    return typeof loaded.USAGE === "string" ? loaded.USAGE : undefined;
  } catch {
    return undefined;
  }
}

export async function loadGuides(root: string): Promise<Guide[]> {
  const dir = join(root, "docs/guides");
  const guides: Guide[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".md")).sort()) {
    let markdown = readFileSync(join(dir, file), "utf8");
    for (const match of [...markdown.matchAll(/<!-- usage:([a-z-]+) -->/g)]) {
      const command = match[1] as string;
      const text = await usage(root, command);
      const replacement = text === undefined ? `Run \`npx ${command} --help\` for every flag.` : `\`npx ${command} --help\` prints:\n\n\`\`\`text\n${text}\n\`\`\``;
      markdown = markdown.replace(match[0], replacement);
    }
    guides.push({ name: file.replace(/\.md$/, ""), markdown });
  }
  return guides;
}
