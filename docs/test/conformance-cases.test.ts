import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { loadCases, parseCaseFile } from "../src/conformance-cases.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));

describe("reading the conformance cases", () => {
  it("reads ALL_CASES from the registry with their requirements", async () => {
    const catalog = await loadCases(root);
    expect(catalog.source).toBe("registry");
    expect(catalog.cases.length).toBeGreaterThan(0);
    for (const c of catalog.cases) {
      expect(c.id).toMatch(/^[a-z0-9-]+\.[a-z0-9.-]+$/);
      expect(c.id.startsWith(`${c.suite}.`)).toBe(true);
    }
    expect(catalog.exclusions.length).toBeGreaterThan(0);
  });

  it("falls back to reading a case file as text", () => {
    const text = `
export const handshakeCases = suite("handshake", "6. Handshake", [
  {
    id: "complete",
    title: "A responder completes the six-step handshake",
    requirements: ["PP-TRN-003", "PP-KS-001"],
    level: "MUST",
    async run(ctx) {},
  },
  {
    id: "timeout",
    title: \`A responder closes a stalled handshake\`,
    requirements: ["PP-HS-011"],
    level: "SHOULD",
    requires: ["websocket"],
    slow: true,
    async run(ctx) {},
  },
]);`;
    expect(parseCaseFile(text)).toEqual([
      { id: "handshake.complete", title: "A responder completes the six-step handshake", level: "MUST", suite: "handshake", section: "6. Handshake", requirements: ["PP-TRN-003", "PP-KS-001"], requires: [], slow: false },
      { id: "handshake.timeout", title: "A responder closes a stalled handshake", level: "SHOULD", suite: "handshake", section: "6. Handshake", requirements: ["PP-HS-011"], requires: ["websocket"], slow: true },
    ]);
  });
});
