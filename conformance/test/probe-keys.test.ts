/** What the run seed fixes (fast-check seeds) and what the per-run salt makes fresh (probe identities). */
import { describe, expect, test } from "vitest";
import { caseSeed, probeIdentity, runSalt } from "../src/probe/keys.ts";

describe("probe keys", () => {
  test("the same seed, salt, case and index give the same identity", () => {
    const salt = runSalt();
    const a = probeIdentity(7, salt, "delivery.echo", 2);
    const b = probeIdentity(7, salt, "delivery.echo", 2);
    expect(b.entityId).toBe(a.entityId);
    expect(b.publicKey).toEqual(a.publicKey);
  });

  test("a new salt gives the same seed new entities", () => {
    const a = probeIdentity(7, runSalt(), "delivery.echo", 0);
    const b = probeIdentity(7, runSalt(), "delivery.echo", 0);
    expect(b.entityId).not.toBe(a.entityId);
    expect(b.publicKey).not.toEqual(a.publicKey);
  });

  test("every run draws a different salt", () => {
    const salts = new Set(Array.from({ length: 50 }, runSalt));
    expect(salts.size).toBe(50);
    for (const salt of salts) expect(salt).toMatch(/^[0-9a-f]{16}$/);
  });

  test("the fast-check seed of a case depends on the run seed and the case alone", () => {
    expect(caseSeed(7, "delivery.echo")).toBe(caseSeed(7, "delivery.echo"));
    expect(caseSeed(7, "delivery.echo")).not.toBe(caseSeed(8, "delivery.echo"));
    expect(caseSeed(7, "delivery.echo")).not.toBe(caseSeed(7, "handshake.sequence-property"));
  });
});
