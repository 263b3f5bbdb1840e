/**
 * The message reference, generated from the JSON Schemas: for every message type its registry row,
 * envelope and payload members (type, required, constraints, description), conditional rules, a
 * valid example from the schema's `examples`, and the requirements that govern it. The same
 * Markdown feeds the site (one page per type) and the committed `docs/reference/messages.md`.
 *
 * A requirement governs a type when the spec text names the type in a code span (`` `ACK` ``,
 * `` `SESSION_ESTABLISHED.payload.session_id` ``) or when the type's schema cites the requirement in a
 * description. Citations by envelope members common to most types (`message_id`, `timestamp`)
 * are listed once, on the index, instead of on every page.
 */
import { prose, type RefLinks } from "./links.ts";
import { mdCode, mdLink, mdTable, mdText } from "./markdown.ts";
import { citedRequirements, conditionalRules, fieldRows, variants, type Constraint, type FieldRow } from "./schema-fields.ts";
import type { DocsSources, JsonSchema, MessageTypeInfo, Requirement } from "./sources.ts";

export interface Governing {
  id: string;
  /** Why, in Markdown: "names `ACK`", "cited by `payload.ack`". */
  reasons: string[];
}

/** The document schemas other than message types, by name (`discovery`, `limits`, ...). */
export function documentNames(sources: DocsSources): string[] {
  const messageNames = new Set(sources.messages.flatMap((m) => [m.slug, `${m.slug}-payload`]));
  return [...sources.schemas.keys()].filter((name) => !messageNames.has(name));
}

/** Envelope member citations shared by at least half of the message types: `member -> ids`. */
export function commonEnvelopeCitations(sources: DocsSources): Map<string, string[]> {
  const known = sources.requirements.map((r) => r.id);
  const counts = new Map<string, number>();
  for (const m of sources.messages) {
    const seen = new Set<string>();
    for (const [id, paths] of citedRequirements(m.envelope, known)) for (const path of paths) if (!path.startsWith("payload")) seen.add(`${path} ${id}`);
    for (const key of seen) counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const out = new Map<string, string[]>();
  for (const [key, n] of counts) {
    if (n * 2 < sources.messages.length) continue;
    const [path, id] = key.split(" ") as [string, string];
    out.set(path, [...(out.get(path) ?? []), id]);
  }
  return out;
}

function namesType(text: string, type: string): boolean {
  return [...text.matchAll(/`([^`]+)`/g)].some((m) => m[1] === type || (m[1] as string).startsWith(`${type}.`));
}

export function governingRequirements(sources: DocsSources): Map<string, Governing[]> {
  const known = sources.requirements.map((r) => r.id);
  const common = commonEnvelopeCitations(sources);
  const isCommon = (path: string, id: string): boolean => common.get(path)?.includes(id) === true;
  const out = new Map<string, Governing[]>();
  for (const m of sources.messages) {
    const reasons = new Map<string, string[]>();
    const add = (id: string, reason: string): void => {
      const list = reasons.get(id) ?? [];
      if (!list.includes(reason)) list.push(reason);
      reasons.set(id, list);
    };
    for (const r of sources.requirements) if (namesType(r.text, m.type)) add(r.id, `names \`${m.type}\``);
    for (const [id, paths] of citedRequirements(m.envelope, known)) for (const path of paths) if (!path.startsWith("payload") && !isCommon(path, id)) add(id, path === "" ? "cited by the schema" : `cited by \`${path}\``);
    for (const [id, paths] of citedRequirements(m.payload, known, "payload")) for (const path of paths) add(id, path === "payload" ? "cited by the payload schema" : `cited by \`${path}\``);
    const order = new Map(known.map((id, i) => [id, i]));
    out.set(
      m.type,
      [...reasons].filter(([id]) => order.has(id)).sort((a, b) => (order.get(a[0]) ?? 0) - (order.get(b[0]) ?? 0)).map(([id, why]) => ({ id, reasons: why })),
    );
  }
  return out;
}

function constraintCell(constraints: Constraint[]): string {
  return constraints.map((c) => (c.kind === "text" ? mdText(c.text) : `${mdText(c.label)} ${mdCode(c.code)}`)).join("<br>");
}

export function fieldTable(rows: FieldRow[], links: RefLinks, known: ReadonlySet<string>, prefix = ""): string {
  if (rows.length === 0) return "No members.\n";
  return mdTable(
    ["member", "type", "required", "constraints", "description"],
    rows.map((row) => [mdCode(`${prefix}${row.path}`), mdText(row.type), row.required ? "**yes**" : "no", constraintCell(row.constraints), prose(row.description, links, known)]),
  );
}

function example(value: unknown): string {
  return "```json\n" + JSON.stringify(value, null, 2) + "\n```\n";
}

const FORMS: Record<string, string> = {
  plaintext: "a plaintext envelope: its `payload` is the JSON object below",
  record: "an AEAD record (spec section 7.3): on the wire its `payload` is `b64u(ciphertext)` of `JCS(payload)`, the payload below",
  events: "a plain envelope on `/ws/v1/events`, protected by TLS, not a record",
  either: "a record inside a session (its `payload` sealed as for any record), a plaintext envelope before one",
};

function heading(level: number, text: string): string {
  return `${"#".repeat(Math.min(level, 6))} ${text}\n`;
}

function envelopeSection(m: MessageTypeInfo, links: RefLinks, known: ReadonlySet<string>, level: number): string {
  const parts = variants(m.envelope);
  if (parts === undefined) return fieldTable(fieldRows(m.envelope).filter((r) => !r.path.startsWith("payload.")), links, known);
  return parts.map((v) => `${heading(level, `Envelope ${v.when}`)}\n${typeof v.schema.description === "string" ? prose(v.schema.description, links, known) + "\n\n" : ""}${fieldTable(fieldRows(v.schema).filter((r) => !r.path.startsWith("payload.")), links, known)}`).join("\n");
}

function examples(schema: JsonSchema): unknown[] {
  return Array.isArray(schema.examples) ? schema.examples : [];
}

/** The Markdown of one message type, its title at heading `level`. */
export function messageMarkdown(m: MessageTypeInfo, sources: DocsSources, governing: Governing[], links: RefLinks, level: number): string {
  const known = new Set(sources.requirements.map((r) => r.id));
  const byId = new Map(sources.requirements.map((r) => [r.id, r]));
  const out: string[] = [];
  out.push(heading(level, mdCode(m.type)));
  if (typeof m.envelope.description === "string") out.push(`${prose(m.envelope.description, links, known)}\n`);
  out.push(
    mdTable(
      ["since", "form", "sent by", "JSON Schema"],
      [[m.since, mdText(m.form), mdText(m.sentBy), `${mdLink(`${m.slug}.json`, links.schema(m.slug))} (envelope), ${mdLink(`${m.slug}-payload.json`, links.schema(`${m.slug}-payload`))} (payload)`]],
    ),
  );
  out.push(`It travels as ${FORMS[m.form] ?? mdText(m.form)}.\n`);

  out.push(heading(level + 1, "Envelope"));
  out.push(envelopeSection(m, links, known, level + 2));

  out.push(heading(level + 1, m.form === "record" ? "Payload (decrypted)" : "Payload"));
  if (typeof m.payload.description === "string") out.push(`${prose(m.payload.description, links, known)}\n`);
  out.push(fieldTable(fieldRows(m.payload), links, known, "payload."));
  const rules = conditionalRules(m.payload, "payload");
  const envelopeRules = variants(m.envelope) ? [] : conditionalRules({ ...m.envelope, properties: {} });
  if (rules.length + envelopeRules.length > 0) out.push(`\nRules between members:\n\n${[...envelopeRules, ...rules].map((r) => `- ${prose(r, links, known)}`).join("\n")}\n`);

  out.push(heading(level + 1, "Example"));
  const [first, ...more] = examples(m.envelope);
  if (first !== undefined) out.push(`A valid \`${m.type}\` as it travels (from the schema's \`examples\`):\n\n${example(first)}`);
  for (const other of more) out.push(`Another valid form:\n\n${example(other)}`);
  const payloads = examples(m.payload);
  if (payloads.length > 0 && (m.form === "record" || m.form === "either")) out.push(`The payload before sealing:\n\n${example(payloads[0])}`);
  const morePayloads = m.form === "record" || m.form === "either" ? payloads.slice(1) : payloads.filter((p) => JSON.stringify(p) !== JSON.stringify((first as { payload?: unknown } | undefined)?.payload));
  for (const other of morePayloads) out.push(`Another valid payload:\n\n${example(other)}`);

  out.push(heading(level + 1, "Requirements"));
  if (governing.length === 0) out.push("No requirement names this type.\n");
  else
    out.push(
      mdTable(
        ["requirement", "level", "text", "why listed"],
        governing.map((g) => {
          const r = byId.get(g.id) as Requirement;
          const cases = links.requirementCases(g.id);
          return [`${mdLink(g.id, links.requirement(g.id))}${cases ? ` (${mdLink("cases", cases)})` : ""}`, r.level, mdText(r.text), g.reasons.join(", ")];
        }),
      ),
    );
  return out.join("\n");
}

/** The index of message types and other documents. */
export function messageIndexMarkdown(sources: DocsSources, links: RefLinks, level: number, documentLink: (name: string) => string): string {
  const known = new Set(sources.requirements.map((r) => r.id));
  const out: string[] = [];
  out.push(heading(level, `Messages of Peer Protocol ${sources.version}`));
  out.push(
    `Every message is a JSON envelope (spec section 5) whose \`type\` names one of the ${sources.messages.length} types below. ` +
      "Each page gives the envelope and payload members from the JSON Schema, a valid example and the requirements that govern the type.\n",
  );
  out.push(
    mdTable(
      ["type", "since", "form", "sent by", "payload members", "summary"],
      sources.messages.map((m) => {
        // From the payload schema of this version (the registry row lists the v1.2 members).
        const members = Object.keys((m.payload.properties ?? {}) as Record<string, unknown>).join(", ");
        return [mdLink(mdCode(m.type), links.message(m.type)), m.since, mdText(m.form), mdText(m.sentBy), mdText(members), prose(String(m.envelope.description ?? ""), links, known)];
      }),
    ),
  );
  const common = commonEnvelopeCitations(sources);
  out.push(heading(level + 1, "Requirements on every envelope"));
  out.push("Envelope members that most types share cite these requirements; the type pages do not repeat them.\n");
  out.push(mdTable(["member", "requirements"], [...common].map(([path, ids]) => [mdCode(path), ids.map((id) => mdLink(id, links.requirement(id))).join(", ")])));
  out.push(heading(level + 1, "Other documents"));
  out.push("Bodies and documents that are not protocol messages: the HTTP binding, tokens, discovery, limits, capabilities and the conformance report.\n");
  out.push(mdTable(["document", "description"], documentNames(sources).map((name) => [mdLink(mdCode(name), documentLink(name)), prose(String(sources.schemas.get(name)?.description ?? ""), links, known)])));
  return out.join("\n");
}

/** The Markdown of one non-message document schema (discovery, limits, ...). */
export function documentMarkdown(name: string, sources: DocsSources, links: RefLinks, level: number): string {
  const known = new Set(sources.requirements.map((r) => r.id));
  const schema = sources.schemas.get(name) as JsonSchema;
  const out: string[] = [heading(level, mdCode(name))];
  if (typeof schema.description === "string") out.push(`${prose(schema.description, links, known)}\n`);
  out.push(`JSON Schema: ${mdLink(`${name}.json`, links.schema(name))}\n`);
  out.push(heading(level + 1, "Members"));
  out.push(fieldTable(fieldRows(schema.type === "array" && typeof schema.items === "object" ? (schema.items as JsonSchema) : schema), links, known));
  const rules = conditionalRules(schema);
  if (rules.length > 0) out.push(`\nRules between members:\n\n${rules.map((r) => `- ${prose(r, links, known)}`).join("\n")}\n`);
  const [first] = examples(schema);
  if (first !== undefined) out.push(`${heading(level + 1, "Example")}\n${example(first)}`);
  return out.join("\n");
}

/** `docs/reference/messages.md`: the index and every message type, for reading on GitHub. */
export function messagesReferenceMarkdown(sources: DocsSources, links: RefLinks): string {
  const governing = governingRequirements(sources);
  const header = `<!-- Generated by docs/src/generated.ts from the spec and the JSON Schemas (npm run generate). Do not edit. -->\n\n`;
  const index = messageIndexMarkdown(sources, links, 1, (name) => links.schema(name));
  const pages = sources.messages.map((m) => messageMarkdown(m, sources, governing.get(m.type) ?? [], links, 2));
  return header + [index, ...pages].join("\n") ;
}
