/**
 * JUnit XML: one <testsuite> per spec section, one <testcase> per case. A failed case carries a
 * <failure> with the expected/actual lines and the wire trace; a SHOULD warning passes with the
 * warning in <system-out>, since JUnit has no warning state.
 */
import type { CaseResult, Report } from "../report.ts";
import type { Reporter } from "./reporter.ts";

/** XML 1.0 text: escapes markup and drops characters XML cannot carry. */
export function xmlEscape(text: string): string {
  return text
    // eslint-disable-next-line no-control-regex -- the XML 1.0 Char production names these
    .replace(/[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, "\uFFFD")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;");
}

const seconds = (ms: number) => (ms / 1000).toFixed(3);

export function failureBody(result: CaseResult): string {
  const lines: string[] = [];
  if (result.expected) for (const e of result.expected) lines.push(`expected: ${e}`);
  if (result.actual !== undefined) lines.push(`actual:   ${result.actual}`);
  lines.push(`requirements: ${result.requirements.join(", ")}`);
  if (result.counterexample) lines.push(`counterexample: ${result.counterexample}`);
  if (result.replay) lines.push(`replay: --seed ${result.replay.seed} --path ${result.replay.path} --only ${result.id}`);
  if (result.trace?.length) {
    lines.push("trace:");
    for (const t of result.trace) lines.push(`  ${String(t.at_ms).padStart(6)} ms ${t.dir === "out" ? "→" : "←"} ${t.frame}`);
  }
  return lines.join("\n");
}

function testcase(result: CaseResult): string {
  const open = `    <testcase classname="${xmlEscape(result.suite)}" name="${xmlEscape(`${result.id}: ${result.title}`)}" time="${seconds(result.duration_ms)}">`;
  switch (result.verdict) {
    case "pass":
      return `${open}</testcase>`;
    case "skip":
      return `${open}\n      <skipped message="${xmlEscape(result.message ?? "skipped")}"/>\n    </testcase>`;
    case "warn":
      return `${open}\n      <system-out>${xmlEscape(`WARNING (${result.level}): ${result.message ?? ""}\n${failureBody(result)}`)}</system-out>\n    </testcase>`;
    case "fail":
      return `${open}\n      <failure message="${xmlEscape(result.message ?? "failed")}" type="${result.level}">${xmlEscape(failureBody(result))}</failure>\n    </testcase>`;
  }
}

export function renderJunit(report: Report): string {
  const suites = new Map<string, CaseResult[]>();
  for (const c of report.cases) suites.set(c.suite, [...(suites.get(c.suite) ?? []), c]);
  const count = (cases: CaseResult[], verdict: CaseResult["verdict"]) => cases.filter((c) => c.verdict === verdict).length;
  const time = (cases: CaseResult[]) => seconds(cases.reduce((t, c) => t + c.duration_ms, 0));
  const body = [...suites.entries()].map(
    ([name, cases]) =>
      `  <testsuite name="${xmlEscape(name)}" tests="${cases.length}" failures="${count(cases, "fail")}" errors="0" skipped="${count(cases, "skip")}" time="${time(cases)}" timestamp="${report.started_at.replace(/\.\d+Z$/, "")}">\n${cases.map(testcase).join("\n")}\n  </testsuite>`,
  );
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="peer-conformance ${xmlEscape(report.target)}" tests="${report.summary.total}" failures="${report.summary.failed}" errors="0" skipped="${report.summary.skipped}" time="${seconds(report.duration_ms)}">`,
    ...body,
    "</testsuites>",
    "",
  ].join("\n");
}

export function junitReporter(): Reporter {
  return { name: "junit", render: (report) => renderJunit(report) };
}
