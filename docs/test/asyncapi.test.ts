import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Parser } from "@asyncapi/parser";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ASYNCAPI_PATH, asyncApiYaml, toDraft07 } from "../src/asyncapi.ts";
import { loadSources } from "../src/sources.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const sources = loadSources(root, "1.2");

describe("the AsyncAPI document", () => {
  it("is what docs/asyncapi.yaml holds (run npm run generate otherwise)", () => {
    expect(readFileSync(join(root, ASYNCAPI_PATH), "utf8")).toBe(asyncApiYaml(sources));
  });

  it("parses with @asyncapi/parser without an error-level diagnostic", async () => {
    const { document, diagnostics } = await new Parser().parse(asyncApiYaml(sources));
    expect(diagnostics.filter((d) => d.severity === 0).map((d) => `${d.code} ${d.message} at ${d.path.join(".")}`)).toEqual([]);
    expect(document).toBeDefined();
    expect(document?.version()).toBe("3.0.0");
    expect(document?.channels().all().map((c) => c.address()).sort()).toEqual(["/ws/v1/events", "/ws/v1/peers"]);
    expect(document?.operations().all().map((o) => o.action()).sort()).toEqual(["receive", "receive", "send", "send"]);
  });

  it("has a message, with its schema and an example, for every message type", () => {
    const doc = parse(asyncApiYaml(sources)) as { components: { messages: Record<string, { payload: unknown; examples?: unknown[] }>; schemas: Record<string, unknown> } };
    for (const m of sources.messages) {
      expect(doc.components.messages[m.type], m.type).toBeDefined();
      expect(doc.components.messages[m.type]?.examples?.length, m.type).toBeGreaterThan(0);
      expect(doc.components.schemas[m.type], m.type).toBeDefined();
      expect(doc.components.schemas[`${m.type}.payload`], m.type).toBeDefined();
    }
  });

  it("carries no 2020-12-only keyword", () => {
    const text = JSON.stringify(parse(asyncApiYaml(sources)));
    for (const keyword of ["$schema", "$id", "$defs", "prefixItems", "dependentRequired", "dependentSchemas"]) expect(text).not.toContain(`"${keyword}"`);
  });
});

describe("toDraft07", () => {
  it("down-converts 2020-12 keywords and leaves data alone", () => {
    const schema = {
      $schema: "https://json-schema.org/draft/2020-12/schema",
      $id: "https://example.test/x.json",
      $defs: { id: { type: "string" } },
      type: "object",
      properties: { a: { $ref: "#/$defs/id" }, t: { type: "array", prefixItems: [{ type: "string" }], items: { type: "integer" } }, $id: { const: { $id: "kept" } } },
      dependentRequired: { a: ["t"] },
      examples: [{ $schema: "data" }],
    };
    expect(toDraft07(schema)).toEqual({
      definitions: { id: { type: "string" } },
      type: "object",
      properties: { a: { $ref: "#/definitions/id" }, t: { type: "array", items: [{ type: "string" }], additionalItems: { type: "integer" } }, $id: { const: { $id: "kept" } } },
      dependencies: { a: ["t"] },
      examples: [{ $schema: "data" }],
    });
  });
});
