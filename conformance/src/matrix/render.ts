/**
 * The matrix of `peer-conformance matrix`: targets × cases, as Markdown (matrix.md, for CI pages and
 * pull requests) and as one self-contained HTML page (matrix.html, a cell's message on hover and a
 * link to the case in that target's own html report). Rows are cases grouped by spec section, in
 * run order; columns are targets; a summary per target comes first.
 */
import type { CaseResult, Report } from "../report.ts";
import { caseAnchor, escapeHtml as e, VERDICT_CSS, VERDICT_LABEL } from "../reporters/html.ts";

export interface TargetRun {
  name: string;
  /** Where the runner connected (with the port filled in for a started server). */
  url: string;
  /** The command that started the server, if the matrix started it. */
  command?: string;
  report?: Report;
  /** Why there is no report: the server did not start, the target was unreachable, … */
  error?: string;
  /** The target's own html report, relative to the matrix files. */
  htmlReport?: string;
}

export interface MatrixMeta {
  file: string;
  seed: number;
  startedAt: string;
}

/** Whether a target's run passed: it ran, was not aborted, and no case failed or ended in a harness error. */
export const runPassed = (run: TargetRun): boolean => run.report !== undefined && !run.report.aborted && run.report.summary.failed === 0 && run.report.summary.errors === 0;

interface Row {
  id: string;
  title: string;
  level: string;
  /** By target index; absent when the target did not run the case. */
  results: (CaseResult | undefined)[];
}

/** The rows by section, in the order the cases ran (the first target's, then any the others add). */
export function matrixRows(runs: readonly TargetRun[]): Map<string, Row[]> {
  const sections = new Map<string, Row[]>();
  const byId = new Map<string, Row>();
  runs.forEach((run, index) => {
    for (const c of run.report?.cases ?? []) {
      let row = byId.get(c.id);
      if (!row) {
        row = { id: c.id, title: c.title, level: c.level, results: runs.map(() => undefined) };
        byId.set(c.id, row);
        sections.set(c.suite, [...(sections.get(c.suite) ?? []), row]);
      }
      row.results[index] = c;
    }
  });
  return sections;
}

const ICON: Record<CaseResult["verdict"], string> = { pass: "✅", fail: "❌", skip: "⏭️", warn: "⚠️", error: "💥" };
const mdCell = (text: string) => text.replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function summaryRows(runs: readonly TargetRun[]): [string, string[]][] {
  const value = (f: (r: Report) => string) => runs.map((run) => (run.report ? f(run.report) : "—"));
  return [
    ["result", runs.map((run) => (run.report ? (runPassed(run) ? "pass" : run.report.aborted ? `aborted: ${run.report.aborted}` : "fail") : `not run: ${run.error ?? "unknown"}`))],
    ["target", runs.map((run) => run.url)],
    ["passed", value((r) => String(r.summary.passed))],
    ["failed", value((r) => String(r.summary.failed))],
    ["warned", value((r) => String(r.summary.warned))],
    ["skipped", value((r) => String(r.summary.skipped))],
    ["harness errors", value((r) => String(r.summary.errors))],
    ["cases", value((r) => String(r.summary.total))],
    ["MUST covered", value((r) => `${r.coverage.covered} of ${r.coverage.selected}`)],
    ["duration", value((r) => seconds(r.duration_ms))],
  ];
}

export function renderMatrixMarkdown(runs: readonly TargetRun[], meta: MatrixMeta): string {
  const names = runs.map((run) => mdCell(run.name));
  const lines = [
    "# peer-conformance matrix",
    "",
    `${runs.length} targets from \`${meta.file}\`, seed \`${meta.seed}\` for all, started ${meta.startedAt}.`,
    "",
    `| | ${names.join(" | ")} |`,
    `| --- | ${runs.map(() => "---").join(" | ")} |`,
  ];
  for (const [label, values] of summaryRows(runs)) {
    const shown = label === "result" ? values.map((v, i) => `${runPassed(runs[i]!) ? "✅" : "❌"} ${v}`) : label === "target" ? values.map((v) => `\`${v}\``) : values;
    lines.push(`| **${label}** | ${shown.map(mdCell).join(" | ")} |`);
  }
  const sections = matrixRows(runs);
  const differing = [...sections.values()].flat().filter((row) => new Set(row.results.map((r) => r?.verdict ?? "none")).size > 1);
  if (runs.length > 1) {
    lines.push("", "## Where the targets differ", "");
    if (differing.length === 0) lines.push("Every case has the same verdict on every target.");
    else {
      lines.push(`| case | level | ${names.join(" | ")} |`, `| --- | --- | ${runs.map(() => "---").join(" | ")} |`);
      for (const row of differing) lines.push(`| \`${row.id}\` | ${row.level} | ${row.results.map((r) => (r ? `${ICON[r.verdict]} ${r.verdict}` : "—")).join(" | ")} |`);
    }
  }
  for (const [section, rows] of sections) {
    lines.push("", `## ${mdCell(section)}`, "", `| case | level | ${names.join(" | ")} |`, `| --- | --- | ${runs.map(() => "---").join(" | ")} |`);
    for (const row of rows) lines.push(`| \`${row.id}\` | ${row.level} | ${row.results.map((r) => (r ? `${ICON[r.verdict]} ${r.verdict}` : "—")).join(" | ")} |`);
  }
  const problems = runs.flatMap((run) => (run.report?.cases ?? []).filter((c) => c.verdict === "fail" || c.verdict === "warn" || c.verdict === "error").map((c) => ({ run, c })));
  if (problems.length > 0) {
    lines.push("", "## Failures, warnings and harness errors", "");
    for (const { run, c } of problems) lines.push(`- ${ICON[c.verdict]} **${mdCell(run.name)}** \`${c.id}\`: ${mdCell(c.message ?? c.verdict)}`);
  }
  const notRun = runs.filter((run) => !run.report);
  if (notRun.length > 0) {
    lines.push("", "## Targets not run", "");
    for (const run of notRun) lines.push(`### ${mdCell(run.name)}`, "", "```", (run.error ?? "").replace(/```/g, "'''"), "```", "");
  }
  return `${lines.join("\n").trimEnd()}\n`;
}

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;padding:1rem 1.5rem;color:#222;background:#fff}
h1{font-size:1.5rem;margin:.2rem 0 .6rem}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px}
table{border-collapse:collapse}
th,td{border:1px solid #ddd;padding:.2rem .5rem;text-align:left;vertical-align:top}
thead th{position:sticky;top:0;background:#f4f4f4;z-index:1}
tbody.summary th{background:#fafafa;white-space:nowrap}
tr.section th{background:#eef2f7;font-size:1rem;padding:.45rem .5rem}
td.case{white-space:nowrap}td.case small{display:block;color:#666;white-space:normal;max-width:32rem}
td.cell{text-align:center;white-space:nowrap;min-width:6rem}
td.cell a{color:inherit;text-decoration:none;display:block}
td.cell a:hover,td.cell a:focus{text-decoration:underline}
td.none{color:#aaa;text-align:center}
tr.differs td.case{box-shadow:inset 4px 0 0 #4a90d9}
.error{white-space:pre-wrap;font-family:ui-monospace,monospace;font-size:12px;color:#7a0000;max-width:40rem}
.legend span{border:1px solid;border-radius:3px;padding:0 .4rem;margin-right:.3rem;font-size:12px}
@media print{thead th{position:static}}
${VERDICT_CSS}`;

export function renderMatrixHtml(runs: readonly TargetRun[], meta: MatrixMeta): string {
  const head = `<tr><th>${runs.length} targets</th><th>level</th>${runs.map((run) => `<th scope="col" data-target="${e(run.name)}">${e(run.name)}</th>`).join("")}</tr>`;
  const summary = summaryRows(runs).map(([label, values]) => {
    const cells = values.map((v, i) => {
      const run = runs[i]!;
      if (label === "result") return `<td class="${runPassed(run) ? "v-pass" : run.report ? "v-fail" : "v-error"}" data-result="${runPassed(run) ? "pass" : "fail"}">${run.report ? e(v) : `<div class="error">${e(v)}</div>`}</td>`;
      if (label === "target") return `<td class="mono">${e(v)}${run.htmlReport ? `<br><a href="${e(run.htmlReport)}">full report</a>` : ""}</td>`;
      return `<td>${e(v)}</td>`;
    });
    return `<tr><th scope="row" colspan="2">${label}</th>${cells.join("")}</tr>`;
  });
  const body: string[] = [];
  for (const [section, rows] of matrixRows(runs)) {
    body.push(`<tr class="section"><th colspan="${runs.length + 2}">${e(section)}</th></tr>`);
    for (const row of rows) {
      const verdicts = new Set(row.results.map((r) => r?.verdict ?? "none"));
      const cells = row.results.map((r, i) => {
        if (!r) return `<td class="none" title="not run for this target">—</td>`;
        const run = runs[i]!;
        const tip = `${run.name}: ${r.verdict}${r.message ? ` — ${r.message}` : ""}`;
        const label = e(VERDICT_LABEL[r.verdict]);
        const inner = run.htmlReport ? `<a href="${e(`${run.htmlReport}#${caseAnchor(r.id)}`)}">${label}</a>` : label;
        return `<td class="cell v-${r.verdict}" data-target="${e(run.name)}" data-verdict="${r.verdict}" title="${e(tip)}">${inner}</td>`;
      });
      body.push(`<tr data-case="${e(row.id)}"${verdicts.size > 1 ? ' class="differs"' : ""}><td class="case"><code>${e(row.id)}</code><small>${e(row.title)}</small></td><td>${row.level}</td>${cells.join("")}</tr>`);
    }
  }
  const legend = (["pass", "fail", "warn", "skip", "error"] as const).map((v) => `<span class="v-${v}">${VERDICT_LABEL[v]}</span>`).join("");
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>peer-conformance matrix (${runs.filter(runPassed).length} of ${runs.length} targets pass)</title>
<style>${STYLE}</style>
</head>
<body>
<h1>peer-conformance matrix</h1>
<p>${runs.length} targets from <code>${e(meta.file)}</code>, seed <code id="seed">${meta.seed}</code> for all, started ${e(meta.startedAt)}. Hover a cell for its message; a cell links to the case in that target's report. A blue mark: the targets differ on this case.</p>
<p class="legend">${legend}<span style="border-color:#ccc">— not run</span></p>
<table>
<thead>${head}</thead>
<tbody class="summary">
${summary.join("\n")}
</tbody>
<tbody>
${body.join("\n")}
</tbody>
</table>
</body>
</html>
`;
}
