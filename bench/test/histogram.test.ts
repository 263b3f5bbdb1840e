/** The latency histogram: percentiles on known data, exact merging, and transport between threads. */
import { describe, expect, test } from "vitest";
import { LatencyHistogram } from "../src/histogram.ts";

/** 1 µs .. 10,000 µs, one value each: the p-th percentile is p% of 10 ms. */
function uniform(from = 1, to = 10_000): LatencyHistogram {
  const h = new LatencyHistogram();
  for (let us = from; us <= to; us++) h.recordUs(us);
  return h;
}

describe("LatencyHistogram", () => {
  test("percentiles of 1..10,000 µs are within 0.1% of the exact values", () => {
    const s = uniform().summary();
    expect(s).not.toBeNull();
    if (!s) return;
    expect(s.count).toBe(10_000);
    expect(s.p50).toBeCloseTo(5.0, 2);
    expect(s.p90).toBeCloseTo(9.0, 1);
    expect(Math.abs(s.p99 - 9.9) / 9.9).toBeLessThan(0.001);
    expect(Math.abs(s.p999 - 9.99) / 9.99).toBeLessThan(0.001);
    expect(Math.abs(s.max - 10) / 10).toBeLessThan(0.001);
    expect(s.min).toBe(0.001);
    expect(s.mean).toBeCloseTo(5.0, 2);
  });

  test("a constant latency has every percentile equal to it", () => {
    const h = new LatencyHistogram();
    for (let i = 0; i < 1000; i++) h.recordMs(2.5);
    const s = h.summary();
    expect(s?.p50).toBeCloseTo(2.5, 2);
    expect(s?.p999).toBeCloseTo(2.5, 2);
    expect(s?.max).toBeCloseTo(2.5, 2);
  });

  test("one outlier in 1,000 shows at p99.9 and max but not at p99", () => {
    const h = new LatencyHistogram();
    for (let i = 0; i < 999; i++) h.recordMs(1);
    h.recordMs(500);
    const s = h.summary();
    expect(s?.p99).toBeCloseTo(1, 2);
    expect(s?.max).toBeGreaterThan(499);
    expect(s?.p999).toBeLessThan(1.01);
  });

  test("merging two halves gives the summary of the whole", () => {
    const merged = LatencyHistogram.merge([uniform(1, 5_000).encode(), uniform(5_001, 10_000).encode()]);
    expect(merged.summary()).toEqual(uniform().summary());
  });

  test("encode/decode keeps every count (the form histograms cross worker threads in)", () => {
    const h = uniform(1, 3_000);
    const back = LatencyHistogram.decode(h.encode());
    expect(back.summary()).toEqual(h.summary());
    expect(back.distribution()).toEqual(h.distribution());
  });

  test("an empty histogram has no summary and no distribution", () => {
    const h = new LatencyHistogram();
    expect(h.summary()).toBeNull();
    expect(h.distribution()).toEqual([]);
  });

  test("values outside the trackable range are clamped, not lost", () => {
    const h = new LatencyHistogram();
    h.recordUs(0);
    h.recordMs(1e9);
    expect(h.count).toBe(2);
    expect(h.summary()?.min).toBe(0.001);
  });

  test("the distribution is monotone in the percentile", () => {
    const points = uniform().distribution();
    for (let i = 1; i < points.length; i++) expect((points[i] as [number, number])[1]).toBeGreaterThanOrEqual((points[i - 1] as [number, number])[1]);
  });
});
