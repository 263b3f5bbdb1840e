/**
 * Live progress on stderr, so that a CI log shows how far a run got even when the job is killed:
 * one line per finished case when stderr is not a terminal, one updating line when it is. Stdout
 * stays for the reports.
 */
import type { RunEvent } from "./runner.ts";
import { MARK } from "./reporters/pretty.ts";

export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

export function progressPrinter(stream: ProgressStream): (event: RunEvent) => void {
  const live = stream.isTTY === true;
  let failed = 0;
  let errors = 0;
  const width = (total: number) => String(total).length;
  return (event) => {
    switch (event.type) {
      case "preflight":
        stream.write(`peer-conformance: pre-flight: discovery and a first handshake with ${event.target}\n`);
        return;
      case "start":
        stream.write(`peer-conformance: ${event.total} case${event.total === 1 ? "" : "s"} against ${event.target}, seed ${event.seed}\n`);
        return;
      case "case-start":
        if (live) stream.write(`\r\x1b[2K[${String(event.index + 1).padStart(width(event.total))}/${event.total}] ${failed > 0 ? `${failed} failed · ` : ""}${errors > 0 ? `${errors} errors · ` : ""}${event.case.id}`);
        return;
      case "case-end": {
        const r = event.result;
        if (r.verdict === "fail") failed++;
        if (r.verdict === "error") errors++;
        if (live) return;
        const detail = r.verdict === "pass" ? "" : ` — ${(r.message ?? "").split("\n")[0]!.slice(0, 160)}`;
        stream.write(`[${String(event.index + 1).padStart(width(event.total))}/${event.total}] ${MARK[r.verdict]} ${r.verdict.padEnd(5)} ${r.id} (${Math.round(r.duration_ms)} ms)${detail}\n`);
        return;
      }
      case "end":
        if (live) stream.write("\r\x1b[2K");
        return;
    }
  };
}
