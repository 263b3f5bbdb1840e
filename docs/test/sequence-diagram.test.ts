import { describe, expect, it } from "vitest";
import { HANDSHAKE, RESUME } from "../src/diagrams.ts";
import { renderSequenceDiagram, type SequenceDiagram } from "../src/sequence-diagram.ts";

const numbers = (svg: string): string[] => [...svg.matchAll(/<circle [^>]*\/>\s*<text [^>]*>(\d+)<\/text>/g)].map((m) => m[1] as string);

describe("renderSequenceDiagram", () => {
  it("draws the six numbered handshake steps in order, with the type names", () => {
    const svg = renderSequenceDiagram(HANDSHAKE);
    expect(numbers(svg)).toEqual(["1", "2", "3", "4", "5", "6"]);
    for (const type of ["HANDSHAKE_INIT", "HANDSHAKE_INIT_ACK", "CHALLENGE_RESPONSE", "SESSION_ESTABLISHED", "SESSION_CONFIRM", "READY"]) expect(svg).toContain(`>${type}</text>`);
  });

  it("draws the two resume steps", () => {
    const svg = renderSequenceDiagram(RESUME);
    expect(numbers(svg)).toEqual(["1", "2"]);
    expect(svg).toContain(">SESSION_RESUME_ACK</text>");
  });

  it("is a self-contained, accessible SVG with its text escaped", () => {
    const diagram: SequenceDiagram = {
      id: "t",
      title: "A <title> & more",
      description: "d",
      participants: [
        { id: "a", label: "A" },
        { id: "b", label: "B" },
      ],
      steps: [{ kind: "message", from: "a", to: "b", label: "X", detail: ["{k: \"<v>\"}"] }],
    };
    const svg = renderSequenceDiagram(diagram);
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" viewBox="0 0 \d+ \d+"/);
    expect(svg).toContain("<title id=\"t-title\">A &lt;title&gt; &amp; more</title>");
    expect(svg).toContain("{k: &quot;&lt;v&gt;&quot;}");
    expect(svg).not.toMatch(/href=|<script/);
  });

  it("refuses a step naming an unknown participant", () => {
    expect(() => renderSequenceDiagram({ ...RESUME, steps: [{ kind: "message", from: "I", to: "X", label: "Y" }] })).toThrow(/unknown participant 'X'/);
  });
});
