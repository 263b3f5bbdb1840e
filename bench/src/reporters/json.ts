/** The JSON report: the BenchReport as is (schema in ../report-schema.ts). */
import type { BenchReport } from "../report-schema.ts";

export function renderJson(report: BenchReport): string {
  return JSON.stringify(report, null, 2) + "\n";
}
