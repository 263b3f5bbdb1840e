import { describe, expect, it } from "vitest";
import registries from "../../spec/registries.json" with { type: "json" };
import {
  CAPABILITIES,
  CAPABILITY_ROWS,
  DATA_TYPES,
  DEFAULT_LIMITS,
  ERROR_CODES,
  ErrorPayloadSchema,
  EVENTS_TYPES,
  LimitsSchema,
  MESSAGE_SCHEMAS,
  MESSAGE_TYPES,
  PLAINTEXT_TYPES,
  RECORD_TYPES,
  V11ErrorPayloadSchema,
  messageTypesFor,
} from "../src/index.ts";

const messageRows = registries["message-types"];

describe("message type registry (17.1)", () => {
  it("has a v1.1 schema for every type since 1.1, and a v1.2 schema for every type", () => {
    for (const row of messageRows) {
      expect(Object.keys(MESSAGE_SCHEMAS["1.2"]), row.type).toContain(row.type);
      if (row.since === "1.1") expect(Object.keys(MESSAGE_SCHEMAS["1.1"]), row.type).toContain(row.type);
    }
  });

  it("has no v1.1 schema for a type added in 1.2, and no schema for a type outside the registry", () => {
    expect(Object.keys(MESSAGE_SCHEMAS["1.1"]).sort()).toEqual(messageRows.filter((row) => row.since === "1.1").map((row) => row.type).sort());
    expect(Object.keys(MESSAGE_SCHEMAS["1.2"]).sort()).toEqual(messageRows.map((row) => row.type).sort());
    expect(messageTypesFor("1.1")).toEqual(messageRows.filter((row) => row.since === "1.1").map((row) => row.type));
  });

  it("classifies every type by its form, with ERROR both a record and a plaintext type", () => {
    expect(MESSAGE_TYPES).toEqual(messageRows.map((row) => row.type));
    for (const row of messageRows) {
      expect(RECORD_TYPES.includes(row.type as never), row.type).toBe(row.form === "record" || row.form === "either");
      expect(PLAINTEXT_TYPES.includes(row.type as never), row.type).toBe(row.form === "plaintext" || row.form === "either");
      expect(EVENTS_TYPES.includes(row.type as never), row.type).toBe(row.form === "events");
    }
    expect(RECORD_TYPES).toContain("ERROR");
    expect(PLAINTEXT_TYPES).toContain("ERROR");
  });

  it("lists the data records of section 9, all of them records", () => {
    expect([...DATA_TYPES]).toEqual(["PEER_MESSAGE", "BROADCAST", "TASK_REQUEST", "TASK_RESPONSE", "CHUNKED_MESSAGE"]);
    for (const type of DATA_TYPES) expect(RECORD_TYPES).toContain(type);
  });

  it("gives every payload member the registry lists a property in the payload schema", () => {
    for (const row of messageRows) {
      const members = row.payload.split(/,| or /).map((s) => s.trim());
      const properties = Object.keys((MESSAGE_SCHEMAS["1.2"][row.type as keyof (typeof MESSAGE_SCHEMAS)["1.2"]].payload as { properties: object }).properties);
      expect(properties.sort(), row.type).toEqual(members.sort());
    }
  });
});

describe("error code registry (17.2)", () => {
  it("puts every code in ERROR_CODES with the row's retryable, connection, close and http values", () => {
    for (const row of registries.errors) {
      const entry = ERROR_CODES[row.code as keyof typeof ERROR_CODES];
      expect(entry, row.code).toBeDefined();
      expect(entry.retryable).toBe(row.retryable === "true");
      expect(entry.connection).toBe(row.connection);
      expect(entry.close).toBe(row.close === "-" ? null : Number(row.close));
      expect(entry.http).toBe(Number(row.http));
    }
    expect(Object.keys(ERROR_CODES)).toEqual(registries.errors.map((row) => row.code));
  });

  it("puts every code in the v1.2 ErrorPayload enum and only the 1.1 codes in the v1.1 enum", () => {
    const codes = (schema: unknown) => (schema as { properties: { code: { enum: string[] } } }).properties.code.enum;
    expect(codes(ErrorPayloadSchema)).toEqual(registries.errors.map((row) => row.code));
    expect(codes(V11ErrorPayloadSchema)).toEqual(registries.errors.filter((row) => row.since === "1.1").map((row) => row.code));
  });

  it("gives a close code exactly to the codes that close the connection", () => {
    for (const entry of Object.values(ERROR_CODES)) expect(entry.close === null, entry.code).toBe(entry.connection === "open");
  });
});

describe("capability registry (17.3)", () => {
  it("exports every capability, each a valid capability name", () => {
    expect([...CAPABILITIES]).toEqual(registries.capabilities.map((row) => row.name));
    for (const name of CAPABILITIES) {
      expect(name).toMatch(/^[a-z0-9-]{1,64}$/);
      expect(CAPABILITY_ROWS[name].requirements.length).toBeGreaterThan(0);
    }
  });
});

describe("limits (section 13)", () => {
  it("exports the default of every limit of the table, and the defaults satisfy the Limits schema", () => {
    const rows = (registries as { limits?: { member: string; default: string }[] }).limits ?? [];
    expect(rows.length).toBe(19);
    expect(DEFAULT_LIMITS).toEqual(Object.fromEntries(rows.map((row) => [row.member, Number(row.default)])));
    expect(Object.keys((LimitsSchema as { properties: object }).properties).sort()).toEqual(rows.map((row) => row.member).sort());
  });
});
