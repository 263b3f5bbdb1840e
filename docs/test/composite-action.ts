/**
 * Runs the steps of a composite action (`action.yml`) locally, the way the GitHub runner does, so
 * a test exercises the real scripts: each `run:` step in order under `bash --noprofile --norc -eo
 * pipefail`, its `env:` with the `${{ }}` expressions substituted, a fresh `GITHUB_OUTPUT` file per
 * step read back into `steps.<id>.outputs`, one `GITHUB_STEP_SUMMARY`, `GITHUB_ACTION_PATH` the
 * action's directory, and each step's `if:` (success() implied unless a status function is named).
 * `uses:` steps (upload-artifact) are recorded as skipped: they need the GitHub service.
 *
 * Only the expression forms the action uses are understood (`always()`, `success()`, `failure()`,
 * `CONTEXT == 'literal'`, `CONTEXT != 'literal'`, joined by `&&`); anything else throws, so a new
 * form in action.yml shows up here instead of being silently mis-evaluated.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";

export interface ActionInput {
  description?: string;
  required?: boolean;
  default?: string;
}

export interface ActionStep {
  name?: string;
  id?: string;
  if?: string;
  shell?: string;
  run?: string;
  uses?: string;
  env?: Record<string, string>;
  with?: Record<string, string>;
  "working-directory"?: string;
}

export interface ActionDefinition {
  inputs: Record<string, ActionInput>;
  outputs: Record<string, { description?: string; value: string }>;
  runs: { using: string; steps: ActionStep[] };
}

export function loadAction(path: string): ActionDefinition {
  return parse(readFileSync(path, "utf8")) as ActionDefinition;
}

export interface StepResult {
  name: string;
  id?: string;
  outcome: "success" | "failure" | "skipped";
  /** stdout and stderr of a `run:` step, as the job log shows them. */
  log: string;
}

export interface ActionRun {
  steps: StepResult[];
  /** The action's outputs, evaluated after the last step. */
  outputs: Record<string, string>;
  /** What the steps wrote to GITHUB_STEP_SUMMARY. */
  summary: string;
  /** What each step with an id wrote to GITHUB_OUTPUT. */
  stepOutputs: Record<string, Record<string, string>>;
  step(idOrName: string): StepResult;
}

export interface RunOptions {
  /** The directory holding action.yml (GITHUB_ACTION_PATH). */
  actionPath: string;
  /** The `with:` of the calling step. */
  with: Record<string, string>;
  /** The working directory of the job (GITHUB_WORKSPACE); a fresh temporary one by default. */
  workspace?: string;
  /** Stop after the step with this id (for tests of the first steps alone). */
  stopAfter?: string;
  /** Extra environment of the calling step. */
  env?: Record<string, string>;
}

function parseOutputFile(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const [, name = "", delimiter = ""] = heredoc;
      const value: string[] = [];
      for (i++; i < lines.length && lines[i] !== delimiter; i++) value.push(lines[i] as string);
      outputs[name] = value.join("\n");
      continue;
    }
    const eq = line.indexOf("=");
    if (eq > 0) outputs[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return outputs;
}

export function runCompositeAction(options: RunOptions): ActionRun {
  const actionPath = options.actionPath.replace(/(.)\/+$/, "$1");
  const action = loadAction(join(actionPath, "action.yml"));
  if (action.runs.using !== "composite") throw new Error(`not a composite action: ${action.runs.using}`);
  for (const name of Object.keys(options.with)) if (!(name in action.inputs)) throw new Error(`unexpected input '${name}'`);

  const inputs: Record<string, string> = {};
  for (const [name, input] of Object.entries(action.inputs)) {
    const given = options.with[name];
    if (input.required === true && (given === undefined || given === "")) throw new Error(`input required and not supplied: ${name}`);
    inputs[name] = given ?? input.default ?? "";
  }
  const temp = mkdtempSync(join(tmpdir(), "composite-"));
  const workspace = options.workspace ?? join(temp, "workspace");
  mkdirSync(workspace, { recursive: true });
  const runnerTemp = join(temp, "runner-temp");
  mkdirSync(runnerTemp);
  const summaryFile = join(temp, "step-summary.md");
  writeFileSync(summaryFile, "");

  const stepOutputs: Record<string, Record<string, string>> = {};
  let failed = false;

  const lookup = (path: string): string => {
    const parts = path.trim().split(".");
    if (parts[0] === "inputs" && parts.length === 2) return inputs[parts[1] as string] ?? "";
    if (parts[0] === "steps" && parts[2] === "outputs" && parts.length === 4) return stepOutputs[parts[1] as string]?.[parts[3] as string] ?? "";
    if (path.trim() === "github.action_path") return actionPath;
    if (path.trim() === "github.workspace") return workspace;
    throw new Error(`expression not understood by the test runner: ${path}`);
  };
  const substitute = (text: string): string => text.replace(/\$\{\{([^}]*)\}\}/g, (_, expression: string) => lookup(expression));
  const condition = (expression: string | undefined): boolean => {
    const source = (expression ?? "success()").replace(/^\s*\$\{\{(.*)\}\}\s*$/s, "$1");
    const terms = source.split("&&").map((t) => t.trim());
    const statusNamed = terms.some((t) => /^(always|success|failure|cancelled)\(\)$/.test(t));
    const values = terms.map((term) => {
      if (term === "always()") return true;
      if (term === "success()") return !failed;
      if (term === "failure()") return failed;
      if (term === "cancelled()") return false;
      const comparison = /^([\w.-]+)\s*(==|!=)\s*'([^']*)'$/.exec(term);
      if (!comparison) throw new Error(`condition not understood by the test runner: ${term}`);
      const [, left = "", op, right] = comparison;
      return op === "==" ? lookup(left) === right : lookup(left) !== right;
    });
    return (statusNamed || !failed) && values.every(Boolean);
  };

  const steps: StepResult[] = [];
  for (const [index, step] of action.runs.steps.entries()) {
    const name = step.name ?? step.id ?? step.uses ?? `step ${index + 1}`;
    const result: StepResult = { name, ...(step.id === undefined ? {} : { id: step.id }), outcome: "skipped", log: "" };
    steps.push(result);
    if (step.uses !== undefined || !condition(step.if)) continue;
    if (step.run === undefined) throw new Error(`step ${name} has neither run nor uses`);
    if (step.shell !== "bash") throw new Error(`step ${name}: only shell: bash is supported, got ${String(step.shell)}`);

    const outputFile = join(temp, `output-${index}`);
    writeFileSync(outputFile, "");
    const script = join(temp, `step-${index}.sh`);
    writeFileSync(script, step.run);
    const env: Record<string, string> = {
      ...(process.env as Record<string, string>),
      ...options.env,
      GITHUB_ACTION_PATH: actionPath,
      GITHUB_WORKSPACE: workspace,
      GITHUB_OUTPUT: outputFile,
      GITHUB_STEP_SUMMARY: summaryFile,
      RUNNER_TEMP: runnerTemp,
      CI: "true",
    };
    for (const [key, value] of Object.entries(step.env ?? {})) env[key] = substitute(String(value));
    const cwd = step["working-directory"] === undefined ? workspace : substitute(step["working-directory"]);
    const child = spawnSync("bash", ["--noprofile", "--norc", "-eo", "pipefail", script], { cwd, env, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
    result.log = `${child.stdout ?? ""}${child.stderr ?? ""}`;
    result.outcome = child.status === 0 ? "success" : "failure";
    if (result.outcome === "failure") failed = true;
    if (step.id !== undefined) stepOutputs[step.id] = parseOutputFile(readFileSync(outputFile, "utf8"));
    if (step.id !== undefined && step.id === options.stopAfter) break;
  }

  const outputs: Record<string, string> = {};
  for (const [name, output] of Object.entries(action.outputs ?? {})) outputs[name] = substitute(output.value);
  return {
    steps,
    outputs,
    summary: readFileSync(summaryFile, "utf8"),
    stepOutputs,
    step(idOrName) {
      const found = steps.find((s) => s.id === idOrName || s.name === idOrName);
      if (!found) throw new Error(`no step ${idOrName}`);
      return found;
    },
  };
}
