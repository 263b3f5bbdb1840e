/**
 * A shrunk scenario as numbered sentences a person can follow, then what went wrong with the
 * requirements it breaks:
 *
 * ```
 * 1. A connects over websocket
 * 2. the proxy cuts A->server after 30,123 more bytes
 * 3. A sends m1 (50 KB, 4 chunks) to the server (echo)
 * 4. A resumes
 * -> m1 (A to the server (echo), 4 chunks) was acknowledged but never delivered (PP-CHK-013, PP-SES-010)
 * ```
 */
import type { ScenarioCommand } from "./commands/command.ts";

export interface Finding {
  text: string;
  requirements: string[];
}

/** Only the commands that ran (fast-check marks the others as skipped by `check`). */
export function narrate(commands: Iterable<ScenarioCommand>, findings: readonly Finding[], notes: readonly string[] = []): string {
  const ran = [...commands].filter((c) => (c as { hasRan?: boolean }).hasRan !== false);
  const lines = ran.map((c, i) => `${i + 1}. ${c.toString()}`);
  if (lines.length === 0) lines.push("(no command)");
  lines.push(`${ran.length + 1}. the scenario is brought to rest: the network calms, every session resumes, ACKs flow`);
  for (const note of notes) lines.push(`   (${note})`);
  for (const finding of findings) lines.push(`-> ${finding.text}${finding.requirements.length ? ` (${finding.requirements.join(", ")})` : ""}`);
  return lines.join("\n");
}

/** The steps whose effect depends on timing, for a flaky verdict: cuts, holds, splits, waits, and sends racing them. */
export function timingOf(commands: Iterable<ScenarioCommand>): string {
  const ran = [...commands].filter((c) => (c as { hasRan?: boolean }).hasRan !== false);
  const steps = ran.map((c, i) => ({ text: c.toString(), step: i + 1 })).filter(({ text }) => /the proxy|time passes|resumes|stops acknowledging/.test(text));
  if (steps.length === 0) return "when the target's ACKs arrive relative to the probes' next steps";
  return `when the target acts relative to ${steps.map(({ text, step }) => `step ${step} (${text})`).join(", ")}`;
}
