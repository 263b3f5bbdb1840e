/**
 * JUnit XML: one <testsuite> per spec section, one <testcase> per case. A failed case carries a
 * <failure> with the expected/actual lines, the requirements' text and the wire trace; a harness
 * error an <error>; a SHOULD warning passes with the warning in <system-out>, since JUnit has no
 * warning state. The baseline shows as CI tools read it: an expected failure is a skipped testcase
 * with its reason, and each stale entry is a failed testcase of its own, so that a green run is
 * green in `action-junit-report` too.
 */
import { describeRequirement } from "../coverage.ts";
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

/** A trace entry as lines: the frame, then what the probe decrypted or encrypted under it (`↳ … plaintext`). */
export function traceLines(entry: { dir: "out" | "in"; at_ms: number; frame: string }, maxLineChars = Infinity): string[] {
  const [first = "", ...rest] = entry.frame.split("\n");
  const cut = (line: string) => (line.length > maxLineChars ? `${line.slice(0, maxLineChars)}…` : line);
  return [`${String(entry.at_ms).padStart(6)} ms ${entry.dir === "out" ? "→" : "←"} ${cut(first)}`, ...rest.map((line) => `            ${cut(line.trim())}`)];
}

export function failureBody(result: CaseResult): string {
  const lines: string[] = [];
  if (result.expected) for (const e of result.expected) lines.push(`expected: ${e}`);
  if (result.actual !== undefined) lines.push(`actual:   ${result.actual}`);
  lines.push("requirements:", ...result.requirements.map((id) => `  ${describeRequirement(id)}`));
  if (result.counterexample) lines.push(`counterexample: ${result.counterexample}`);
  if (result.replay) lines.push(`replay: --seed ${result.replay.seed} --path ${result.replay.path} --only ${result.id}`);
  if (result.trace?.length) {
    lines.push("trace:");
    for (const t of result.trace) lines.push(...traceLines(t).map((line) => `  ${line}`));
  }
  return lines.join("\n");
}

function testcase(result: CaseResult, expectedReason: string | undefined): string {
  const open = `    <testcase classname="${xmlEscape(result.suite)}" name="${xmlEscape(`${result.id}: ${result.title}`)}" time="${seconds(result.duration_ms)}">`;
  switch (result.verdict) {
    case "pass":
      return `${open}</testcase>`;
    case "skip":
      return `${open}\n      <skipped message="${xmlEscape(result.message ?? "skipped")}"/>\n    </testcase>`;
    case "warn":
      return `${open}\n      <system-out>${xmlEscape(`WARNING (${result.level}): ${result.message ?? ""}\n${failureBody(result)}`)}</system-out>\n    </testcase>`;
    case "error":
      return `${open}\n      <error message="${xmlEscape(result.message ?? "harness error")}" type="harness">${xmlEscape(`The harness could not finish this case: no verdict on the target.\n${failureBody(result)}`)}</error>\n    </testcase>`;
    case "fail":
      if (expectedReason !== undefined)
        return `${open}\n      <skipped message="${xmlEscape(`expected failure (baseline)${expectedReason ? `: ${expectedReason}` : ""}`)}"/>\n      <system-out>${xmlEscape(`${result.message ?? ""}\n${failureBody(result)}`)}</system-out>\n    </testcase>`;
      return `${open}\n      <failure message="${xmlEscape(result.message ?? "failed")}" type="${result.level}">${xmlEscape(failureBody(result))}</failure>\n    </testcase>`;
  }
}

interface Suite {
  name: string;
  cases: string[];
  tests: number;
  failures: number;
  errors: number;
  skipped: number;
  ms: number;
}

export function renderJunit(report: Report): string {
  const expected = new Map((report.baseline?.expected ?? []).map((e) => [e.id, e.reason ?? ""]));
  const suites = new Map<string, Suite>();
  const suite = (name: string): Suite => {
    let s = suites.get(name);
    if (!s) suites.set(name, (s = { name, cases: [], tests: 0, failures: 0, errors: 0, skipped: 0, ms: 0 }));
    return s;
  };
  for (const c of report.cases) {
    const s = suite(c.suite);
    const reason = c.verdict === "fail" ? expected.get(c.id) : undefined;
    s.cases.push(testcase(c, reason));
    s.tests++;
    s.ms += c.duration_ms;
    if (c.verdict === "fail" && reason === undefined) s.failures++;
    if (c.verdict === "error") s.errors++;
    if (c.verdict === "skip" || reason !== undefined) s.skipped++;
  }
  if (report.baseline && report.baseline.stale.length > 0) {
    const s = suite(`baseline ${report.baseline.file}`);
    for (const entry of report.baseline.stale) {
      const why = entry.why === "passes" ? "the case passes now: remove it from the baseline" : "no case has this id: remove it from the baseline";
      s.cases.push(`    <testcase classname="${xmlEscape(s.name)}" name="${xmlEscape(`stale entry ${entry.id}`)}" time="0.000">\n      <failure message="${xmlEscape(`stale baseline entry ${entry.id}: ${why}`)}" type="stale-baseline"/>\n    </testcase>`);
      s.tests++;
      s.failures++;
    }
  }
  if (report.aborted) {
    const s = suite("run");
    s.cases.push(`    <testcase classname="run" name="the run completes" time="0.000">\n      <error message="${xmlEscape(report.aborted)}" type="aborted"/>\n    </testcase>`);
    s.tests++;
    s.errors++;
  }
  const all = [...suites.values()];
  const sum = (key: "tests" | "failures" | "errors" | "skipped") => all.reduce((t, s) => t + s[key], 0);
  const timestamp = report.started_at.replace(/\.\d+Z$/, "");
  // Which nodes a suite ran against, as JUnit's properties: the target, and the second node of a cluster run (--peer-target).
  const properties = [`      <property name="target" value="${xmlEscape(report.target)}"/>`, ...(report.peer_target !== undefined ? [`      <property name="peer_target" value="${xmlEscape(report.peer_target)}"/>`] : [])].join("\n");
  const body = all.map((s) => `  <testsuite name="${xmlEscape(s.name)}" tests="${s.tests}" failures="${s.failures}" errors="${s.errors}" skipped="${s.skipped}" time="${seconds(s.ms)}" timestamp="${timestamp}">\n    <properties>\n${properties}\n    </properties>\n${s.cases.join("\n")}\n  </testsuite>`);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="peer-conformance ${xmlEscape(report.target)}${report.peer_target !== undefined ? ` + ${xmlEscape(report.peer_target)}` : ""}" tests="${sum("tests")}" failures="${sum("failures")}" errors="${sum("errors")}" skipped="${sum("skipped")}" time="${seconds(report.duration_ms)}">`,
    ...body,
    "</testsuites>",
    "",
  ].join("\n");
}

export function junitReporter(): Reporter {
  return { name: "junit", render: (report) => renderJunit(report) };
}
