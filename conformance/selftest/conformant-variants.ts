/**
 * Conformant variants of the self-test (issue #12): the mirror of ./faulty-endpoints.ts. Each is the
 * reference server doing one thing differently in a way the spec allows, and each must PASS the whole
 * suite: a case that fails one is a false failure, the worst bug of a conformance tool, because it
 * teaches implementers to distrust every verdict.
 *
 * A variant is the clean reference with a configuration (`embedded`), or a scratch copy of it with
 * source edits (as the source faults of ./source-faults.ts, applied by ./scratch-reference.ts), so
 * that the reference itself carries no variant switch. `allowedBy` names the requirement whose
 * latitude the variant uses; the spec says there that each behaviour is allowed.
 */
import type { EmbeddedConfig } from "./faulty-endpoints.ts";
import type { SourceEdit } from "./source-faults.ts";

export interface ConformantVariant {
  /** Unique among variants and faulty endpoints. */
  name: string;
  /** What the variant does differently. */
  description: string;
  /** The requirements that allow it. */
  allowedBy: string[];
  /** Options of the reference server. */
  embedded?: EmbeddedConfig;
  /** Source edits on a scratch copy of reference/; none means the clean reference with `embedded`. */
  edits?: SourceEdit[];
  /** Also run the cases that wait for protocol timers (--slow), with the short timers of `embedded.limits`. */
  slow?: boolean;
}

const CHUNKING = "src/chunking.ts";
const CONNECTION = "src/server/peer-connection.ts";
const SERVER = "src/server/server.ts";

export const CONFORMANT_VARIANTS: readonly ConformantVariant[] = [
  {
    name: "requires-tokens",
    description: "requires a token on every upgrade and HTTP request, as discovery says (auth.required)",
    allowedBy: ["PP-AUTH-006"],
    embedded: { requireToken: true },
  },
  {
    name: "error-before-1009",
    description: "sends ERROR MESSAGE_TOO_LARGE before it closes a WebSocket with 1009 for a frame over max_frame_bytes",
    allowedBy: ["PP-LIM-014"],
    edits: [
      // ws would close with 1009 before the server sees the frame: it now lets frames up to twice the limit through.
      { file: SERVER, find: "const maxPayload = this.limits.max_frame_bytes;", replace: "const maxPayload = this.limits.max_frame_bytes * 2;" },
      {
        file: CONNECTION,
        find: "    if (isBinary) throw new ProtocolError(",
        replace: '    if ((typeof data === "string" ? Buffer.byteLength(data) : data.length) > this.service.limits.max_frame_bytes) throw new ProtocolError("MESSAGE_TOO_LARGE", "frame over max_frame_bytes");\n    if (isBinary) throw new ProtocolError(',
      },
    ],
  },
  {
    name: "chunks-in-order-only",
    description: "refuses a chunk whose sequence_number is not the next one with CHUNK_ERROR and discards the message",
    allowedBy: ["PP-CHK-012", "PP-CHK-020"],
    edits: [
      {
        file: CHUNKING,
        find: "    if (partial.lastSequence !== null && chunk.sequence_number > partial.lastSequence) fail(",
        replace: '    if (chunk.sequence_number !== partial.pieces.size) fail("out of order: this receiver takes chunks in sequence_number order only");\n    if (partial.lastSequence !== null && chunk.sequence_number > partial.lastSequence) fail(',
      },
    ],
  },
  {
    name: "discarded-chunks-refused",
    description: "remembers the chunk_id of every message it discarded and answers each later chunk of it with CHUNK_ERROR",
    allowedBy: ["PP-CHK-019"],
    edits: [
      { file: CHUNKING, find: "  private partials: Map<string, Partial> | undefined;", replace: "  private partials: Map<string, Partial> | undefined;\n  private readonly discarded = new Set<string>();" },
      { file: CHUNKING, find: "      partials.delete(chunk.chunk_id);\n      throw new ProtocolError(", replace: "      partials.delete(chunk.chunk_id);\n      this.discarded.add(chunk.chunk_id);\n      throw new ProtocolError(" },
      {
        file: CHUNKING,
        find: "    if (chunk.total_size > this.limits.max_message_bytes) fail(",
        replace: '    if (this.discarded.has(chunk.chunk_id)) throw new ProtocolError("CHUNK_ERROR", `chunk ${chunk.sequence_number} of ${chunk.chunk_id}: its message was discarded`, chunk.chunk_id);\n    if (chunk.total_size > this.limits.max_message_bytes) fail(',
      },
    ],
  },
  {
    name: "conflicting-duplicate-keeps",
    description: "answers a chunk that repeats a sequence_number with other content with CHUNK_ERROR, and keeps the message as first received",
    allowedBy: ["PP-CHK-007", "PP-CHK-016"],
    edits: [
      {
        file: CHUNKING,
        find: 'if (!existing.equals(data)) fail("a chunk with this sequence_number arrived before with different content");',
        replace: 'if (!existing.equals(data)) throw new ProtocolError("CHUNK_ERROR", `chunk ${chunk.sequence_number} of ${chunk.chunk_id}: arrived before with different content; the first is kept`, chunk.chunk_id);',
      },
    ],
  },
];
