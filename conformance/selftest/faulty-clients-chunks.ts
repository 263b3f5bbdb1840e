/**
 * Faulty clients of spec §10, Chunking (issue 14): each removes ONE check or duty of the reference
 * client as a receiver or a sender of chunks, and names the client.chunks cases that must catch it.
 */
import type { FaultyClient } from "./faulty-clients.ts";

const CHUNKING = "src/chunking.ts";
const RECEIVER = "src/client/receiver.ts";
const CLIENT = "src/client/peer-client.ts";
const ERRORS = "src/errors.ts";

const DELIVERS = /^the client delivers the chunked message once, whole/;
const ANSWERS_CHUNK_ERROR = /^the client answers CHUNK_ERROR naming the chunk_id/;
const SENDS_AS_SPEC = /^what the client sends follows spec §10 and §12/;

export const CHUNK_FAULTY_CLIENTS: readonly FaultyClient[] = [
  {
    name: "delivers-chunked-under-record-id",
    description: "delivers a reassembled message under the message_id of the record that completed it, not its chunk_id",
    edits: [{ file: RECEIVER, find: "message = { message_id: whole.message_id, type: whole.type,", replace: "message = { message_id: record.message_id, type: whole.type," }],
    catchers: ["client.chunks.delivered-whole-after-last"],
    expected: DELIVERS,
  },
  {
    name: "duplicate-chunk-is-a-conflict",
    description: "takes every repeated sequence_number for a conflicting one, identical or not, and discards the message",
    edits: [{ file: CHUNKING, find: "if (!existing.equals(data)) fail(", replace: "if (existing) fail(" }],
    catchers: ["client.chunks.identical-duplicate-ignored"],
    expected: DELIVERS,
  },
  {
    name: "skips-chunk-digest",
    description: "delivers a reassembled message without comparing its digest",
    edits: [{ file: CHUNKING, find: "if (toBase64Url(sha256(bytes)) !== partial.digest) fail(", replace: "if (bytes.length < 0) fail(" }],
    catchers: ["client.chunks.digest-mismatch"],
    expected: ANSWERS_CHUNK_ERROR,
  },
  {
    name: "skips-chunk-total-size",
    description: "delivers a reassembled message without comparing its length with total_size",
    edits: [{ file: CHUNKING, find: "if (bytes.length !== partial.total) fail(", replace: "if (bytes.length < 0) fail(" }],
    catchers: ["client.chunks.total-size-mismatch"],
    expected: ANSWERS_CHUNK_ERROR,
  },
  {
    name: "max-message-bytes-off-by-one",
    description: "refuses a chunked message whose total_size equals max_message_bytes",
    edits: [{ file: CHUNKING, find: "if (chunk.total_size > this.limits.max_message_bytes) fail(", replace: "if (chunk.total_size >= this.limits.max_message_bytes) fail(" }],
    catchers: ["client.chunks.over-max-message-bytes"],
    expected: DELIVERS,
  },
  {
    name: "reassembles-under-own-limits",
    description: "reassembles under its own default max_message_bytes and chunk_timeout_ms instead of those the server advertised",
    edits: [{ file: CLIENT, find: "      this.receiver.useLimits(session.peerLimits); // chunks are reassembled under the server's limits\n", replace: "" }],
    catchers: ["client.chunks.over-max-message-bytes", "client.chunks.incomplete-times-out"],
    expected: ANSWERS_CHUNK_ERROR,
  },
  {
    name: "silent-on-conflicting-chunk",
    description: "keeps the first of two chunks with one sequence_number and different content without answering CHUNK_ERROR",
    edits: [{ file: CHUNKING, find: "if (!existing.equals(data)) fail(", replace: "if (!existing.equals(data)) return null; if (existing.length < 0) fail(" }],
    catchers: ["client.chunks.conflicting-duplicate"],
    expected: ANSWERS_CHUNK_ERROR,
  },
  {
    name: "skips-chunk-agreement",
    description: "does not check that the chunks of one chunk_id agree on total_size, digest and inner_type (it keeps the first's)",
    edits: [{ file: CHUNKING, find: "if (partial.total !== chunk.total_size || partial.digest !== chunk.digest || partial.innerType !== chunk.inner_type) fail(", replace: "if (partial.total < 0) fail(" }],
    catchers: ["client.chunks.chunks-disagree"],
    expected: ANSWERS_CHUNK_ERROR,
  },
  {
    name: "skips-chunk-recipient",
    description: "does not compare the recipient_id of the records that carry one chunk_id",
    edits: [{ file: RECEIVER, find: "this.reassembler.add(chunk, Date.now(), record.recipient_id)", replace: "this.reassembler.add(chunk, Date.now())" }],
    catchers: ["client.chunks.recipient-disagrees"],
    expected: ANSWERS_CHUNK_ERROR,
  },
  {
    name: "skips-bytes-over-total-size",
    description: "does not notice the bytes of a chunk_id passing its total_size until the last chunk",
    edits: [{ file: CHUNKING, find: "if (partial.received > partial.total) fail(", replace: "if (partial.received < 0) fail(" }],
    catchers: ["client.chunks.bytes-exceed-total-size"],
    expected: ANSWERS_CHUNK_ERROR,
  },
  {
    name: "never-expires-chunks",
    description: "keeps an incomplete chunked message forever: no chunk_timeout_ms timer",
    edits: [{ file: RECEIVER, find: "      } finally {\n        this.scheduleExpiry();\n      }", replace: "      } finally {\n        void 0;\n      }" }],
    catchers: ["client.chunks.incomplete-times-out"],
    expected: ANSWERS_CHUNK_ERROR,
  },
  {
    name: "timeout-error-names-nothing",
    description: "answers the chunk timeout with a CHUNK_ERROR without the chunk_id in related_message_id",
    edits: [{ file: RECEIVER, find: "incomplete after ${this.limits.chunk_timeout_ms} ms; discarded`, chunkId)", replace: "incomplete after ${this.limits.chunk_timeout_ms} ms; discarded`)" }],
    catchers: ["client.chunks.incomplete-times-out"],
    expected: ANSWERS_CHUNK_ERROR,
  },
  {
    name: "keeps-chunks-it-refused-out-of-order",
    description: "answers a chunk out of order with CHUNK_ERROR but keeps it, and later delivers the message",
    edits: [
      {
        file: CHUNKING,
        find: "    partial.received += data.length;\n    if (partial.received > partial.total)",
        replace: '    if (chunk.sequence_number !== partial.pieces.size) {\n      partial.received += data.length;\n      partial.pieces.set(chunk.sequence_number, data);\n      throw new ProtocolError("CHUNK_ERROR", "out of order", chunk.chunk_id);\n    }\n    partial.received += data.length;\n    if (partial.received > partial.total)',
      },
    ],
    catchers: ["client.chunks.out-of-order"],
    expected: /^the client either delivers the message once, whole/,
  },
  {
    name: "skips-reassembled-schema",
    description: "delivers a reassembled message without checking it against the schema of its inner_type",
    edits: [{ file: RECEIVER, find: 'if (!check.ok) throw new ProtocolError("INVALID_MESSAGE", `reassembled', replace: 'if (check.ok === !check.ok) throw new ProtocolError("INVALID_MESSAGE", `reassembled' }],
    catchers: ["client.chunks.reassembled-schema-violation"],
    expected: /^the client answers INVALID_MESSAGE naming the chunk_id/,
  },
  {
    name: "chunks-at-own-default",
    description: "chunks at its own default max_chunk_bytes instead of the one the server advertised",
    edits: [{ file: CLIENT, find: "const maxChunk = this.session?.peerLimits?.max_chunk_bytes ?? DEFAULT_LIMITS.max_chunk_bytes;", replace: "const maxChunk = DEFAULT_LIMITS.max_chunk_bytes;" }],
    catchers: ["client.chunks.sender-chunks-over-server-limit", "client.chunks.large-echo-in-chunks"],
    expected: SENDS_AS_SPEC,
  },
  {
    name: "chunks-what-fits",
    description: "chunks a message whose JCS(payload) is exactly max_chunk_bytes",
    edits: [{ file: CHUNKING, find: "if (jsonBytes <= maxChunkBytes) return null;", replace: "if (jsonBytes < maxChunkBytes) return null;" }],
    catchers: ["client.chunks.sender-chunks-over-server-limit"],
    expected: SENDS_AS_SPEC,
  },
  {
    name: "is-last-on-every-chunk",
    description: "sets is_last on every chunk it sends",
    edits: [{ file: CHUNKING, find: "is_last: offset + maxChunkBytes >= bytes.length,", replace: "is_last: true," }],
    catchers: ["client.chunks.large-echo-in-chunks"],
    expected: SENDS_AS_SPEC,
  },
  {
    name: "error-with-wrong-retryable",
    description: "sends every ERROR with the opposite of the registry's retryable",
    edits: [{ file: ERRORS, find: "retryable: this.row.retryable", replace: "retryable: !this.row.retryable" }],
    catchers: ["client.chunks.digest-mismatch"],
    expected: SENDS_AS_SPEC,
  },
];
