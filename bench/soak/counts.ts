/**
 * Counts by name: what a load did ("reconnects"), which ERROR codes and close codes its peers saw.
 * A plain record crosses the worker boundary (structured clone) and merges by adding.
 */
export type CountRecord = Record<string, number>;

export class Counts {
  private readonly byName = new Map<string, number>();

  add(name: string, n = 1): void {
    this.byName.set(name, (this.byName.get(name) ?? 0) + n);
  }

  get(name: string): number {
    return this.byName.get(name) ?? 0;
  }

  /** Keeps the largest value seen under `name` (for figures like the slowest close). */
  max(name: string, value: number): void {
    if (value > (this.byName.get(name) ?? Number.NEGATIVE_INFINITY)) this.byName.set(name, value);
  }

  /** Keeps the smallest value seen under `name`. */
  min(name: string, value: number): void {
    if (value < (this.byName.get(name) ?? Number.POSITIVE_INFINITY)) this.byName.set(name, value);
  }

  toRecord(): CountRecord {
    return Object.fromEntries(this.byName);
  }

  /** Adds another record into this one. */
  merge(record: CountRecord): void {
    for (const [name, n] of Object.entries(record)) this.add(name, n);
  }
}

/** What every abusive peer reports into: the ERROR codes and WebSocket close codes it saw, and HTTP statuses. */
export interface SeenByPeers {
  errors: Counts;
  closes: Counts;
  httpStatuses: Counts;
}

export function newSeenByPeers(): SeenByPeers {
  return { errors: new Counts(), closes: new Counts(), httpStatuses: new Counts() };
}
