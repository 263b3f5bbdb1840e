/**
 * Faulty clients for the client-as-receiver cases of records, replay, envelopes and frames
 * (conformance/src/client-mode/cases/records.ts): each removes one check a receiving client makes
 * of the server's records, in a scratch copy of the reference client.
 */
import type { FaultyClient } from "./faulty-clients.ts";

const CLIENT = "src/client/peer-client.ts";
const SESSION = "src/session/session.ts";
const ERRORS = "src/errors.ts";
const ENCODING = "src/encoding.ts";

export const RECORD_FAULTY_CLIENTS: readonly FaultyClient[] = [
  {
    name: "takes-foreign-session",
    description: "does not compare a record's session_id with its session's",
    edits: [{ file: SESSION, find: "if (record.session_id !== this.id) throw", replace: "if (record.session_id === undefined) throw" }],
    catchers: ["client.records.foreign-session"],
    expected: /^ERROR INVALID_MESSAGE/,
  },
  {
    name: "takes-other-version",
    description: "neither its schema check nor its session compares a record's version with the session's",
    edits: [
      { file: SESSION, find: "if (record.version !== this.version) throw", replace: "if (record.version === undefined) throw" },
      { file: CLIENT, find: "const check = validateEnvelope(version, message, { strict: false });", replace: 'const check = validateEnvelope(version, { ...message, version }, { strict: false });' },
    ],
    catchers: ["client.records.wrong-version"],
    expected: /^ERROR INVALID_MESSAGE/,
  },
  {
    name: "refuses-undecryptable-softly",
    description: "answers a record that does not decrypt with INVALID_MESSAGE and keeps the connection",
    edits: [{ file: SESSION, find: 'if (inner === null) throw new ProtocolError("AUTHENTICATION_FAILED", "record does not decrypt", record.message_id);', replace: 'if (inner === null) throw new ProtocolError("INVALID_MESSAGE", "record does not decrypt", record.message_id);' }],
    catchers: ["client.records.does-not-decrypt"],
    expected: /^the client aborts with AUTHENTICATION_FAILED/,
  },
  {
    name: "skips-inner-schema",
    description: "delivers a record's inner payload without checking it against its type's schema",
    edits: [{ file: CLIENT, find: 'if (!check.ok) throw new ProtocolError("INVALID_MESSAGE", `${record.type} payload', replace: 'if (!check.ok && check.ok) throw new ProtocolError("INVALID_MESSAGE", `${record.type} payload' }],
    catchers: ["client.records.inner-schema-violation"],
    expected: /^ERROR INVALID_MESSAGE/,
  },
  {
    name: "no-ack-for-refused",
    description: "acknowledges only the data records it takes, so the server keeps re-sending one it refused",
    edits: [
      { file: CLIENT, find: "if (DATA_TYPES.has(record.type)) this.scheduleAck();", replace: "" },
      { file: CLIENT, find: '      case "TASK_RESPONSE":\n        return this.receiver.onData(record, inner, session.version);', replace: '      case "TASK_RESPONSE":\n        this.scheduleAck();\n        return this.receiver.onData(record, inner, session.version);' },
    ],
    catchers: ["client.records.inner-schema-violation"],
    expected: /^an ACK covering the refused record's seq/,
  },
  {
    name: "takes-replays",
    description: "takes a record whose seq is not above the last (de-duplicating by message_id only, and silently)",
    edits: [{ file: SESSION, find: "if (record.seq <= this.lastRecvSeq) throw", replace: "if (record.seq < 0) throw" }],
    catchers: ["client.replay.replayed-record"],
    expected: /^ERROR REPLAY_DETECTED/,
  },
  {
    name: "takes-seq-gaps",
    description: "takes a record whose seq skips numbers",
    edits: [{ file: SESSION, find: "if (record.seq > this.lastRecvSeq + 1) throw", replace: "if (record.seq > Number.MAX_SAFE_INTEGER) throw" }],
    catchers: ["client.replay.seq-gap"],
    expected: /^ERROR INVALID_STATE/,
  },
  {
    name: "strict-schemas",
    description: "checks envelopes against the strict schemas, so an unknown member is INVALID_MESSAGE",
    edits: [{ file: CLIENT, find: "const check = validateEnvelope(version, message, { strict: false });", replace: "const check = validateEnvelope(version, message, { strict: true });" }],
    catchers: ["client.envelope.unknown-members-ignored"],
    expected: /^the client delivers .* next \(unknown members are ignored/,
  },
  {
    name: "records-checked-after-seq",
    description: "skips the schema check of records once ready, leaving their envelopes to the session's own checks",
    edits: [{ file: CLIENT, find: "if (!check.ok) throw new ProtocolError(\"INVALID_MESSAGE\", `${check.path} ${check.error}`, readableMessageId(message));", replace: "if (!check.ok && this.state !== \"ready\") throw new ProtocolError(\"INVALID_MESSAGE\", `${check.path} ${check.error}`, readableMessageId(message));" }],
    catchers: ["client.envelope.unknown-type", "client.envelope.schema-checked-first"],
    expected: /^ERROR INVALID_MESSAGE|^the client delivers .* next/,
  },
  {
    name: "lenient-base64",
    description: "decodes base64url without checking the unused bits, and skips the schema check of record envelopes (trusting the AEAD)",
    edits: [
      { file: ENCODING, find: "return bytes.toString(\"base64url\") === text ? bytes : null;", replace: "return bytes.toString(\"base64url\").slice(0, -1) === text.slice(0, -1) ? bytes : null;" },
      { file: CLIENT, find: "if (!check.ok) throw new ProtocolError(\"INVALID_MESSAGE\", `${check.path} ${check.error}`, readableMessageId(message));", replace: "if (!check.ok && this.state !== \"ready\") throw new ProtocolError(\"INVALID_MESSAGE\", `${check.path} ${check.error}`, readableMessageId(message));" },
    ],
    catchers: ["client.envelope.non-canonical-base64"],
    expected: /^ERROR INVALID_MESSAGE/,
  },
  {
    name: "reads-binary-frames",
    description: "reads a binary frame as if it were text",
    edits: [{ file: CLIENT, find: 'if (isBinary) throw new ProtocolError("INVALID_MESSAGE"', replace: 'if (isBinary && !isBinary) throw new ProtocolError("INVALID_MESSAGE"' }],
    catchers: ["client.frames.not-json-and-binary"],
    expected: /^ERROR INVALID_MESSAGE \(a binary frame/,
  },
  {
    name: "crashes-on-non-json",
    description: "treats a frame that is not JSON as its own failure (INTERNAL_ERROR, close 1011)",
    edits: [{ file: CLIENT, find: 'throw new ProtocolError("INVALID_MESSAGE", "frame is not JSON");', replace: 'throw new Error("frame is not JSON");' }],
    catchers: ["client.frames.not-json-and-binary"],
    expected: /^ERROR INVALID_MESSAGE \(a text frame that is not JSON/,
  },
  {
    name: "wrong-retryable",
    description: "sends ERROR with retryable true whatever the registry says",
    edits: [{ file: ERRORS, find: "retryable: this.row.retryable };", replace: "retryable: true };" }],
    catchers: ["client.records.foreign-session"],
    expected: /carries the registry's retryable/,
  },
  {
    name: "leaks-key-in-error",
    description: "puts its receiving traffic key into the message of an ERROR about a foreign session",
    edits: [{ file: SESSION, find: '"record session_id is not this session\'s"', replace: '`record session_id is not this session\'s (key ${this.recvKeys.key.toString("base64url")})`' }],
    catchers: ["client.records.foreign-session"],
    expected: /^no ERROR message carries a key/,
  },
];
