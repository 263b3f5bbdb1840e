/** The report as JSON, valid against schemas/json/1.2/report.json. */
import type { Reporter } from "./reporter.ts";

export function jsonReporter(): Reporter {
  return { name: "json", render: (report) => `${JSON.stringify(report, null, 2)}\n` };
}
