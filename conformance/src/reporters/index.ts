/** The reporters by name (`--reporter NAME[=FILE]`). */
import { htmlReporter } from "./html.ts";
import { jsonReporter } from "./json.ts";
import { junitReporter } from "./junit.ts";
import { markdownReporter } from "./markdown.ts";
import { prettyReporter } from "./pretty.ts";
import type { Reporter } from "./reporter.ts";

export type { RenderContext, Reporter } from "./reporter.ts";

export const REPORTERS: Record<string, () => Reporter> = {
  pretty: () => prettyReporter(),
  json: jsonReporter,
  junit: junitReporter,
  markdown: markdownReporter,
  html: htmlReporter,
};

export const REPORTER_NAMES = Object.keys(REPORTERS);
