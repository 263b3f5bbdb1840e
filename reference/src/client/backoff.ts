/** Reconnection delays (PP-LIM-009): 1, 2, 4, 8 … up to 60 s, each with random jitter. */
export interface BackoffOptions {
  initialDelayMs: number;
  maxDelayMs: number;
  /** Fraction of the delay added or removed at random, 0 to 1. */
  jitter: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialDelayMs: 1000, maxDelayMs: 60_000, jitter: 0.2 };

export function backoffDelay(attempt: number, options: BackoffOptions = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const base = Math.min(options.maxDelayMs, options.initialDelayMs * 2 ** Math.min(attempt, 30));
  const spread = base * options.jitter * (2 * random() - 1);
  return Math.max(0, Math.round(base + spread));
}
