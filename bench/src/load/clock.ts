/**
 * One clock for every thread: epoch milliseconds with sub-millisecond resolution. Each worker's
 * `performance.now()` has its own origin, so measurement windows are agreed in epoch time.
 */
export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

/** Blocks this thread for `ms` (fractions too) without using the CPU: a futex wait, not a busy loop. */
const parking = new Int32Array(new SharedArrayBuffer(4));
export function blockFor(ms: number): void {
  if (ms > 0) Atomics.wait(parking, 0, 0, ms);
}

export function sleepUntil(epoch: number): Promise<void> {
  return sleep(epoch - epochMs());
}

/** The measured window of a job: warm-up first, then `durationMs` that count. */
export interface Window {
  startAt: number;
  warmupMs: number;
  durationMs: number;
  /** How long to wait for answers still in flight when the window ends. */
  drainMs: number;
}

export function windowBounds(w: Window): { from: number; to: number } {
  const from = w.startAt + w.warmupMs;
  return { from, to: from + w.durationMs };
}
