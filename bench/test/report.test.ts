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
  test("each target of issue 15 is judged from its measurement and baseline", () => {
    const targets = Object.fromEntries(evaluateTargets(fixtureReport()).map((t) => [t.id, t]));
    expect(targets["echo-1conn-1-in-flight-vs-raw"]).toMatchObject({ measured: 0.075, holds: false });
    expect(targets["echo-1conn-1-in-flight-vs-socketio"]).toMatchObject({ measured: 0.938, holds: true });
    expect(targets["echo-1conn-pipelined-vs-floor"]).toMatchObject({ measured: 0.3, holds: false });
    expect(targets["echo-nconn-pipelined-vs-floor"]).toMatchObject({ measured: 0.8, holds: true });
    expect(targets["handshakes-per-second"]).toMatchObject({ measured: 900, holds: false });
    expect(targets["p99-at-half-max-vs-raw"]).toMatchObject({ measured: 3.75, holds: false });
    expect(targets["sessions-10k-rss"]).toMatchObject({ measured: 15_000, holds: false });
  });

  test("a client-bound figure does not count: its target is not judged, and the best handshake level skips it", () => {
    const report = fixtureReport();
    const echo = report.scenarios[1]?.measurements ?? [];
    const one = echo.find((m) => m.id === "task-1c-1inflight-1024b");
    if (one) one.peer.clientSaturated = true;
    const fastest = report.scenarios[0]?.measurements.find((m) => m.id === "handshake-c16");
    if (fastest) fastest.peer.clientSaturated = true;
    const targets = Object.fromEntries(evaluateTargets(report).map((t) => [t.id, t]));
    expect(targets["echo-1conn-1-in-flight-vs-raw"]?.holds).toBeNull();
    expect(targets["echo-1conn-1-in-flight-vs-raw"]?.basis).toMatch(/client-bound/);
    expect(targets["handshakes-per-second"]).toMatchObject({ measured: 400 });
    expect(targets["handshakes-per-second"]?.basis).toMatch(/1 client-bound level left out/);
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
  });

  test("echo figures are shown against all three baselines, open-loop histograms as percentiles, and the machine's load", () => {
    for (const text of [renderPretty(report), renderMarkdown(report), renderHtml(report)]) {
      expect(text).toMatch(/x floor/);
      expect(text).toMatch(/x Socket\.IO/);
      expect(text).toContain("0.300x"); // peer / floor, pipelined
      expect(text).toContain("0.938x"); // peer / Socket.IO, 1 in flight
      expect(text).toMatch(/Latency percentiles \(ms\): TASK_REQUEST echo, 16 conns, open loop/);
      expect(text).toContain("protocol floor"); // a row of the percentile table
      expect(text).toContain("load average 0.5/0.4/0.3 before, 1.5/0.7/0.4 after");
      expect(text).toMatch(/Load generator: 15% of a core \(7.5% of the machine\)/);
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
