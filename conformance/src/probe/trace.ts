/** The wire trace of a case: every frame in and out, time-stamped from the case start, truncated. */
export interface TraceEntry {
  dir: "out" | "in";
  at_ms: number;
  frame: string;
}

export const MAX_FRAME_CHARS = 2000;
export const MAX_ENTRIES = 400;

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
    const text = truncateFrame(label ? `[${label}] ${frame}` : frame);
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
