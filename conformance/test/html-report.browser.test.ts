/**
 * The html report of a real run (the embedded reference, three suites and one synthetic case that
 * fails after a real session) as headless Chromium renders it: the DOM after its script ran shows
 * the counts, the failing case's cell and its wire log, and a screenshot is a PNG. Skipped, with the
 * reason, where Chromium is not installed (`.ci/run` installs it).
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { suite, type Case } from "../src/case.ts";
import { ALL_CASES } from "../src/cases/index.ts";
import { renderHtml } from "../src/reporters/html.ts";
import type { Report } from "../src/report.ts";
import { runConformance } from "../src/runner.ts";

const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const HOSTILE = "</script><script>alert(1)</script>";

/** A case that always fails, after a real session and one echo, so that its wire log has both directions and decrypted lines. */
export const SYNTHETIC_FAILING: Case[] = suite("synthetic", "99. Synthetic", [
  {
    id: "echo-shouts",
    title: "A synthetic case that fails on purpose: it wants the echo in capitals",
    requirements: ["PP-HS-001"],
    level: "MUST",
    run: async (ctx) => {
      const probe = await ctx.session();
      const { response } = await probe.echo({ text: HOSTILE });
      probe.close();
      ctx.fail(`the echo of ${HOSTILE} in capitals`, JSON.stringify(response.inner ?? response.envelope ?? "?"));
    },
  },
]);

/** Runs Chromium headless with a throwaway profile; resolves with its stdout. */
export function chromium(args: string[], timeoutMs = 15_000): Promise<string> {
  const profile = mkdtempSync(join(tmpdir(), "chromium-profile-"));
  const flags = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", `--user-data-dir=${profile}`];
  return new Promise((resolve, reject) => {
    const child = spawn(CHROMIUM, [...flags, ...args], { stdio: ["ignore", "pipe", "pipe"], detached: true });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // already gone
      }
      reject(new Error(`chromium did not finish within ${timeoutMs} ms; stderr: ${stderr.slice(-2000)}`));
    }, timeoutMs);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      rmSync(profile, { recursive: true, force: true });
      if (code === 0) resolve(stdout);
      else reject(new Error(`chromium exited with ${code}; stderr: ${stderr.slice(-2000)}`));
    });
  });
}

const available = existsSync(CHROMIUM);
if (!available) console.warn(`html-report.browser.test: skipped: no Chromium at ${CHROMIUM} (install it with 'apt-get install -y chromium', as .ci/run does, or set CHROMIUM=/path/to/chromium)`);

describe.skipIf(!available)(`the html report in headless Chromium (${CHROMIUM})`, () => {
  let dir: string;
  let file: string;
  let report: Report;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "html-report-"));
    report = await runConformance({ cases: [...ALL_CASES, ...SYNTHETIC_FAILING], only: ["discovery", "versioning", "envelope", "synthetic"], seed: 7, runs: 5 });
    file = join(dir, "report.html");
    writeFileSync(file, renderHtml(report, { runNotes: ["a run of the browser test"], replayFiles: {}, color: false }));
  }, 20_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("the rendered DOM shows the counts, the failing case's cell and its wire log of both directions", async () => {
    expect(report.summary.failed).toBe(1);
    expect(report.summary.passed).toBeGreaterThan(5);
    const dom = await chromium(["--dump-dom", pathToFileURL(file).href]);
    expect(dom).toContain(`data-verdict="pass">${report.summary.passed} passed`);
    expect(dom).toContain('data-verdict="fail">1 failed');
    expect(dom.match(/<a class="cell /g)).toHaveLength(report.cases.length);
    expect(dom).toMatch(/<a class="cell v-fail" data-case="synthetic.echo-shouts" data-verdict="fail" href="#case-synthetic.echo-shouts"/);
    const start = dom.indexOf('id="case-synthetic.echo-shouts"');
    expect(start).toBeGreaterThan(0);
    const detail = dom.slice(start, dom.indexOf("</details>", dom.indexOf('class="wire"', start)));
    expect(detail).toMatch(/<details class="wire" open="">/);
    expect(detail).toMatch(/<li class="out">.*HANDSHAKE_INIT/);
    expect(detail).toMatch(/<li class="in">.*HANDSHAKE_INIT_ACK/);
    expect(detail).toContain("↳ TASK_REQUEST");
    // The target's echo of a </script> stayed text: the page's own script is the only one, and it ran (it unhides the buttons).
    expect(dom.match(/<script/g)).toHaveLength(1);
    expect(dom).toContain("&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(dom).toMatch(/<button type="button" data-open="1">expand all<\/button>/);
  }, 20_000);

  test("a screenshot is a PNG of non-trivial size", async () => {
    const png = join(dir, "report.png");
    await chromium([`--screenshot=${png}`, "--window-size=1280,2000", "--hide-scrollbars", pathToFileURL(file).href]);
    const bytes = readFileSync(png);
    expect(bytes.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(bytes.readUInt32BE(16)).toBe(1280);
    expect(bytes.readUInt32BE(20)).toBe(2000);
    expect(statSync(png).size).toBeGreaterThan(20_000);
  }, 20_000);
});
