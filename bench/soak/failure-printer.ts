/**
 * Prints each failure of the legitimate session as it happens, but a burst of the same failure (a
 * session re-established into the same refusal every 20 ms) as its first line and then a count,
 * so that the other lines of the run stay readable. Failures are "the same" when they differ only
 * in their numbers.
 */
const BURST_GAP_MS = 1000;

/** A failure with its numbers taken out, to tell which failures are the same. */
export const failureShape = (reason: string): string => reason.replace(/\d+/g, "#");

export class FailurePrinter {
  private lastShape: string | undefined;
  private lastAt = Number.NEGATIVE_INFINITY;
  private repeats = 0;

  constructor(private readonly print: (line: string) => void) {}

  failure(reason: string): void {
    const now = performance.now();
    if (failureShape(reason) === this.lastShape && now - this.lastAt < BURST_GAP_MS) {
      this.repeats++;
      this.lastAt = now;
      return;
    }
    this.flush();
    this.print(`echo FAILURE: ${reason}`);
    this.lastShape = failureShape(reason);
    this.lastAt = now;
  }

  /** Prints the count of repeats not printed yet. */
  flush(): void {
    if (this.repeats > 0) this.print(`echo FAILURE: the same failure ${this.repeats} more time(s) in a row`);
    this.repeats = 0;
  }
}
