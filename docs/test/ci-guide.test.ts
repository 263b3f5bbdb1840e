/**
 * The CI guide is the action's README: the job it shows must be the README's job, must use only
 * inputs action.yml declares, and the action's scripts must do what the guide says when run for
 * real (against the reference server, with the composite's steps run the way the runner runs them).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { loadAction, runCompositeAction } from "./composite-action.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const action = loadAction(join(root, "action.yml"));
const readme = readFileSync(join(root, "README.md"), "utf8");
const guide = readFileSync(join(root, "docs/guides/conformance-in-ci.md"), "utf8");

/** Every ```yaml block of a Markdown text, parsed (blocks that do not parse are left out). */
function yamlBlocks(markdown: string): unknown[] {
  return [...markdown.matchAll(/^```yaml\n([\s\S]*?)^```$/gm)].flatMap((m) => {
    try {
      return [parse(m[1] as string) as unknown];
    } catch {
      return [];
    }
  });
}

interface Workflow {
  jobs: Record<string, { steps: Array<Record<string, unknown>> }>;
}

/** The first block that is a whole workflow (has `jobs`). */
function workflow(markdown: string): Workflow {
  const found = yamlBlocks(markdown).find((b): b is Workflow => typeof b === "object" && b !== null && "jobs" in b);
  if (!found) throw new Error("no workflow block");
  return found;
}

/** Every step in any YAML block that uses this action (`…/peer-protocol@…`). */
function actionSteps(markdown: string): Array<{ uses: string; with?: Record<string, unknown> }> {
  const found: Array<{ uses: string; with?: Record<string, unknown> }> = [];
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (typeof value === "object" && value !== null) {
      const record = value as Record<string, unknown>;
      if (typeof record.uses === "string" && /\/peer-protocol@/.test(record.uses)) found.push(record as { uses: string; with?: Record<string, unknown> });
      Object.values(record).forEach(walk);
    }
  };
  yamlBlocks(markdown).forEach(walk);
  return found;
}

/** The first column of the table under a `### heading` of the guide, without backquotes. */
function tableKeys(markdown: string, heading: string): string[] {
  const section = markdown.split(new RegExp(`^### ${heading}$`, "m"))[1]?.split(/^#{2,3} /m)[0] ?? "";
  return [...section.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1] as string);
}

describe("the CI guide and the README show the same job", () => {
  it("has the same steps in the README and in the guide", () => {
    const fromReadme = workflow(readme);
    const fromGuide = workflow(guide);
    expect(fromReadme.jobs).toEqual(fromGuide.jobs);
    const steps = Object.values(fromGuide.jobs)[0]?.steps ?? [];
    expect(steps.map((s) => s.uses)).toEqual(["actions/checkout@v4", "actions/setup-node@v4", expect.stringMatching(/\/peer-protocol@v1$/)]);
  });

  it("gives the action only inputs it declares, and every required one", () => {
    const uses = [...actionSteps(readme), ...actionSteps(guide)];
    expect(uses.length).toBeGreaterThanOrEqual(3);
    const required = Object.entries(action.inputs).filter(([, input]) => input.required === true).map(([name]) => name);
    expect(required).toEqual(["target"]);
    for (const step of uses) {
      for (const key of Object.keys(step.with ?? {})) expect(Object.keys(action.inputs), `with: ${key}`).toContain(key);
      for (const name of required) expect(Object.keys(step.with ?? {}), `required input ${name}`).toContain(name);
    }
  });

  it("documents every input and every output of action.yml in the guide's tables", () => {
    expect(tableKeys(guide, "Inputs").sort()).toEqual(Object.keys(action.inputs).sort());
    expect(tableKeys(guide, "Outputs").sort()).toEqual(Object.keys(action.outputs).sort());
  });
});

describe("action.yml", () => {
  it("passes inputs to its scripts through env, never by ${{ }} inside a run script", () => {
    const scripts = action.runs.steps.filter((s) => s.run !== undefined);
    expect(scripts.length).toBeGreaterThan(3);
    for (const step of scripts) expect(step.run, step.name).not.toMatch(/\$\{\{/);
  });

  it("works out the readiness URL from the target and refuses an unknown reporter", () => {
    const resolve = (target: string, extra: Record<string, string> = {}) => runCompositeAction({ actionPath: root, with: { target, ...extra }, stopAfter: "resolve" });
    const readyUrl = (target: string): string => {
      const run = resolve(target);
      expect(run.step("resolve").outcome, run.step("resolve").log).toBe("success");
      return run.stepOutputs.resolve?.["ready-url"] ?? "";
    };
    expect(readyUrl("ws://127.0.0.1:8080/ws/v1/peers")).toBe("http://127.0.0.1:8080/peers/capabilities");
    expect(readyUrl("wss://peer.example:8443/ws/v1/peers")).toBe("https://peer.example:8443/peers/capabilities");
    expect(readyUrl("http://127.0.0.1:8080")).toBe("http://127.0.0.1:8080/peers/capabilities");
    expect(readyUrl("https://peer.example/base/")).toBe("https://peer.example/base/peers/capabilities");
    expect(resolve("ws://h/ws/v1/peers", { "ready-url": "http://h:9000/healthz" }).stepOutputs.resolve?.["ready-url"]).toBe("http://h:9000/healthz");

    const flags = resolve("ws://h/ws/v1/peers").stepOutputs.resolve;
    expect(flags?.["reporter-flags"]).toBe("--reporter junit=junit.xml --reporter html=report.html --reporter markdown=summary.md");
    expect(flags?.junit).toMatch(/\/conformance-results\/junit\.xml$/);

    const wrong = resolve("ws://h/ws/v1/peers", { reporters: "junit,xml" });
    expect(wrong.step("resolve").outcome).toBe("failure");
    expect(wrong.step("resolve").log).toContain("::error title=peer-conformance action::reporters: unknown reporter 'xml'");
    expect(resolve("h:8080").step("resolve").log).toContain("is not a ws(s):// or http(s):// URL");
  });
});

/** A port nothing listens on right now. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address !== null ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("the action's steps, run for real", () => {
  const workspaces: string[] = [];
  const workspace = (): string => {
    const dir = mkdtempSync(join(tmpdir(), "peer-action-"));
    workspaces.push(dir);
    return dir;
  };
  afterAll(() => {
    for (const dir of workspaces) rmSync(dir, { recursive: true, force: true });
  });

  it("starts the reference server, waits for it, runs the handshake suite, writes the reports and the summary, stops the server and exits 0", async () => {
    const port = await freePort();
    const ws = workspace();
    const run = runCompositeAction({
      actionPath: root,
      workspace: ws,
      with: {
        target: `ws://127.0.0.1:${port}/ws/v1/peers`,
        "server-command": `node "${join(root, "bin/peer-server.js")}" --port ${port}`,
        args: "--only handshake",
        install: "false",
      },
    });
    const log = run.steps.map((s) => `--- ${s.name}: ${s.outcome}\n${s.log}`).join("\n");
    expect(run.steps.map((s) => [s.id ?? s.name, s.outcome]), log).toEqual([
      ["resolve", "success"],
      ["Install peer-conformance", "skipped"],
      ["server", "success"],
      ["Wait until the server is ready", "success"],
      ["run", "success"],
      ["Add the summary to the job summary", "success"],
      ["Upload the results", "skipped"],
      ["Stop the server", "success"],
      ["Fail when peer-conformance failed", "success"],
    ]);
    expect(run.outputs["exit-code"], log).toBe("0");

    const out = join(ws, "conformance-results");
    expect(run.outputs["out-dir"]).toBe(out);
    expect(run.outputs.junit).toBe(join(out, "junit.xml"));
    expect(run.outputs.html).toBe(join(out, "report.html"));
    expect(existsSync(run.outputs.junit ?? ""), log).toBe(true);
    expect(readFileSync(run.outputs.junit ?? "", "utf8")).toMatch(/<testcase [^>]*handshake\./);
    expect(existsSync(run.outputs.html ?? ""), log).toBe(true);
    expect(readFileSync(run.outputs.html ?? "", "utf8")).toMatch(/<html/i);
    const summary = readFileSync(join(out, "summary.md"), "utf8");
    expect(summary).toContain("handshake.");
    expect(run.summary).toBe(summary);
    expect(readFileSync(join(out, "server.log"), "utf8")).toContain(`peer-server listening on ws://127.0.0.1:${port}/ws/v1/peers`);
    expect(run.step("run").log).toMatch(/\d+ passed, 0 failed/);

    const pid = Number(run.stepOutputs.server?.pid);
    expect(pid).toBeGreaterThan(0);
    expect(alive(pid)).toBe(false);
  }, 120_000);

  it("fails the wait with the server's log when the server command exits, and skips the run", () => {
    const run = runCompositeAction({
      actionPath: root,
      workspace: workspace(),
      with: { target: "ws://127.0.0.1:9/ws/v1/peers", "server-command": "echo 'cannot bind port 9' >&2; exit 3", install: "false" },
    });
    const wait = run.step("Wait until the server is ready");
    expect(wait.outcome).toBe("failure");
    expect(wait.log).toContain("cannot bind port 9");
    expect(wait.log).toContain("::error title=peer-conformance action::the server command exited before http://127.0.0.1:9/peers/capabilities answered");
    expect(run.step("run").outcome).toBe("skipped");
    expect(run.step("Stop the server").outcome).toBe("success");
    expect(run.step("Fail when peer-conformance failed").outcome).toBe("skipped");
    expect(run.summary).toContain("did not run");
    expect(run.outputs["exit-code"]).toBe("");
  });

  it("fails the wait after ready-timeout when nothing answers, and stops the server", async () => {
    const port = await freePort();
    const run = runCompositeAction({
      actionPath: root,
      workspace: workspace(),
      with: { target: `http://127.0.0.1:${port}`, "server-command": "echo starting; sleep 60", "ready-timeout": "2", install: "false" },
    });
    const wait = run.step("Wait until the server is ready");
    expect(wait.outcome).toBe("failure");
    expect(wait.log).toContain("starting");
    expect(wait.log).toContain(`http://127.0.0.1:${port}/peers/capabilities did not answer HTTP 200 within 2s`);
    const pid = Number(run.stepOutputs.server?.pid);
    expect(pid).toBeGreaterThan(0);
    expect(alive(pid)).toBe(false);
  }, 30_000);
});
