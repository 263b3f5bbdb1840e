/**
 * Faulty clients of the transport cases (client.transport, spec §4): each removes ONE duty of the
 * reference client's transports, its HTTP binding (reference/src/client/http-transport.ts), its
 * transport order (open-transport.ts) or the replay window it applies over HTTP (session.ts).
 */
import type { FaultyClient } from "./faulty-clients.ts";

const CLIENT = "src/client/peer-client.ts";
const SESSION = "src/session/session.ts";
const HTTP = "src/client/http-transport.ts";
const OPEN = "src/client/open-transport.ts";

const POST = 'const response = await fetch(this.baseUrl + path, { method: "POST", headers: this.headers(), body: text });';

export const FAULTY_HTTP_CLIENTS: readonly FaultyClient[] = [
  {
    name: "http-body-not-json",
    description: "POSTs its envelopes over HTTP as text/plain instead of application/json",
    edits: [{ file: HTTP, find: 'return { "content-type": "application/json",', replace: 'return { "content-type": "text/plain",' }],
    catchers: ["client.transport.http-only"],
    expected: /^POST \/peers\/handshake with an application\/json body/,
  },
  {
    name: "no-http-fallback",
    description: "under WEBSOCKET_FIRST tries the WebSocket only, never the HTTP binding",
    edits: [{ file: OPEN, find: '    default:\n      return ["websocket", "http"];', replace: '    default:\n      return ["websocket"];' }],
    catchers: ["client.transport.websocket-first-falls-back"],
    expected: /^the client connects/,
  },
  {
    name: "http-before-websocket",
    description: "under WEBSOCKET_FIRST tries the HTTP binding first, while the WebSocket works",
    edits: [{ file: OPEN, find: '    default:\n      return ["websocket", "http"];', replace: '    default:\n      return ["http", "websocket"];' }],
    catchers: ["client.transport.websocket-first-stays-on-websocket"],
    expected: /^with the upgrade working, the client connects to \/ws\/v1\/peers/,
  },
  {
    name: "retries-refused-upgrade",
    description: "sends the same WebSocket upgrade again after it was answered with a 4xx, before falling back",
    edits: [{ file: OPEN, find: '    default:\n      return ["websocket", "http"];', replace: '    default:\n      return ["websocket", "websocket", "http"];' }],
    catchers: ["client.transport.no-retry-after-4xx.upgrade-404"],
    expected: /^the client does not send GET \/ws\/v1\/peers again unchanged/,
  },
  {
    name: "http-no-acks",
    description: "sends no ACK records over the HTTP binding (it relies on the poll's after instead)",
    edits: [{ file: CLIENT, find: "    if (this.ackScheduled) return;", replace: '    if (this.ackScheduled || this.transportKind === "http") return;' }],
    catchers: ["client.transport.acks-polled-records"],
    expected: /^an ACK record covering seq \d+ POSTed to \/peers\/message/,
  },
  {
    name: "acks-highest-seq",
    description: "acknowledges the highest seq received instead of the highest up to which every record arrived",
    edits: [{ file: SESSION, find: "let through = this.refusedFrom === null ? this.receivedThrough : Math.min(this.receivedThrough, this.refusedFrom - 1);", replace: "let through = this.refusedFrom === null ? this.lastRecvSeq : Math.min(this.lastRecvSeq, this.refusedFrom - 1);" }],
    catchers: ["client.transport.ack-covers-received-prefix"],
    expected: /^ACK records covering seq 1 and not 3/,
  },
  {
    name: "http-drops-late-records",
    description: "drops a polled record whose seq is below the highest it has polled, as its HTTP transport did before (a record queued late is lost)",
    edits: [{ file: HTTP, find: "for (const record of records) this.deliver(JSON.stringify(record));", replace: "for (const record of records) if (record.seq > Math.max(this.receivedThrough, ...this.receivedAbove)) this.deliver(JSON.stringify(record));" }],
    catchers: ["client.transport.ack-covers-received-prefix"],
    expected: /^an ACK covering seq 3 once seq 2 arrived/,
  },
  {
    name: "http-strict-order",
    description: "over HTTP applies the WebSocket's strict order (seq = last + 1) instead of the replay window",
    edits: [{ file: CLIENT, find: 'const inner = session.open(record, this.transportKind === "http" ? "window" : "stream");', replace: 'const inner = session.open(record, "stream");' }],
    catchers: ["client.transport.ack-covers-received-prefix"],
    expected: /^an ACK (record for the polled seq 1 and 3|covering seq 3 once seq 2 arrived)/,
  },
  {
    name: "http-accepts-replays",
    description: "over HTTP takes a record whose seq it already took",
    edits: [{ file: SESSION, find: "} else if (record.seq <= this.lastRecvSeq - replayWindow || this.windowSeen?.has(record.seq) === true) {", replace: "} else if (record.seq <= this.lastRecvSeq - replayWindow) {" }],
    catchers: ["client.transport.replay-window"],
    expected: /^the replayed seq 1 refused with an ERROR REPLAY_DETECTED/,
  },
  {
    name: "http-no-window-floor",
    description: "over HTTP takes any seq it has not seen, however far below the highest it took",
    edits: [{ file: SESSION, find: "} else if (record.seq <= this.lastRecvSeq - replayWindow || this.windowSeen?.has(record.seq) === true) {", replace: "} else if (this.windowSeen?.has(record.seq) === true) {" }],
    catchers: ["client.transport.replay-window"],
    expected: /^seq \d+, \d+ below the highest seq taken \(\d+\), refused with REPLAY_DETECTED/,
  },
  {
    name: "refuses-records-silently",
    description: "discards a record it refuses without answering it with an ERROR record",
    edits: [{ file: CLIENT, find: "    if (transport === this.transport) this.sendError(transport, failure);\n", replace: "" }],
    catchers: ["client.transport.replay-window"],
    expected: /^the replayed seq 1 refused with an ERROR REPLAY_DETECTED/,
  },
  {
    name: "retries-4xx-post",
    description: "sends a POST answered with a 4xx once more, unchanged",
    edits: [{ file: HTTP, find: POST, replace: `let response = await fetch(this.baseUrl + path, { method: "POST", headers: this.headers(), body: text });\n        if (response.status >= 400 && response.status < 500) response = await fetch(this.baseUrl + path, { method: "POST", headers: this.headers(), body: text });` }],
    catchers: ["client.transport.no-retry-after-4xx.message-400", "client.transport.no-retry-after-4xx.message-413"],
    expected: /^the client does not send POST \/peers\/message again unchanged/,
  },
  {
    name: "polls-on-after-4xx",
    description: "goes on polling, unchanged, after a poll answered with a 4xx",
    edits: [{ file: HTTP, find: 'if (response.status < 500) return this.close(1000, "poll refused"); // PP-TRN-013: a 4xx is final', replace: "void 0;" }],
    catchers: ["client.transport.no-retry-after-4xx.poll-404"],
    expected: /^the client does not send GET \/peers\/poll/,
  },
];
