/**
 * A reporter renders a finished run (`render`), written by the CLI to stdout or to its file. The
 * baseline and an abort are part of the report itself (`report.baseline`, `report.aborted`), so
 * that every reporter, and the JSON, shows them the same way.
 */
import type { Report } from "../report.ts";

export interface RenderContext {
  /** Notes of the run (e.g. discovery failed). */
  runNotes: string[];
  /** Replay files written for failed cases, by case id (paths as the user can type them). */
  replayFiles: Record<string, string>;
  /** The replay command of the whole run (seed and target), for reports that show it. */
  rerun?: string;
  color: boolean;
}

export interface Reporter {
  readonly name: string;
  render(report: Report, context: RenderContext): string;
}
