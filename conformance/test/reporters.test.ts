import { describe, expect, test } from "vitest";
import { validateReport } from "../../schemas/src/index.ts";
import { jsonReporter } from "../src/reporters/json.ts";
import { renderJunit, xmlEscape } from "../src/reporters/junit.ts";
import { renderMarkdown } from "../src/reporters/markdown.ts";
import { renderPretty } from "../src/reporters/pretty.ts";
import type { RenderContext } from "../src/reporters/reporter.ts";
import { summarize, type CaseResult, type Report } from "../src/report.ts";

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
    actual: 'SESSION_ESTABLISHED: "accepted" & done',
    counterexample: '{"bit":3}',
    replay: { seed: -5, path: "0:1" },
    trace: [
      { dir: "out", at_ms: 0, frame: '{"type":"HANDSHAKE_INIT","x":"<&>\u0001\u0000"}' },
      { dir: "in", at_ms: 4, frame: "<close 1006>" },
    ],
  },
  { id: "errors.related-message-id", title: "An ERROR names its cause", suite: "12. Errors", level: "SHOULD", requirements: ["PP-ERR-006"], verdict: "warn", duration_ms: 3, message: "no related_message_id" },
  { id: "resume.resume-after-drop", title: "Resume", suite: "8. Session and resume", level: "MUST", requirements: ["PP-SES-002"], verdict: "skip", duration_ms: 0, message: "the target does not advertise resume" },
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
  cases,
};

const context: RenderContext = { runNotes: ["a note"], replayFiles: { "keys.zero-shared-secret": "conformance-replay-keys.zero-shared-secret.json" }, color: false };

/** A small XML well-formedness check: balanced tags, quoted attributes, no raw '<' or '&' in text. */
function assertWellFormedXml(xml: string): void {
  expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n')).toBe(true);
  const body = xml.slice(xml.indexOf("?>") + 2);
  const stack: string[] = [];
  const token = /<(\/?)([A-Za-z_][\w.-]*)((?:\s+[A-Za-z_][\w.-]*="[^"<&]*(?:&(?:amp|lt|gt|quot|apos);[^"<&]*)*")*)\s*(\/?)>|([^<]+)/gy;
  let match: RegExpExecArray | null;
  let consumed = 0;
  while ((match = token.exec(body)) !== null) {
    consumed = token.lastIndex;
    const [, closing, name, , selfClosing, text] = match;
    if (text !== undefined) {
      expect(text).not.toMatch(/&(?!(?:amp|lt|gt|quot|apos);)/);
      // eslint-disable-next-line no-control-regex -- characters XML 1.0 forbids
      expect(text).not.toMatch(/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/);
    } else if (closing) expect(stack.pop()).toBe(name);
    else if (!selfClosing) stack.push(name as string);
  }
  expect(consumed).toBe(body.length);
  expect(stack).toEqual([]);
}

describe("reporters", () => {
  test("the json reporter writes a report that validates against the report schema", () => {
    const text = jsonReporter().render(report, context);
    expect(validateReport(JSON.parse(text))).toEqual({ ok: true });
  });

  test("the junit reporter writes well-formed XML with one testcase per case", () => {
    const xml = renderJunit(report);
    assertWellFormedXml(xml);
    expect(xml.match(/<testcase /g)).toHaveLength(cases.length);
    expect(xml).toContain('<failure message="expected ERROR AUTHENTICATION_FAILED &amp; close; got &lt;SESSION_ESTABLISHED&gt;" type="MUST">');
    expect(xml).toContain("<skipped message=\"the target does not advertise resume\"/>");
    expect(xml).toContain('tests="4" failures="1" errors="0" skipped="1"');
  });

  test("xml escaping drops characters XML 1.0 cannot carry", () => {
    expect(xmlEscape("a\u0000b\u0001<'\">&\tc")).toBe("a\uFFFDb\uFFFD&lt;&apos;&quot;&gt;&amp;\tc");
  });

  test("the pretty and markdown reporters show expected, actual, counterexample, trace and replay of a failure", () => {
    for (const text of [renderPretty(report, context), renderMarkdown(report, context)]) {
      expect(text).toContain("expected: ERROR AUTHENTICATION_FAILED and close: ephemeral_key u = 0");
      expect(text).toContain('SESSION_ESTABLISHED: "accepted" & done');
      expect(text).toContain('counterexample: {"bit":3}');
      expect(text).toContain("<close 1006>");
      expect(text).toContain("--replay conformance-replay-keys.zero-shared-secret.json");
      expect(text).toContain("a note");
    }
  });

  test("the pretty reporter marks failures listed in the baseline and stale entries", () => {
    const text = renderPretty({ ...report, baseline: { file: "base.txt", expected: [{ id: "keys.zero-shared-secret" }], stale: [{ id: "handshake.complete", why: "passes" }] } }, context);
    expect(text).toContain("(expected failure)");
    expect(text).toContain("stale baseline entries (remove them): handshake.complete (passes)");
  });

  test("a failure prints the text of each requirement it breaks, and the coverage line counts this run", () => {
    const text = renderPretty(report, context);
    expect(text).toContain("PP-HS-004 (MUST): ");
    expect(text).toMatch(/PP-KS-017 \(MUST[^)]*\): \w+/);
    expect(text).toContain("MUST requirements checked by this run: 3 of the 4 its cases cite (the spec has 160; 14 excluded from testing with a reason)");
  });

  test("the trace shows the plaintext under a record in both directions, not cut off with the ciphertext", () => {
    const long = `{"type":"TASK_REQUEST","ciphertext":"${"A".repeat(600)}"}\n  ↳ TASK_REQUEST seq 1 plaintext: {"method":"echo"}`;
    const withTrace: Report = { ...report, cases: report.cases.map((c) => (c.verdict === "fail" ? { ...c, trace: [{ dir: "out", at_ms: 1, frame: long }, { dir: "in", at_ms: 2, frame: `{"type":"TASK_RESPONSE"}\n  ↳ TASK_RESPONSE seq 1 decrypted: {"result":1}` }] } : c)) };
    const text = renderPretty(withTrace, context);
    expect(text).toContain('↳ TASK_REQUEST seq 1 plaintext: {"method":"echo"}');
    expect(text).toContain('↳ TASK_RESPONSE seq 1 decrypted: {"result":1}');
    expect(text).not.toContain("A".repeat(300));
  });

  test("junit: with a baseline an expected failure is a skipped testcase with its reason, a stale entry a failure, and a green run has 0 failures", () => {
    const green: Report = { ...report, baseline: { file: "base.txt", expected: [{ id: "keys.zero-shared-secret", reason: "issue 7" }], stale: [] } };
    const xml = renderJunit(green);
    assertWellFormedXml(xml);
    expect(xml).toContain('<skipped message="expected failure (baseline): issue 7"/>');
    expect(xml).toContain('<testsuites name="peer-conformance ws://127.0.0.1:9/ws/v1/peers" tests="4" failures="0" errors="0" skipped="2"');
    expect(xml).not.toContain("<failure");

    const stale: Report = { ...green, baseline: { ...green.baseline!, stale: [{ id: "handshake.complete", why: "passes" }] } };
    const staleXml = renderJunit(stale);
    assertWellFormedXml(staleXml);
    expect(staleXml).toContain('<testsuite name="baseline base.txt" tests="1" failures="1" errors="0" skipped="0"');
    expect(staleXml).toContain('<failure message="stale baseline entry handshake.complete: the case passes now: remove it from the baseline" type="stale-baseline"/>');
    expect(staleXml).toMatch(/<testsuites [^>]*tests="5" failures="1"/);
  });

  test("junit: a harness error is an <error>, apart from the target's failures; an aborted run adds one", () => {
    const errored: Report = { ...report, cases: [...report.cases, { id: "x.crash", title: "crash", suite: "6. Handshake", level: "MUST", requirements: ["PP-HS-001"], verdict: "error", duration_ms: 1, message: "harness error: TypeError: x" }], aborted: "the target stopped answering during case x.crash" };
    errored.summary = summarize(errored.cases);
    const xml = renderJunit(errored);
    assertWellFormedXml(xml);
    expect(xml).toContain('<error message="harness error: TypeError: x" type="harness">');
    expect(xml).toContain('<error message="the target stopped answering during case x.crash" type="aborted"/>');
    expect(xml).toMatch(/<testsuites [^>]*tests="6" failures="1" errors="2" skipped="1"/);
    expect(jsonReporter().render(errored, context)).toContain('"errors": 1');
    expect(validateReport(JSON.parse(jsonReporter().render(errored, context)))).toEqual({ ok: true });
  });
});
