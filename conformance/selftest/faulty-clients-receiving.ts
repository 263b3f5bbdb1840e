/**
 * Faulty clients for the client-as-receiver cases of delivery, capabilities, errors and heartbeat
 * (conformance/src/client-mode/cases/{delivery,capabilities,errors,heartbeat}.ts): each gets one
 * duty of a receiving client wrong.
 */
import type { FaultyClient } from "./faulty-clients.ts";

const CLIENT = "src/client/peer-client.ts";
const RECEIVER = "src/client/receiver.ts";
const SESSION = "src/session/session.ts";

export const RECEIVING_FAULTY_CLIENTS: readonly FaultyClient[] = [
  {
    name: "no-dedup",
    description: "delivers every data record it opens, duplicates included",
    edits: [{ file: RECEIVER, find: "    if (!this.firstDelivery(message.sender_id, message.message_id)) return; // PP-DLV-003", replace: "" }],
    catchers: ["client.delivery.once-in-order"],
    expected: /^the client delivers .* next \(the third message/,
  },
  {
    name: "slow-acks",
    description: "acknowledges 1.5 s after a data record arrives",
    edits: [{ file: CLIENT, find: "    afterAckWait(this.session?.peerLimits?.ack_delay_ms ?? DEFAULT_LIMITS.ack_delay_ms, () => {\n      this.ackScheduled = false;", replace: "    setTimeout(() => {\n      this.ackScheduled = false;" }, { file: CLIENT, find: '      this.sendRecord("ACK", { ack: session.acknowledgeableSeq }); // PP-SES-021\n    });', replace: '      this.sendRecord("ACK", { ack: session.acknowledgeableSeq }); // PP-SES-021\n    }, 1500);' }],
    catchers: ["client.delivery.ack-within-delay"],
    expected: /^an ACK covering seq \d+ within/,
  },
  {
    name: "dedup-by-message-id",
    description: "de-duplicates by message_id alone, whoever sent it",
    edits: [{ file: RECEIVER, find: "const key = `${senderId}\\u0000${messageId}`;", replace: "const key = `${senderId.length < 0 ? senderId : \"\"}\\u0000${messageId}`;" }],
    catchers: ["client.delivery.same-id-other-sender"],
    expected: /^the client delivers .* from agent-b.routed too/,
  },
  {
    name: "pong-with-new-id",
    description: "answers PING with a PONG carrying a ping_id of its own",
    edits: [{ file: CLIENT, find: 'this.sendRecord("PONG", { ping_id: (inner as { ping_id: string }).ping_id }); // PP-DLV-010', replace: 'this.sendRecord("PONG", { ping_id: toBase64Url(randomBytes(8)) });' }],
    catchers: ["client.delivery.answers-ping"],
    expected: /^PONG first-ping, then PONG second-ping/,
  },
  {
    name: "exchange-unanswered",
    description: "takes a CAPABILITY_EXCHANGE without answering it",
    edits: [{ file: CLIENT, find: "    if (exchange.reply === true) return;\n", replace: "    return;\n" }],
    catchers: ["client.capabilities.exchange-answered"],
    expected: /^a CAPABILITY_EXCHANGE record in answer/,
  },
  {
    name: "exchange-any-capabilities",
    description: "answers a CAPABILITY_EXCHANGE whatever capabilities it names",
    edits: [{ file: CLIENT, find: "if (named.size !== session.capabilities.length || session.capabilities.some((c) => !named.has(c))) throw", replace: "if (named.size < 0) throw" }],
    catchers: ["client.capabilities.exchange-other-capabilities"],
    expected: /^ERROR INVALID_MESSAGE/,
  },
  {
    name: "answers-errors",
    description: "answers an ERROR record it receives with an ERROR INVALID_STATE of its own",
    edits: [{ file: CLIENT, find: "      case \"ERROR\":\n        return this.onRemoteError(inner as", replace: "      case \"ERROR\":\n        this.sendRecord(\"ERROR\", { code: \"INVALID_MESSAGE\", message: \"unexpected ERROR\", retryable: false, related_message_id: record.message_id });\n        return this.onRemoteError(inner as" }],
    catchers: ["client.errors.error-not-answered"],
    expected: /^no ERROR in answer to ERROR/,
  },
  {
    name: "no-idle-ping",
    description: "never sends PING of its own",
    edits: [{ file: CLIENT, find: 'if (now - this.lastSentAt >= limits.ping_interval_ms) this.sendRecord("PING"', replace: 'if (now - this.lastSentAt < 0) this.sendRecord("PING"' }],
    catchers: ["client.heartbeat.pings-when-idle"],
    expected: /^PING records while idle/,
  },
  {
    name: "heartbeat-ignores-traffic",
    description: "counts the heartbeat timeout from READY, not from the last frame received",
    edits: [{ file: CLIENT, find: "    if (transport !== this.transport) return;\n    this.lastReceivedAt = Date.now();", replace: "    if (transport !== this.transport) return;" }],
    catchers: ["client.heartbeat.timeout"],
    expected: /^not before 1000 ms of silence/,
  },
  {
    name: "skips-record-signatures",
    description: "selects message-signatures but does not verify the server's record signatures",
    edits: [{ file: SESSION, find: "    if (this.signRecords) {\n      const signature", replace: "    if (this.signRecords && record.signature === undefined) {\n      const signature" }],
    catchers: ["client.capabilities.message-signatures"],
    expected: /^the client aborts with AUTHENTICATION_FAILED/,
  },
  {
    name: "unsigned-records",
    description: "selects message-signatures but sends its own records unsigned",
    edits: [{ file: SESSION, find: "    if (this.signRecords && this.options.identity) record.signature =", replace: "    if (this.signRecords && !this.options.identity) record.signature =" }],
    catchers: ["client.capabilities.message-signatures"],
    expected: /record signature|carries a signature/,
  },
];
