/**
 * A reporter renders the run: it may follow progress through `onEvent` (written to stderr) and
 * returns its final rendering from `render` (written to stdout or to its file by the CLI).
 */
import type { Report } from "../report.ts";
import type { RunEvent } from "../runner.ts";
import type { Outcome } from "../verdict.ts";

export interface RenderContext {
  outcome: Outcome;
  /** Notes of the run (e.g. discovery failed) and of each case, by case id. */
  runNotes: string[];
  /** Replay files written for failed cases, by case id. */
  replayFiles: Record<string, string>;
  color: boolean;
}

export interface Reporter {
  readonly name: string;
  onEvent?(event: RunEvent): void;
  render(report: Report, context: RenderContext): string;
}
