/**
 * Faulty clients for the client-as-sender cases (conformance/src/client-mode/cases/sending.ts):
 * each gets one thing wrong in what the client sends or how it seals it.
 */
import type { FaultyClient } from "./faulty-clients.ts";

const SESSION = "src/session/session.ts";
const INITIATOR = "src/handshake/initiator.ts";
const RECORD = "src/record.ts";
const KEY_SCHEDULE = "src/key-schedule.ts";

export const SENDING_FAULTY_CLIENTS: readonly FaultyClient[] = [
  {
    name: "timestamps-in-seconds",
    description: "stamps its records in seconds since the epoch",
    edits: [{ file: SESSION, find: "      timestamp: this.options.now(),\n      seq,", replace: "      timestamp: Math.floor(this.options.now() / 1000),\n      seq," }],
    catchers: ["client.sending.envelopes-as-specified"],
    expected: /timestamp is integer milliseconds since the epoch/,
  },
  {
    name: "message-id-per-session",
    description: "gives all its records one message id, a stem of the session id",
    edits: [{ file: SESSION, find: "      message_id: fields.message_id ?? newMessageId(),", replace: "      message_id: fields.message_id ?? `m${this.id.slice(5, 17)}`," }],
    catchers: ["client.sending.envelopes-as-specified"],
    expected: /^no message_id used twice in the session/,
  },
  {
    name: "nonce-reused",
    description: "sends CHALLENGE_RESPONSE with the nonce of its HANDSHAKE_INIT",
    edits: [{ file: INITIATOR, find: "      nonce: entropy.nonce(),\n      type: \"CHALLENGE_RESPONSE\",", replace: "      nonce: (this as unknown as { initNonce: string }).initNonce,\n      type: \"CHALLENGE_RESPONSE\"," }, { file: INITIATOR, find: "    this.transcript.mixHash(init);", replace: "    this.transcript.mixHash(init);\n    (this as unknown as { initNonce: unknown }).initNonce = init.nonce;" }],
    catchers: ["client.sending.envelopes-as-specified"],
    expected: /carries a fresh nonce/,
  },
  {
    name: "aad-not-canonical",
    description: "authenticates the record header as JSON.stringify gives it, not as JCS",
    edits: [{ file: RECORD, find: "const aad = recordAad(header);", replace: 'const aad = Buffer.from(JSON.stringify(without(header, "payload", "signature")), "utf8");' }],
    catchers: ["client.sending.sealed-as-specified"],
    expected: /^SESSION_CONFIRM as a record that decrypts|^every record opens/,
  },
  {
    name: "nonce-off-by-one",
    description: "seals record seq n under the nonce of seq n + 1",
    edits: [{ file: RECORD, find: "recordNonce(keys.iv, header.seq), plaintext, aad)", replace: "recordNonce(keys.iv, header.seq + 1), plaintext, aad)" }],
    catchers: ["client.sending.sealed-as-specified"],
    expected: /^SESSION_CONFIRM as a record that decrypts|^every record opens/,
  },
  {
    name: "iv-from-key-label",
    description: "derives the i2r IV with the label of the i2r key",
    edits: [{ file: KEY_SCHEDULE, find: 'iv: expandLabel(ck, "i2r iv", handshakeHash, 12)', replace: 'iv: expandLabel(ck, "i2r key", handshakeHash, 12)' }],
    catchers: ["client.sending.sealed-as-specified"],
    expected: /^SESSION_CONFIRM as a record that decrypts|^every record opens/,
  },
  {
    name: "transcript-without-nonce",
    description: "absorbs HANDSHAKE_INIT_ACK into the transcript without its nonce",
    edits: [{ file: INITIATOR, find: "const h2 = this.transcript.mixHash(ack);", replace: "const h2 = this.transcript.mixHash({ ...ack, nonce: undefined });" }],
    catchers: ["client.sending.sealed-as-specified"],
    expected: /^fin_I = HMAC\(fk_I, h2\)|^sig_I over/,
  },
];
