/**
 * What a worker thread counts during a job, and how the main thread merges the tallies of every
 * worker into one sample. Histograms travel as compressed base64.
 */
import { LatencyHistogram } from "../histogram.ts";

export interface JobResult {
  operations: number;
  errors: number;
  connectionFailures: number;
  timeouts: number;
  latency: string;
  others: Record<string, string>;
  extra: Record<string, number>;
  errorSamples: string[];
}

export class Tally {
  operations = 0;
  errors = 0;
  connectionFailures = 0;
  timeouts = 0;
  readonly latency = new LatencyHistogram();
  readonly others = new Map<string, LatencyHistogram>();
  readonly extra: Record<string, number> = {};
  private readonly samples: string[] = [];

  other(name: string): LatencyHistogram {
    let histogram = this.others.get(name);
    if (!histogram) this.others.set(name, (histogram = new LatencyHistogram()));
    return histogram;
  }

  error(message: string): void {
    this.errors++;
    this.note(message);
  }

  connectionFailure(message: string): void {
    this.connectionFailures++;
    this.note(message);
  }

  note(message: string): void {
    if (this.samples.length < 5 && !this.samples.includes(message)) this.samples.push(message.slice(0, 200));
  }

  result(): JobResult {
    const others: Record<string, string> = {};
    for (const [name, histogram] of this.others) if (histogram.count > 0) others[name] = histogram.encode();
    return { operations: this.operations, errors: this.errors, connectionFailures: this.connectionFailures, timeouts: this.timeouts, latency: this.latency.encode(), others, extra: { ...this.extra }, errorSamples: [...this.samples] };
  }
}

/** Sums the tallies of several workers; `extra` values are summed too. */
export function mergeResults(results: JobResult[]): { operations: number; errors: number; connectionFailures: number; timeouts: number; latency: LatencyHistogram; others: Map<string, LatencyHistogram>; extra: Record<string, number>; errorSamples: string[] } {
  const latency = LatencyHistogram.merge(results.map((r) => r.latency));
  const others = new Map<string, LatencyHistogram>();
  const extra: Record<string, number> = {};
  const errorSamples: string[] = [];
  let operations = 0;
  let errors = 0;
  let connectionFailures = 0;
  let timeouts = 0;
  for (const r of results) {
    operations += r.operations;
    errors += r.errors;
    connectionFailures += r.connectionFailures;
    timeouts += r.timeouts;
    for (const [name, encoded] of Object.entries(r.others)) {
      const histogram = others.get(name) ?? new LatencyHistogram();
      histogram.add(LatencyHistogram.decode(encoded));
      others.set(name, histogram);
    }
    for (const [key, value] of Object.entries(r.extra)) extra[key] = (extra[key] ?? 0) + value;
    for (const sample of r.errorSamples) if (errorSamples.length < 10 && !errorSamples.includes(sample)) errorSamples.push(sample);
  }
  return { operations, errors, connectionFailures, timeouts, latency, others, extra, errorSamples };
}
