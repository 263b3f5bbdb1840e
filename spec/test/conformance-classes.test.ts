import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import requirements from "../requirements.json" with { type: "json" };
import classes from "../conformance-classes.json" with { type: "json" };
import { conformanceClasses } from "../tools/conformance-classes.ts";

const ids = ["PP-HS-001", "PP-HS-002", "PP-HS-003", "PP-HS-004", "PP-KS-001", "PP-KS-002", "PP-CAP-001", "PP-CAP-008", "PP-CAP-010", "PP-SES-001"];
const spec = (client: string) => `## 18. Conformance classes\n\n**Server.** every.\n\n**Client.** A conforming client passes these. By area:\n\n| area | requirements |\n| --- | --- |\n| X | ${client} |\n| EVT | none: every EVT requirement binds the server |\n\nThe others bind the server.\n\n## 19. Changes\n`;

describe("the client conformance class of spec §18", () => {
  test("reads ids, ranges, areas and exceptions", () => {
    expect(conformanceClasses(spec("PP-HS-002 to PP-HS-004, PP-KS-* (all), PP-CAP-* except PP-CAP-008 and PP-CAP-010, PP-SES-001 (over HTTP)"), ids).client).toEqual(["PP-HS-002", "PP-HS-003", "PP-HS-004", "PP-KS-001", "PP-KS-002", "PP-CAP-001", "PP-SES-001"]);
  });

  test.each([
    ["PP-HS-009", "'PP-HS-009' is not a requirement id"],
    ["PP-HS-001 to PP-KS-002", "spans two areas"],
    ["the handshake", "cannot read 'the handshake'"],
    ["PP-CAP-* except PP-CAP-999", "'PP-CAP-999' (excepted from PP-CAP-*) is not a requirement id"],
    ["", "the client class names no requirement"],
  ])("%s is an error naming what is wrong", (text, message) => {
    expect(() => conformanceClasses(spec(text), ids)).toThrow(message);
  });

  test("the generated list is the spec's: every id exists, and it holds the initiator requirements issue 14 names", () => {
    const known = new Set(requirements.map((r) => r.id));
    expect(classes.client.every((id) => known.has(id))).toBe(true);
    expect(classes.client).toEqual(conformanceClasses(readFileSync(new URL("../peer-protocol-v1.2.md", import.meta.url), "utf8"), requirements.map((r) => r.id)).client);
    expect(classes.client).not.toContain("PP-CAP-010");
    for (const id of ["PP-VER-011", "PP-HS-014", "PP-CHK-014", "PP-TRN-001", "PP-TRN-002", "PP-AUTH-008", "PP-SES-015", "PP-DLV-011"]) expect(classes.client).toContain(id);
  });
});
