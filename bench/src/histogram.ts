/**
 * Latency histograms: a thin wrapper over hdr-histogram-js. Values are recorded in integer
 * microseconds (1 µs .. 10 min, 3 significant digits) and reported in milliseconds. Histograms
 * cross worker threads as compressed base64 and are merged exactly.
 */
import * as hdr from "hdr-histogram-js";

const LOWEST_US = 1;
const HIGHEST_US = 600_000_000;

/** The percentiles every latency summary carries. */
export interface LatencySummary {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

/** Percentiles of the distribution curve drawn in the HTML report. */
export const DISTRIBUTION_PERCENTILES = [0, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99, 100] as const;

export class LatencyHistogram {
  private readonly h: hdr.Histogram;

  constructor(from?: hdr.Histogram) {
    this.h = from ?? hdr.build({ bitBucketSize: 32, autoResize: false, lowestDiscernibleValue: LOWEST_US, highestTrackableValue: HIGHEST_US, numberOfSignificantValueDigits: 3 });
  }

  /** Records one latency given in milliseconds (fractional); clamps into the trackable range. */
  recordMs(ms: number): void {
    this.recordUs(ms * 1000);
  }

  recordUs(us: number): void {
    const v = Math.round(us);
    this.h.recordValue(v < LOWEST_US ? LOWEST_US : v > HIGHEST_US ? HIGHEST_US : v);
  }

  get count(): number {
    return this.h.totalCount;
  }

  /** The value at `percentile` (0..100) in milliseconds. */
  percentileMs(percentile: number): number {
    return this.h.getValueAtPercentile(percentile) / 1000;
  }

  add(other: LatencyHistogram): void {
    this.h.add(other.h);
  }

  reset(): void {
    this.h.reset();
  }

  summary(): LatencySummary | null {
    if (this.h.totalCount === 0) return null;
    const at = (p: number) => round3(this.percentileMs(p));
    return { count: this.h.totalCount, min: round3(this.h.minNonZeroValue / 1000), mean: round3(this.h.mean / 1000), p50: at(50), p90: at(90), p99: at(99), p999: at(99.9), max: at(100) };
  }

  /** [percentile, milliseconds] pairs for a distribution chart. */
  distribution(): [number, number][] {
    if (this.h.totalCount === 0) return [];
    return DISTRIBUTION_PERCENTILES.map((p) => [p, round3(p === 0 ? this.h.minNonZeroValue / 1000 : this.percentileMs(p))]);
  }

  encode(): string {
    return hdr.encodeIntoCompressedBase64(this.h);
  }

  static decode(encoded: string): LatencyHistogram {
    const decoded = hdr.decodeFromCompressedBase64(encoded, 32, false);
    const histogram = new LatencyHistogram();
    histogram.h.add(decoded);
    decoded.destroy();
    return histogram;
  }

  /** Merges encoded histograms (from workers) into one. */
  static merge(encoded: Iterable<string>): LatencyHistogram {
    const total = new LatencyHistogram();
    for (const e of encoded) total.add(LatencyHistogram.decode(e));
    return total;
  }
}

export function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}
