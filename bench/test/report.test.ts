/** The JSON report validates against its schema (Ajv, JSON Schema 2020-12); targets and reporters read it. */
import { Ajv2020 } from "ajv/dist/2020.js";
import { describe, expect, test } from "vitest";
import { BenchReportSchema } from "../src/report-schema.ts";
import { renderHtml } from "../src/reporters/html.ts";
import { renderJson } from "../src/reporters/json.ts";
import { renderMarkdown } from "../src/reporters/markdown.ts";
import { renderPretty } from "../src/reporters/pretty.ts";
import { evaluateTargets } from "../src/targets.ts";
import { fixtureReport } from "./fixtures.ts";

const validate = new Ajv2020({ strict: true, allErrors: true }).compile(BenchReportSchema);

describe("report schema", () => {
  test("a complete report validates", () => {
    const report = fixtureReport();
    report.targets = evaluateTargets(report);
    expect(validate(report), JSON.stringify(validate.errors)).toBe(true);
  });

  test("the JSON reporter's output parses back to a valid report", () => {
    const report = fixtureReport();
    expect(validate(JSON.parse(renderJson(report)))).toBe(true);
  });

  test("a missing field, an unknown field and a wrong type are each refused", () => {
    const missing = fixtureReport() as unknown as Record<string, unknown>;
    delete missing.machine;
    expect(validate(missing)).toBe(false);
    const unknown = { ...fixtureReport(), extra: 1 };
    expect(validate(unknown)).toBe(false);
    const wrong = fixtureReport();
    (wrong.scenarios[0]?.measurements[0]?.peer as unknown as Record<string, unknown>).throughputPerSec = "fast";
    expect(validate(wrong)).toBe(false);
  });

  test("an unknown scenario name is refused", () => {
    const report = fixtureReport();
    (report.scenarios[0] as unknown as Record<string, unknown>).name = "warp";
    expect(validate(report)).toBe(false);
  });
});

describe("targets", () => {
  test("each target of the issue is judged from its measurement", () => {
    const targets = Object.fromEntries(evaluateTargets(fixtureReport()).map((t) => [t.id, t]));
    expect(targets["echo-1conn-pipelined"]).toMatchObject({ measured: 0.06, holds: false });
    expect(targets["echo-1conn-1-in-flight"]).toMatchObject({ measured: 0.075, holds: false });
    expect(targets["handshakes-per-second"]).toMatchObject({ measured: 900, holds: false });
    expect(targets["p99-at-half-max"]).toMatchObject({ measured: 6, holds: false });
    expect(targets["sessions-10k-rss"]).toMatchObject({ measured: 15_000, holds: true });
  });

  test("a target the run did not measure is not judged", () => {
    const report = fixtureReport();
    report.scenarios = [];
    for (const target of evaluateTargets(report)) expect(target.holds).toBeNull();
  });

  test("fewer than 10,000 sessions leaves the memory target unjudged", () => {
    const report = fixtureReport();
    report.options.sessions = 1000;
    const hold = report.scenarios[2]?.measurements[0];
    if (hold) hold.peer.extra.sessionsEstablished = 1000;
    expect(evaluateTargets(report).find((t) => t.id === "sessions-10k-rss")?.holds).toBeNull();
  });
});

describe("reporters", () => {
  const report = fixtureReport();
  report.targets = evaluateTargets(report);

  test("pretty and markdown show every measurement with its ratio", () => {
    for (const text of [renderPretty(report), renderMarkdown(report)]) {
      expect(text).toContain("TASK_REQUEST echo, 1 conn, pipelined (64 in flight), 1 KiB");
      expect(text).toContain("0.060x");
      expect(text).toContain("FAILS");
      expect(text).toContain("a warning");
    }
    expect(renderMarkdown(report)).toMatch(/\| measurement \| peer msg\/s \| raw msg\/s \| ratio \|/);
  });

  test("the HTML report is self-contained, with inline SVG charts", () => {
    const html = renderHtml(report);
    expect(html.startsWith("<!doctype html>")).toBe(true);
    expect(html.match(/<svg /g)?.length ?? 0).toBeGreaterThanOrEqual(5);
    expect(html).not.toMatch(/<script|<link |src="http/);
    expect(html).toContain("Latency distribution");
  });
});
