/**
 * The wire trace of a case: every frame in and out, time-stamped from the case start, truncated,
 * with tokens redacted (redact.ts): a trace goes into reports that are shared.
 */
import { redactSecrets } from "./redact.ts";

export interface TraceEntry {
  dir: "out" | "in";
  at_ms: number;
  frame: string;
}

export const MAX_FRAME_CHARS = 2000;
export const MAX_ENTRIES = 400;
/** A token is at most 8192 characters (schemas: AuthTokenSchema). */
const TOKEN_MARGIN_CHARS = 8192;

export function truncateFrame(frame: string, max = MAX_FRAME_CHARS): string {
  return frame.length <= max ? frame : `${frame.slice(0, max)}…(${frame.length - max} more chars)`;
}

export class Trace {
  readonly entries: TraceEntry[] = [];
  private dropped = 0;

  constructor(
    private readonly origin: number = Date.now(),
    private readonly now: () => number = Date.now,
  ) {}

  add(dir: "out" | "in", frame: string, label?: string): void {
    const full = label ? `[${label}] ${frame}` : frame;
    // Only what is kept is redacted (frames can be megabytes); the margin covers a token cut by the truncation.
    const kept = redactSecrets(full.length > MAX_FRAME_CHARS + TOKEN_MARGIN_CHARS ? full.slice(0, MAX_FRAME_CHARS + TOKEN_MARGIN_CHARS) : full);
    const text = kept.length <= MAX_FRAME_CHARS ? kept : `${kept.slice(0, MAX_FRAME_CHARS)}…(${full.length - MAX_FRAME_CHARS} more chars)`;
    this.entries.push({ dir, at_ms: Math.max(0, this.now() - this.origin), frame: text });
    // Keep the first entries (how the case began) and the most recent ones (how it ended).
    if (this.entries.length > MAX_ENTRIES) {
      this.entries.splice(MAX_ENTRIES / 2, 1);
      this.dropped++;
    }
  }

  get droppedCount(): number {
    return this.dropped;
  }
}
