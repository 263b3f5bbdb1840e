/**
 * One self-contained HTML page per run, after Autobahn's report: a header (target, seed, date,
 * counts, coverage, the replay command, notes, baseline, abort), the verdict matrix (one row per
 * spec section, one coloured cell per case, linking to its detail) and every case in detail with
 * its requirements' text and its full wire log folded in a <details>. Failures come first and open.
 *
 * Everything from the report is escaped text: frames carry arbitrary bytes of the target, so a
 * `<script>` in a frame must stay text. The page loads nothing (a Content-Security-Policy allows
 * no source but its own inline style and its one inline script, by hash), reads without JS and prints.
 */
import { createHash } from "node:crypto";
import { describeRequirement } from "../coverage.ts";
import type { CaseResult, Report, TraceEntry } from "../report.ts";
import { coverageLine } from "./pretty.ts";
import type { RenderContext, Reporter } from "./reporter.ts";

/** HTML text or attribute value: markup escaped, C0 controls shown as their control pictures (␀), lone surrogates as U+FFFD. */
export function escapeHtml(text: string): string {
  return (
    text
      // eslint-disable-next-line no-control-regex -- controls other than tab, LF and CR are parse errors in HTML
      .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/g, (c) => String.fromCharCode(c === "\u007F" ? 0x2421 : 0x2400 + c.charCodeAt(0)))
      .replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, "\uFFFD")
      .replace(/&/g, "&amp;")
      .replace(/</g, "&lt;")
      .replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;")
      .replace(/'/g, "&#39;")
  );
}

/** The cell class of a verdict: `v-pass`, `v-fail`, …; a failure the baseline expects is `v-xfail`. */
export type CellVerdict = CaseResult["verdict"] | "xfail";

export const VERDICT_LABEL: Record<CellVerdict, string> = { pass: "pass", fail: "FAIL", skip: "skip", warn: "warn", error: "error", xfail: "expected failure" };

/** The page's colours, shared with the matrix page (matrix/render.ts) so both read alike. */
export const VERDICT_CSS = `
.v-pass{background:#d5f5d5;color:#0b4d0b;border-color:#62b062}
.v-fail{background:#ffd2d2;color:#7a0000;border-color:#d04040}
.v-skip{background:#ececec;color:#555;border-color:#bbb}
.v-warn{background:#fff1c2;color:#6b4f00;border-color:#d9b100}
.v-error{background:#ecd9f7;color:#4b0f6b;border-color:#9a5cc0}
.v-xfail{background:#ffe7d1;color:#6e3800;border-color:#e09050;background-image:repeating-linear-gradient(45deg,transparent 0 6px,rgba(0,0,0,.06) 6px 12px)}
*{-webkit-print-color-adjust:exact;print-color-adjust:exact}`;

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;max-width:1200px;padding:1rem 1.5rem;color:#222;background:#fff}
h1{font-size:1.5rem;margin:.2rem 0 .6rem}h2{font-size:1.2rem;margin:1.6rem 0 .5rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
h3{font-size:1rem;margin:1.2rem 0 .4rem}
code,pre,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px}
pre{white-space:pre-wrap;overflow-wrap:anywhere;margin:.2rem 0;background:#f7f7f7;padding:.4rem .6rem;border-radius:4px}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:.15rem 1rem;margin:.4rem 0}
dl.meta dt{color:#666}dl.meta dd{margin:0;overflow-wrap:anywhere}
.counts{display:flex;flex-wrap:wrap;gap:.4rem;margin:.6rem 0}
.count{border:1px solid;border-radius:4px;padding:.15rem .6rem;font-weight:600}
.alert{border:2px solid #d04040;background:#fff0f0;padding:.5rem .8rem;border-radius:4px;margin:.6rem 0}
.notes li,.baseline li{margin:.1rem 0}
table.matrix{border-collapse:collapse;width:100%}
table.matrix th{text-align:left;vertical-align:top;padding:.35rem .6rem .35rem 0;white-space:nowrap;font-weight:600;width:14rem}
table.matrix th small{display:block;font-weight:400;color:#666}
table.matrix td{padding:.3rem 0;border-top:1px solid #eee}
.cells{display:flex;flex-wrap:wrap;gap:3px}
a.cell{display:inline-block;border:1px solid;border-radius:3px;padding:0 .35rem;text-decoration:none;font-size:12px;line-height:1.6;max-width:16rem;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
a.cell b{font-weight:700;margin-right:.3rem}
a.cell:hover,a.cell:focus{outline:2px solid #333}
.legend{display:flex;flex-wrap:wrap;gap:.4rem;margin:.4rem 0;font-size:12px}
.legend span{border:1px solid;border-radius:3px;padding:0 .4rem}
details.case{border:1px solid #ddd;border-left-width:6px;border-radius:4px;margin:.4rem 0;padding:0 .7rem}
details.case>summary{cursor:pointer;padding:.35rem 0;list-style-position:outside}
details.case[open]>summary{border-bottom:1px solid #eee;margin-bottom:.4rem}
details.case:target{box-shadow:0 0 0 3px #4a90d9}
.badge{display:inline-block;border:1px solid;border-radius:3px;padding:0 .4rem;font-size:12px;font-weight:700;margin-right:.4rem;min-width:3.2rem;text-align:center}
.case .id{font-weight:600}.case .muted,.muted{color:#666}
.case dl{display:grid;grid-template-columns:9rem 1fr;gap:.25rem .8rem;margin:.3rem 0 .6rem}
.case dt{color:#666}.case dd{margin:0;min-width:0}
.case ul{margin:0;padding-left:1.1rem}
details.wire{margin:.2rem 0 .7rem}details.wire>summary{cursor:pointer;color:#333;font-weight:600}
.wire ol{list-style:none;margin:.3rem 0;padding:.3rem .5rem;background:#f7f7f7;border-radius:4px;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px}
.wire li{display:grid;grid-template-columns:5.5rem 1.4rem 1fr;gap:0 .4rem;padding:.05rem 0;border-bottom:1px dotted #e2e2e2}
.wire .at{color:#888;text-align:right}.wire .dir{font-weight:700;text-align:center}
.wire li.out .dir{color:#1b5fb4}.wire li.in .dir{color:#a0410d}
.wire .frame{white-space:pre-wrap;overflow-wrap:anywhere;min-width:0}
.wire .cont{display:block;color:#555;padding-left:1rem}
.toolbar{float:right;font-size:12px}.toolbar button{font:inherit;margin-left:.3rem}
footer{margin-top:2rem;color:#888;font-size:12px}
details.case[class]{background:#fff;color:#222;background-image:none}
@media print{body{max-width:none;padding:0;font-size:11px}.toolbar{display:none}details.case{break-inside:avoid-page}a.cell{color:inherit}}
${VERDICT_CSS}`;

/** Opens a case's details when a matrix cell (or any #case- link) points at it, and every details for printing. */
const SCRIPT = `(function(){
function openTarget(){var id=decodeURIComponent(location.hash.slice(1));var el=id&&document.getElementById(id);if(el&&el.tagName==="DETAILS"){el.open=true;}}
window.addEventListener("hashchange",openTarget);openTarget();
window.addEventListener("beforeprint",function(){document.querySelectorAll("details").forEach(function(d){d.open=true;});});
document.querySelectorAll("button[data-open]").forEach(function(b){b.hidden=false;b.addEventListener("click",function(){var open=b.getAttribute("data-open")==="1";document.querySelectorAll("details.case").forEach(function(d){d.open=open;});});});
})();`;

const SCRIPT_HASH = createHash("sha256").update(SCRIPT).digest("base64");
const CSP = `default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-${SCRIPT_HASH}'; img-src data:; base-uri 'none'; form-action 'none'`;

const e = escapeHtml;

/** A command-line word, single-quoted when the shell would read it otherwise. */
export function shellWord(word: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The run's replay command: the context's when the CLI gave one, else target and seed. */
export function rerunCommand(report: Report, context: Pick<RenderContext, "rerun">): string {
  if (context.rerun) return context.rerun;
  return ["peer-conformance", ...(report.target === "embedded" ? [] : [shellWord(report.target)]), ...(report.peer_target !== undefined ? ["--peer-target", shellWord(report.peer_target)] : []), "--seed", String(report.seed)].join(" ");
}

export function cellVerdict(c: CaseResult, expected: ReadonlySet<string>): CellVerdict {
  return c.verdict === "fail" && expected.has(c.id) ? "xfail" : c.verdict;
}

/** The case's anchor: ids are `[A-Za-z0-9._:-]`, valid in an id attribute and a fragment as they are. */
export const caseAnchor = (id: string): string => `case-${id}`;

const ms = (value: number) => (value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${Math.round(value * 10) / 10} ms`);

function shortName(c: CaseResult): string {
  const dot = c.id.indexOf(".");
  return dot > 0 ? c.id.slice(dot + 1) : c.id;
}

function header(report: Report, context: RenderContext, expected: ReadonlyMap<string, string | undefined>): string {
  const s = report.summary;
  const started = report.started_at.replace("T", " ").replace(/\.\d+Z$|Z$/, " UTC");
  const counts: [CellVerdict, string, number][] = [
    ["pass", "passed", s.passed],
    ["fail", "failed", s.failed - report.cases.filter((c) => c.verdict === "fail" && expected.has(c.id)).length],
    ["xfail", "expected failures", report.cases.filter((c) => c.verdict === "fail" && expected.has(c.id)).length],
    ["warn", "warned", s.warned],
    ["skip", "skipped", s.skipped],
    ["error", "harness errors", s.errors],
  ];
  const out: string[] = [
    `<header>`,
    `<h1>peer-conformance: ${e(report.target)}</h1>`,
    `<dl class="meta">`,
    `<dt>target</dt><dd class="mono" id="target">${e(report.target)}</dd>`,
    ...(report.peer_target !== undefined ? [`<dt>peer target</dt><dd class="mono" id="peer-target">${e(report.peer_target)}</dd>`] : []),
    `<dt>seed</dt><dd class="mono" id="seed">${report.seed}</dd>`,
    `<dt>started</dt><dd>${e(started)}</dd>`,
    `<dt>duration</dt><dd>${(report.duration_ms / 1000).toFixed(1)} s</dd>`,
    `<dt>tool</dt><dd>${e(report.tool)} ${e(report.version)}</dd>`,
    `<dt>coverage</dt><dd id="coverage">${e(coverageLine(report))}</dd>`,
    `<dt>replay the run</dt><dd><code id="rerun">${e(rerunCommand(report, context))}</code></dd>`,
    `</dl>`,
    `<div class="counts" id="summary">${counts
      .filter(([v, , n]) => n > 0 || v === "pass" || v === "fail")
      .map(([v, label, n]) => `<span class="count v-${v}" data-verdict="${v}">${n} ${label}</span>`)
      .join("")}<span class="count" data-verdict="total">${s.total} cases</span></div>`,
  ];
  if (report.aborted) out.push(`<div class="alert" id="aborted"><strong>Run aborted:</strong> ${e(report.aborted)}. The cases not run are absent from this report.</div>`);
  if (report.baseline && report.baseline.stale.length > 0)
    out.push(
      `<div class="alert" id="stale"><strong>Stale baseline entries</strong> in <code>${e(report.baseline.file)}</code> (each fails the run; remove them):<ul class="baseline">${report.baseline.stale
        .map((entry) => `<li><code>${e(entry.id)}</code>: ${entry.why === "passes" ? "the case passes now" : "no case has this id"}</li>`)
        .join("")}</ul></div>`,
    );
  if (report.baseline && report.baseline.expected.length > 0)
    out.push(
      `<div id="baseline"><strong>Expected failures</strong> (baseline <code>${e(report.baseline.file)}</code>; they do not fail the run):<ul class="baseline">${report.baseline.expected
        .map((entry) => `<li><a href="#${e(caseAnchor(entry.id))}"><code>${e(entry.id)}</code></a>${entry.reason ? `: ${e(entry.reason)}` : ""}</li>`)
        .join("")}</ul></div>`,
    );
  else if (report.baseline) out.push(`<p id="baseline">Baseline <code>${e(report.baseline.file)}</code>: no expected failures held.</p>`);
  if (context.runNotes.length > 0) out.push(`<div id="notes"><strong>Notes</strong><ul class="notes">${context.runNotes.map((n) => `<li>${e(n)}</li>`).join("")}</ul></div>`);
  out.push(`</header>`);
  return out.join("\n");
}

function matrix(report: Report, expected: ReadonlySet<string>): string {
  const sections = new Map<string, CaseResult[]>();
  for (const c of report.cases) sections.set(c.suite, [...(sections.get(c.suite) ?? []), c]);
  const rows = [...sections].map(([suite, cases]) => {
    const failing = cases.filter((c) => c.verdict === "fail" || c.verdict === "error").length;
    const cells = cases.map((c) => {
      const v = cellVerdict(c, expected);
      const tip = `${c.id} (${c.level}): ${VERDICT_LABEL[v]}${c.message ? ` — ${c.message}` : ""}`;
      return `<a class="cell v-${v}" data-case="${e(c.id)}" data-verdict="${v}" href="#${e(caseAnchor(c.id))}" title="${e(tip)}"><b>${e(VERDICT_LABEL[v])}</b>${e(shortName(c))}</a>`;
    });
    return `<tr><th scope="row">${e(suite)}<small>${cases.length} case${cases.length === 1 ? "" : "s"}${failing > 0 ? `, ${failing} not passing` : ""}</small></th><td><div class="cells">${cells.join("")}</div></td></tr>`;
  });
  const legend = (["pass", "fail", "xfail", "warn", "skip", "error"] as const).map((v) => `<span class="v-${v}">${VERDICT_LABEL[v]}</span>`).join("");
  return [
    `<section id="matrix"><h2>Verdicts by section</h2>`,
    `<div class="legend">${legend}<span class="v-skip" style="border-style:dashed">warn: a failed SHOULD; error: the harness failed, no verdict on the target</span></div>`,
    `<table class="matrix"><tbody>`,
    ...rows,
    `</tbody></table></section>`,
  ].join("\n");
}

function traceItem(entry: TraceEntry): string {
  const [first = "", ...rest] = entry.frame.split("\n");
  // A decrypted record the probe logs as an entry of its own starts with "↳": it continues the frame before it.
  const lead = first.trimStart().startsWith("↳") ? `<span class="cont">${e(first.trim())}</span>` : e(first);
  const more = rest.map((line) => `<span class="cont">${e(line.trim())}</span>`).join("");
  const dir = entry.dir === "out" ? "→" : "←";
  const who = entry.dir === "out" ? "sent by the runner" : "received from the target";
  return `<li class="${entry.dir}"><span class="at">${e(ms(entry.at_ms))}</span><span class="dir" title="${who}">${dir}</span><span class="frame">${lead}${more}</span></li>`;
}

function caseDetail(c: CaseResult, report: Report, context: RenderContext, expected: ReadonlyMap<string, string | undefined>): string {
  const v = cellVerdict(c, new Set(expected.keys()));
  const problem = v === "fail" || v === "error" || v === "warn" || v === "xfail";
  const rows: string[] = [];
  const row = (label: string, html: string) => rows.push(`<dt>${label}</dt><dd>${html}</dd>`);
  row("requirements", `<ul>${c.requirements.map((id) => `<li>${e(describeRequirement(id))}</li>`).join("")}</ul>`);
  if (c.message !== undefined) row(c.verdict === "skip" ? "skipped because" : "message", `<strong>${e(c.message)}</strong>`);
  if (v === "xfail") row("baseline", `expected failure${expected.get(c.id) ? `: ${e(expected.get(c.id)!)}` : ""}`);
  if (c.verdict === "error") row("harness error", "the harness could not finish this case: no verdict on the target");
  if (c.expected?.length) row("expected", c.expected.length === 1 ? `<pre>${e(c.expected[0]!)}</pre>` : `<p class="muted">any one of:</p><ul>${c.expected.map((x) => `<li><pre>${e(x)}</pre></li>`).join("")}</ul>`);
  if (c.actual !== undefined) row("actual", `<pre>${e(c.actual)}</pre>`);
  if (c.counterexample) row("counterexample", `<pre>${e(c.counterexample)}</pre>`);
  if (problem || c.replay) {
    const base = rerunCommand(report, {}).replace(/ --seed -?\d+$/, "");
    const seed = c.replay?.seed ?? report.seed;
    const replay = `${base} --seed ${seed}${c.replay ? ` --path ${shellWord(c.replay.path)}` : ""} --only ${shellWord(c.id)}`;
    row("replay", `<code>${e(replay)}</code>${c.replay ? ` <span class="muted">(seed ${c.replay.seed}, path ${e(c.replay.path)})</span>` : ""}`);
  }
  if (context.replayFiles[c.id]) row("replay file", `<code>${e(`peer-conformance --replay ${context.replayFiles[c.id]}`)}</code>`);
  const trace = c.trace ?? [];
  const sent = trace.filter((t) => t.dir === "out").length;
  const wire =
    trace.length > 0
      ? `<details class="wire"${v === "fail" || v === "error" ? " open" : ""}><summary>Wire log: ${trace.length} entries (${sent} → sent, ${trace.length - sent} ← received)</summary><ol>${trace.map(traceItem).join("")}</ol></details>`
      : problem
        ? `<p class="muted">No wire log (the run kept none for this case, or nothing was exchanged).</p>`
        : "";
  return [
    `<details class="case v-${v}" id="${e(caseAnchor(c.id))}" data-verdict="${v}"${problem ? " open" : ""}>`,
    `<summary><span class="badge v-${v}">${e(VERDICT_LABEL[v])}</span><span class="id mono">${e(c.id)}</span> — ${e(c.title)} <span class="muted">(${c.level}, ${e(ms(c.duration_ms))})</span></summary>`,
    `<dl><dt>section</dt><dd>${e(c.suite)}</dd><dt>level</dt><dd>${c.level}</dd><dt>verdict</dt><dd>${e(VERDICT_LABEL[v])}</dd><dt>duration</dt><dd>${e(ms(c.duration_ms))}</dd>${rows.join("")}</dl>`,
    wire,
    `</details>`,
  ].join("\n");
}

export function renderHtml(report: Report, context: RenderContext): string {
  const expected = new Map((report.baseline?.expected ?? []).map((x) => [x.id, x.reason]));
  const expectedIds = new Set(expected.keys());
  const rank = (c: CaseResult) => ({ fail: expectedIds.has(c.id) ? 2 : 0, error: 1, warn: 3, pass: 4, skip: 4 })[c.verdict];
  const problems = report.cases.filter((c) => rank(c) < 4).sort((a, b) => rank(a) - rank(b));
  const rest = report.cases.filter((c) => rank(c) === 4);
  const bySuite = new Map<string, CaseResult[]>();
  for (const c of rest) bySuite.set(c.suite, [...(bySuite.get(c.suite) ?? []), c]);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="peer-conformance ${e(report.version)}">
<title>peer-conformance: ${e(report.target)} (${report.summary.failed} failed, ${report.summary.passed} passed)</title>
<style>${STYLE}</style>
</head>
<body>
${header(report, context, expected)}
${matrix(report, expectedIds)}
<section id="cases"><h2>Cases<span class="toolbar"><button type="button" data-open="1" hidden>expand all</button><button type="button" data-open="0" hidden>collapse all</button></span></h2>
<p class="muted">→ a frame the runner sent, ← one it received; <code>↳</code> lines show what the probe encrypted or decrypted. Wire logs are folded; failures come first and open.</p>
${problems.length > 0 ? `<h3 id="problems">Failures, harness errors and warnings</h3>\n${problems.map((c) => caseDetail(c, report, context, expected)).join("\n")}` : ""}
${[...bySuite].map(([suite, cases]) => `<h3>${e(suite)}</h3>\n${cases.map((c) => caseDetail(c, report, context, expected)).join("\n")}`).join("\n")}
</section>
<footer>Written by ${e(report.tool)} ${e(report.version)} from the report of ${e(report.started_at)}.</footer>
<script>${SCRIPT}</script>
</body>
</html>
`;
}

export function htmlReporter(): Reporter {
  return { name: "html", render: renderHtml };
}
