/**
 * Faulty clients of the resume cases (client.resume.*, spec §8 and delivery across a drop): each
 * removes ONE duty of spec §8, §9 or §13 from a scratch copy of the reference client, and the
 * cases that must catch it are named with the check they fail on.
 */
import type { FaultyClient } from "./faulty-clients.ts";

const CLIENT = "src/client/peer-client.ts";
const SESSION = "src/session/session.ts";
const RESUME = "src/session/resume-initiator.ts";

export const RESUME_FAULTY_CLIENTS: readonly FaultyClient[] = [
  {
    name: "handshakes-on-resume-connection",
    description: "opens the reconnection with session_id but sends HANDSHAKE_INIT as its first frame instead of SESSION_RESUME",
    edits: [{ file: CLIENT, find: "if (resumeId && this.session) {", replace: 'if (resumeId && this.session && resumeId === "") {' }],
    catchers: ["client.resume.resume-request"],
    expected: /^SESSION_RESUME as the first frame of a connection opened with session_id/,
  },
  {
    name: "resumes-without-session-id-query",
    description: "sends SESSION_RESUME on a connection to /ws/v1/peers without the session_id query parameter",
    edits: [{ file: "src/client/open-transport.ts", find: 'if (resumeSessionId) url.searchParams.set("session_id", resumeSessionId);', replace: "void resumeSessionId;" }],
    catchers: ["client.resume.resume-request"],
    expected: /^a connection that resumes is opened with the session_id query parameter/,
  },
  {
    name: "binder-under-wrong-secret",
    description: "computes the resume binder under an all-zero secret instead of rs",
    edits: [{ file: RESUME, find: "resumeBinder(resumptionSecret,", replace: "resumeBinder(Buffer.alloc(32)," }],
    catchers: ["client.resume.resume-request"],
    expected: /^SESSION_RESUME's binder/,
  },
  {
    name: "last-rx-seq-one-short",
    description: "reports in SESSION_RESUME a last_rx_seq one below the highest seq it received",
    edits: [{ file: CLIENT, find: "lastRxSeq: this.session.acknowledgeableSeq,", replace: "lastRxSeq: this.session.acknowledgeableSeq - 1," }],
    catchers: ["client.resume.resume-request"],
    expected: /^last_rx_seq \d+: the highest seq/,
  },
  {
    name: "no-resend-after-resume",
    description: "forgets, on a resume, the data records the server's last_rx_seq does not cover instead of re-sending them",
    edits: [{ file: SESSION, find: "this.queued.push(...this.takeUndelivered());", replace: "this.takeUndelivered();" }],
    catchers: ["client.resume.resend-unacknowledged", "client.resume.generated-cuts"],
    expected: /^the client goes on with the scenario: echo request/,
  },
  {
    name: "resends-covered-records",
    description: "ignores the server's last_rx_seq on a resume and re-sends every record no ACK covered",
    edits: [{ file: SESSION, find: "    this.acknowledge(peerLastRxSeq);\n", replace: "" }],
    catchers: ["client.resume.resend-unacknowledged", "client.resume.generated-cuts"],
    expected: /^each echo request answered exactly once/,
  },
  {
    name: "numbering-continues-after-resume",
    description: "goes on numbering its records after a resume instead of starting at 0",
    edits: [{ file: SESSION, find: "    this.nextSendSeq = 0;\n", replace: "" }],
    catchers: ["client.resume.resend-unacknowledged"],
    expected: /^the client's first record after the resume has seq 0/,
  },
  {
    name: "keeps-resumption-secret",
    description: "keeps the handshake's resumption secret after a resume instead of the one the resume derived",
    edits: [{ file: SESSION, find: "    this.resumptionSecret = fresh.resumptionSecret;\n", replace: "" }],
    catchers: ["client.resume.second-resume-new-secret"],
    expected: /^the second resume's binder verifies under the rs derived from the first resume/,
  },
  {
    name: "skips-resume-finished",
    description: "takes a READY resume answer without verifying its finished",
    edits: [{ file: RESUME, find: "if (!finished || !constantTimeEqual(finished, resumeFinished(k, h2))) throw", replace: "if (!finished) throw" }],
    catchers: ["client.resume.ready-finished-wrong"],
    expected: /^the client refuses SESSION_RESUME_ACK READY/,
  },
  {
    name: "changes-offer-after-refusal",
    description: "offers fewer capabilities in the handshake that follows a refused resume",
    edits: [{ file: CLIENT, find: "      this.resumeFlow = undefined;\n      this.startHandshake(transport);", replace: '      this.resumeFlow = undefined;\n      (this.options as { capabilities?: string[] }).capabilities = ["websocket", "http", "chunking", "events"];\n      this.startHandshake(transport);' }],
    catchers: ["client.resume.refused-expired", "client.resume.refused-not-found", "client.resume.refused-error"],
    expected: /^the new HANDSHAKE_INIT offers the same versions and capabilities/,
  },
  {
    name: "gives-up-after-refusal",
    description: "ends the session when a resume is refused instead of running a new handshake",
    edits: [{ file: CLIENT, find: "      this.resumeFlow = undefined;\n      this.startHandshake(transport);", replace: '      this.resumeFlow = undefined;\n      this.shutdown(new LocalError("CONNECTION_CLOSED", `resume ${status}`));' }],
    catchers: ["client.resume.refused-expired", "client.resume.refused-not-found", "client.resume.refused-error"],
    expected: /^the client runs a new handshake after status/,
  },
  {
    name: "ignores-session-lifetime",
    description: "never takes its session as expired, whatever lifetime_ms said",
    edits: [{ file: SESSION, find: "return now >= this.expiresAt; // PP-SES-012", replace: "return now < 0;" }],
    catchers: ["client.resume.session-lifetime"],
    expected: /^no record under a session after its lifetime_ms/,
  },
  {
    name: "retransmit-window-off-by-one",
    description: "keeps one data record more unacknowledged than the retransmit_buffer the server advertised",
    edits: [{ file: CLIENT, find: "session.drainQueue(window)", replace: "session.drainQueue(window + 1)" }],
    catchers: ["client.resume.retransmit-buffer"],
    expected: /^the client never has more than retransmit_buffer/,
  },
  {
    name: "keeps-dead-connection-open",
    description: "resumes on a new connection when the old one fell silent, without closing the old one",
    edits: [{ file: CLIENT, find: 'this.transport.close(4002, "HEARTBEAT_TIMEOUT");', replace: 'this.onTransportClose(this.transport, 4002, "HEARTBEAT_TIMEOUT");' }],
    catchers: ["client.resume.one-live-connection"],
    expected: /^at most one live connection per session/,
  },
  {
    name: "constant-reconnect-delay",
    description: "waits the same delay before every reconnection attempt (no exponential backoff)",
    edits: [{ file: "src/client/backoff.ts", find: "options.initialDelayMs * 2 ** Math.min(attempt, 30)", replace: "options.initialDelayMs" }],
    catchers: ["client.resume.reconnect-backoff"],
    expected: /^reconnection delays grow exponentially/,
  },
];
