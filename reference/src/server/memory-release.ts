/**
 * Returning memory after a burst. V8 frees the garbage a burst of large frames leaves (their
 * strings and the ArrayBuffers behind them) only at a full collection, and it starts one only when
 * the heap grows or allocation is low for a while; a server that keeps serving light traffic after
 * the burst may go minutes without one, its RSS at the burst's height although it holds nothing.
 * When the data held for sessions (PP-LIM-012) has been high and falls back, this asks for one full
 * collection. It needs Node's `--expose-gc` (which `npm run server` passes); without it, it does
 * nothing.
 */
export class MemoryRelease {
  /** The most held since the last collection this asked for. */
  private peak = 0;
  private lastAt = Number.NEGATIVE_INFINITY;

  constructor(
    /** max_buffered_bytes: a burst is a peak of at least an eighth of it. */
    private readonly budget: number,
    private readonly collect: (() => void) | undefined = fullCollection(),
    /** At most one collection in this many ms: a full collection pauses the server. */
    private readonly minIntervalMs = 5000,
  ) {}

  /** Called from the server's sweep with the bytes held now. */
  observe(held: number, now: number): void {
    if (!this.collect || this.budget === 0) return;
    this.peak = Math.max(this.peak, held);
    if (this.peak < this.budget / 8 || held > this.peak / 16 || now - this.lastAt < this.minIntervalMs) return;
    this.peak = held;
    this.lastAt = now;
    this.collect();
  }
}

/** A full collection through `--expose-gc`'s gc(), or undefined without the flag. */
export function fullCollection(): (() => void) | undefined {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return undefined;
  return () => {
    // Twice: the first finds the garbage and runs the finalizers that free ArrayBuffer backing
    // stores; the second, on the heap that is left, gives the emptied pages back.
    gc();
    gc();
  };
}
