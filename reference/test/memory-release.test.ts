/** When the server asks V8 for a full collection: once a burst of held data is over, and not more often than its interval. */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { MemoryRelease } from "../src/server/memory-release.ts";

describe("MemoryRelease", () => {
  const budget = 64 * 1024 * 1024;

  test("collects once a burst of at least an eighth of the budget falls to a sixteenth of its peak", () => {
    let collections = 0;
    const release = new MemoryRelease(budget, () => collections++, 5000);
    release.observe(budget / 2, 0);
    release.observe(budget / 4, 1000);
    expect(collections).toBe(0);
    release.observe(budget / 32 - 1, 2000);
    expect(collections).toBe(1);
    release.observe(0, 3000);
    expect(collections).toBe(1);
  });

  test("never collects without a burst, without gc, or with no budget", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: budget / 8 - 1 }), { maxLength: 50 }), (helds) => {
        let collections = 0;
        const release = new MemoryRelease(budget, () => collections++, 0);
        helds.forEach((held, i) => release.observe(held, i * 1000));
        expect(collections).toBe(0);
      }),
    );
    const withoutGc = new MemoryRelease(budget, undefined, 0);
    expect(() => [budget, 0].forEach((held, i) => withoutGc.observe(held, i))).not.toThrow();
    let collections = 0;
    const unlimited = new MemoryRelease(0, () => collections++, 0);
    [budget, 0].forEach((held, i) => unlimited.observe(held, i));
    expect(collections).toBe(0);
  });

  test("at most one release per interval, whatever the bursts", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: budget }), { maxLength: 200 }), (helds) => {
        const at: number[] = [];
        let now = 0;
        const release = new MemoryRelease(budget, () => at.push(now), 5000);
        for (const held of helds) {
          release.observe(held, now);
          now += 250;
        }
        for (let i = 1; i < at.length; i++) expect((at[i] as number) - (at[i - 1] as number)).toBeGreaterThanOrEqual(5000);
      }),
    );
  });
});
