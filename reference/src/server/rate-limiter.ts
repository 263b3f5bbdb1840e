/**
 * An exact sliding 60-second window (PP-LIM-003): a ring of the last `limit` acceptance times; a new
 * message is allowed when fewer than `limit` were accepted in the last minute. 0 disables it.
 */
const WINDOW_MS = 60_000;

export class SlidingWindowLimiter {
  private times: Float64Array | undefined;
  private next = 0;
  private count = 0;

  constructor(private readonly limit: number) {}

  tryAcquire(now: number): boolean {
    if (this.limit === 0) return true;
    this.times ??= new Float64Array(this.limit);
    if (this.count === this.limit) {
      const oldest = this.times[this.next] as number;
      if (now - oldest < WINDOW_MS) return false;
    } else {
      this.count++;
    }
    this.times[this.next] = now;
    this.next = (this.next + 1) % this.limit;
    return true;
  }
}
