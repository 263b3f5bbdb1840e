/**
 * The html reporter on a fixed report: what the target sent stays text, the matrix has one cell
 * per case with its verdict, the baseline and an abort show, and a failure carries its wire log.
 */
import { describe, expect, test } from "vitest";
import { escapeHtml, renderHtml, rerunCommand } from "../src/reporters/html.ts";
import { REPORTERS } from "../src/reporters/index.ts";
import type { RenderContext } from "../src/reporters/reporter.ts";
import { summarize, type CaseResult, type Report } from "../src/report.ts";

const HOSTILE = "</script><script>alert(1)</script>";

const cases: CaseResult[] = [
  { id: "handshake.complete", title: "A responder completes the handshake", suite: "6. Handshake", level: "MUST", requirements: ["PP-KS-001"], verdict: "pass", duration_ms: 12 },
  {
    id: "keys.zero-shared-secret",
    title: "A responder aborts on an all-zero shared secret",
    suite: "7.4 Key and signature validation",
    level: "MUST",
    requirements: ["PP-HS-004", "PP-KS-017"],
    verdict: "fail",
    duration_ms: 31,
    message: "expected ERROR AUTHENTICATION_FAILED & close; got <SESSION_ESTABLISHED>",
    expected: ["ERROR AUTHENTICATION_FAILED and close: ephemeral_key u = 0"],
    actual: `SESSION_ESTABLISHED ${HOSTILE}`,
    counterexample: '{"bit":3}',
    replay: { seed: -5, path: "0:1" },
    trace: [
      { dir: "out", at_ms: 0, frame: '{"type":"HANDSHAKE_INIT","x":"<&>\u0001\u0000"}' },
      { dir: "in", at_ms: 4.25, frame: `{"type":"ERROR","detail":"${HOSTILE}"}` },
      { dir: "out", at_ms: 5, frame: '{"type":"TASK_REQUEST","ciphertext":"AAAA"}\n  ↳ TASK_REQUEST seq 1 plaintext: {"task":"echo"}' },
      { dir: "in", at_ms: 6, frame: '  ↳ TASK_RESPONSE seq 1 decrypted: {"ok":true}' },
      { dir: "in", at_ms: 7, frame: "<close 1006>" },
    ],
  },
  { id: "keys.small-order", title: "Small-order keys", suite: "7.4 Key and signature validation", level: "MUST", requirements: ["PP-HS-004"], verdict: "fail", duration_ms: 8, message: "accepted a small-order key" },
  { id: "errors.related-message-id", title: "An ERROR names its cause", suite: "12. Errors", level: "SHOULD", requirements: ["PP-ERR-006"], verdict: "warn", duration_ms: 3, message: "no related_message_id" },
  { id: "resume.resume-after-drop", title: "Resume", suite: "8. Session and resume", level: "MUST", requirements: ["PP-SES-002"], verdict: "skip", duration_ms: 0, message: "the target does not advertise resume" },
  { id: "resume.window", title: "Resume window", suite: "8. Session and resume", level: "MUST", requirements: ["PP-SES-002"], verdict: "error", duration_ms: 2, message: "the probe threw: TypeError" },
];

const report: Report = {
  tool: "peer-conformance",
  version: "0.1.0",
  target: "ws://127.0.0.1:9/ws/v1/peers",
  started_at: "2026-01-01T00:00:00.000Z",
  duration_ms: 50,
  seed: -5,
  summary: summarize(cases),
  coverage: { covered: 3, selected: 4, total_must: 160, excluded: 14 },
  baseline: { file: "expected.json", expected: [{ id: "keys.small-order", reason: "known: issue #7 <b>" }], stale: [{ id: "handshake.complete", why: "passes" }] },
  aborted: "the target stopped answering",
  cases,
};

const context: RenderContext = { runNotes: ["a note <i>"], replayFiles: { "keys.zero-shared-secret": "conformance-replay-keys.zero-shared-secret.json" }, color: false };
const html = renderHtml(report, context);

/** The page's elements with a class, by a small scan (no DOM in node): `[tag, attributes]`. */
function elements(page: string, className: string): string[] {
  return [...page.matchAll(/<([a-z]+)\s([^>]*)>/g)].filter((m) => new RegExp(`class="[^"]*\\b${className}\\b`).test(m[2]!)).map((m) => m[2]!);
}

describe("html reporter", () => {
  test("is registered as html", () => {
    expect(REPORTERS.html!().name).toBe("html");
    expect(REPORTERS.html!().render(report, context)).toBe(html);
  });

  test("what the target sent stays text: a </script> in a frame appears only escaped", () => {
    expect(html).not.toContain(HOSTILE);
    expect(html).not.toContain("<script>alert");
    expect(html).toContain(escapeHtml(HOSTILE));
    expect(html).toContain("&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;");
    // One script element: the page's own, and the CSP allows only it, by hash.
    expect(html.match(/<script/g)).toHaveLength(1);
    expect(html).toMatch(/script-src 'sha256-[A-Za-z0-9+/]+=*'/);
    // Controls become visible control pictures instead of parse errors.
    expect(html).toContain("&lt;&amp;&gt;\u2401\u2400");
    expect(html).not.toMatch(/issue #7 <b>|a note <i>/);
  });

  test("loads nothing from elsewhere", () => {
    expect(html).not.toMatch(/\b(?:src|href)="(?:https?:)?\/\//);
    expect(html).not.toMatch(/<link|@import|url\(/);
  });

  test("the matrix has one cell per case with its verdict's class, an expected failure its own", () => {
    const cells = elements(html, "cell");
    expect(cells).toHaveLength(cases.length);
    const byCase = Object.fromEntries(cells.map((attrs) => [/data-case="([^"]+)"/.exec(attrs)![1], /class="cell (v-[a-z]+)"/.exec(attrs)![1]]));
    expect(byCase).toEqual({
      "handshake.complete": "v-pass",
      "keys.zero-shared-secret": "v-fail",
      "keys.small-order": "v-xfail",
      "errors.related-message-id": "v-warn",
      "resume.resume-after-drop": "v-skip",
      "resume.window": "v-error",
    });
    for (const attrs of cells) expect(attrs).toMatch(/href="#case-[a-z.-]+"/);
    // One row per section, in run order.
    expect([...html.matchAll(/<tr><th scope="row">([^<]+)</g)].map((m) => m[1])).toEqual(["6. Handshake", "7.4 Key and signature validation", "12. Errors", "8. Session and resume"]);
    // Each cell links to a case detail that exists.
    for (const c of cases) expect(html).toContain(`id="case-${c.id}"`);
  });

  test("the header has the target, seed, counts, coverage, replay command, notes, baseline and the abort", () => {
    expect(html).toContain('<dd class="mono" id="seed">-5</dd>');
    expect(html).toContain("ws://127.0.0.1:9/ws/v1/peers");
    expect(html).toContain('data-verdict="pass">1 passed');
    expect(html).toContain('data-verdict="fail">1 failed');
    expect(html).toContain('data-verdict="xfail">1 expected failures');
    expect(html).toContain("MUST requirements checked by this run: 3 of the 4");
    expect(html).toContain('<code id="rerun">peer-conformance ws://127.0.0.1:9/ws/v1/peers --seed -5</code>');
    expect(html).toContain("a note &lt;i&gt;");
    expect(html).toMatch(/id="aborted"><strong>Run aborted:<\/strong> the target stopped answering/);
    expect(html).toContain("known: issue #7 &lt;b&gt;");
    expect(html).toMatch(/id="stale">[^]*handshake\.complete<\/code>: the case passes now/);
    expect(renderHtml(report, { ...context, rerun: "peer-conformance --replay x.json" })).toContain('<code id="rerun">peer-conformance --replay x.json</code>');
    expect(rerunCommand({ ...report, target: "embedded" }, {})).toBe("peer-conformance --seed -5");
  });

  test("a failing case comes first, open, with its requirements' text, replay and the wire log of both directions", () => {
    const start = html.indexOf('id="case-keys.zero-shared-secret"');
    const detail = html.slice(start, html.indexOf("</details>\n</details>", start) > 0 ? html.indexOf("</details>\n</details>", start) : html.indexOf("</details>", html.indexOf("</ol>", start)));
    expect(start).toBeLessThan(html.indexOf('id="case-handshake.complete"'));
    expect(html.slice(start - 80, start)).toContain('<details class="case v-fail"');
    expect(html.slice(start, start + 80)).toContain(" open>");
    expect(detail).toContain("PP-HS-004 (MUST):");
    expect(detail).toContain("--seed -5 --path 0:1 --only keys.zero-shared-secret");
    expect(detail).toContain("peer-conformance --replay conformance-replay-keys.zero-shared-secret.json");
    expect(detail).toMatch(/<details class="wire" open><summary>Wire log: 5 entries \(2 → sent, 3 ← received\)/);
    expect(detail).toMatch(/<li class="out"><span class="at">0 ms<\/span><span class="dir"[^>]*>→<\/span><span class="frame">\{&quot;type&quot;:&quot;HANDSHAKE_INIT/);
    expect(detail).toMatch(/<li class="in"><span class="at">4.3 ms<\/span><span class="dir"[^>]*>←<\/span>/);
    expect(detail).toContain('<span class="cont">↳ TASK_REQUEST seq 1 plaintext: {&quot;task&quot;:&quot;echo&quot;}</span>');
    expect(detail).toContain('<span class="frame"><span class="cont">↳ TASK_RESPONSE seq 1 decrypted:');
    // A passing case is folded.
    expect(html).toMatch(/<details class="case v-pass" id="case-handshake.complete" data-verdict="pass">/);
  });
});
