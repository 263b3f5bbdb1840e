/**
 * The inputs of the docs, read in memory from their sources of truth: the spec (requirements and
 * registries through the same extractor that writes `spec/requirements.json`) and the JSON Schemas
 * (through the same emitter that writes `schemas/json/`). Reading the sources rather than the
 * generated files keeps `npm run generate` a single pass: the docs never lag one run behind.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { emitJsonSchemas } from "../../schemas/src/emit.ts";
import { VERSIONS, type Version } from "../../schemas/src/registry.ts";
import { extractSpec, type RegistryTable, type Requirement } from "../../spec/tools/extract-spec.ts";

export type { Requirement, RegistryTable, Version };
export { VERSIONS };

export const SPEC_PATH = "spec/peer-protocol-v1.2.md";

export type JsonSchema = Record<string, unknown>;

export interface MessageTypeInfo {
  type: string;
  since: string;
  form: string;
  sentBy: string;
  /** `HANDSHAKE_INIT` -> `handshake-init`, the schema file and page name. */
  slug: string;
  envelope: JsonSchema;
  payload: JsonSchema;
}

export interface DocsSources {
  root: string;
  version: Version;
  specMarkdown: string;
  requirements: Requirement[];
  registries: Record<string, RegistryTable>;
  /** The emitted JSON Schemas of `version`, by file name without `.json` (`handshake-init`). */
  schemas: Map<string, JsonSchema>;
  /** The message types of `version`, in registry order. */
  messages: MessageTypeInfo[];
  /** Error registry rows of `version`. */
  errors: RegistryTable;
  /** Capability registry rows (none for v1.1, which has no capabilities: PP-VER-010). */
  capabilities: RegistryTable;
  limits: RegistryTable;
}

export function isVersion(value: string): value is Version {
  return (VERSIONS as readonly string[]).includes(value);
}

/** Whether a registry row's `since` is at most `version`. */
export function inVersion(since: string | undefined, version: Version): boolean {
  return isVersion(since ?? "") && VERSIONS.indexOf(since as Version) <= VERSIONS.indexOf(version);
}

export function kebab(type: string): string {
  return type.toLowerCase().replace(/_/g, "-");
}

function registry(registries: Record<string, RegistryTable>, name: string): RegistryTable {
  const rows = registries[name];
  if (!rows) throw new Error(`the spec has no registry '${name}' (<!-- registry:${name} -->)`);
  return rows;
}

export function loadSources(root: string, version: Version): DocsSources {
  const specMarkdown = readFileSync(join(root, SPEC_PATH), "utf8");
  const { requirements, registries } = extractSpec(specMarkdown);
  const prefix = `schemas/json/${version}/`;
  const schemas = new Map<string, JsonSchema>();
  for (const { relativePath, schema } of emitJsonSchemas()) {
    if (relativePath.startsWith(prefix)) schemas.set(relativePath.slice(prefix.length).replace(/\.json$/, ""), schema);
  }
  const messages: MessageTypeInfo[] = [];
  for (const row of registry(registries, "message-types")) {
    if (!inVersion(row.since, version)) continue;
    const type = row.type as string;
    const slug = kebab(type);
    const envelope = schemas.get(slug);
    const payload = schemas.get(`${slug}-payload`);
    if (!envelope || !payload) throw new Error(`message type ${type} (since ${row.since}) has no ${prefix}${slug}.json or ${slug}-payload.json`);
    messages.push({ type, since: row.since as string, form: row.form as string, sentBy: row["sent by"] as string, slug, envelope, payload });
  }
  return {
    root,
    version,
    specMarkdown,
    requirements,
    registries,
    schemas,
    messages,
    errors: registry(registries, "errors").filter((row) => inVersion(row.since, version)),
    capabilities: version === "1.1" ? [] : registry(registries, "capabilities"),
    limits: registry(registries, "limits"),
  };
}
