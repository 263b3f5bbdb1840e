/**
 * The catalogue of deliberately faulty endpoints of the conformance self-test (DESIGN.md §5, issue
 * #4): each breaks one behaviour, either in the reference's source (a source fault of
 * ./source-faults.ts, applied to a scratch copy of reference/ by ./scratch-reference.ts) or on the
 * wire (a fault of ./fault-proxy.ts in front of a clean reference server). `catchers` are the case ids
 * meant to catch the fault: at least one of them must fail against the endpoint, and each must pass
 * against the same endpoint without the fault.
 */
import type { ProxyFaultName } from "./fault-proxy.ts";
import { FAULTY_CLUSTERS, type ClusterFaultName } from "./faulty-clusters.ts";

export type EmbeddedConfig = {
  limits?: Partial<Record<string, number>>;
  requireToken?: boolean;
  originAllowlist?: string[];
};

export interface FaultyEndpoint {
  /** Unique; the source fault's name, `proxy:` and the proxy fault's name, or `cluster:` and the faulty pair's. */
  name: string;
  kind: "source" | "proxy" | "cluster";
  /** What is broken, with the requirement it breaks. */
  description: string;
  /** Options of the reference server: the configuration the catchers need. */
  embedded?: EmbeddedConfig;
  /** The source fault (kind "source"): a name of SOURCE_FAULTS, applied to a scratch copy of the reference. */
  source?: string;
  /** The proxy fault (kind "proxy"), in front of a clean server configured by `embedded`. */
  proxy?: ProxyFaultName;
  /** The faulty pair of nodes (kind "cluster", ./faulty-clusters.ts), run as TARGET and --peer-target. */
  cluster?: ClusterFaultName;
  /** Case ids meant to catch the fault. */
  catchers: string[];
  /** The catchers wait for protocol timers (cases marked slow): they run with --slow, with the short timers of `embedded.limits`. */
  slow?: boolean;
  /** An Origin the endpoint's allowlist refuses, given to the runner as --forbidden-origin. */
  forbiddenOrigin?: string;
  /** Runs per property for this endpoint (default: the self-test's --runs): a generated scenario needs several to meet the fault. */
  runs?: number;
}

const HEARTBEAT = { ping_interval_ms: 1000, pong_grace_ms: 500 };

/** What scenarios.delivery-history needs to reach every bound quickly (as the embedded default target has). */
const SCENARIO = { limits: { retransmit_buffer: 64, max_send_queue_bytes: 2_097_152 } };
const SCENARIO_RUNS = 25;
const scenario = (endpoint: FaultyEndpoint): FaultyEndpoint => ({ ...endpoint, embedded: { ...endpoint.embedded, ...SCENARIO }, catchers: [...endpoint.catchers, "scenarios.delivery-history"], runs: SCENARIO_RUNS });

const ref = (name: string, description: string, catchers: string[], embedded: EmbeddedConfig = {}, slow?: boolean): FaultyEndpoint => ({
  name,
  kind: "source",
  description,
  source: name,
  ...(Object.keys(embedded).length > 0 ? { embedded } : {}),
  catchers,
  ...(slow ? { slow } : {}),
});

const proxy = (name: ProxyFaultName, description: string, catchers: string[], embedded?: EmbeddedConfig, slow?: boolean): FaultyEndpoint => ({
  name: `proxy:${name}`,
  kind: "proxy",
  description,
  proxy: name,
  ...(embedded ? { embedded } : {}),
  catchers,
  ...(slow ? { slow } : {}),
});

export const FAULTY_ENDPOINTS: readonly FaultyEndpoint[] = [
  // §3 Versioning.
  ref("v11-on-websocket", "accepts a v1.1 handshake on the WebSocket endpoint (PP-VER-009)", ["versioning.v11-refused-on-websocket", "versioning.only-11-offered", "versioning.11-preferred-on-websocket", "handshake.sequence-property"]),
  ref("accept-any-record-version", "accepts a session record whose version differs from the selected one (PP-VER-007)", ["versioning.session-version-mismatch", "errors.mapping-property"]),
  proxy("select-v11", 'selects "1.1" in HANDSHAKE_INIT_ACK on the WebSocket, whatever was offered (PP-VER-003, PP-VER-009)', ["versioning.selects-offered", "versioning.11-preferred-on-websocket", "handshake.sequence-property"]),
  proxy("truncate-offered-versions", "its transcript covers only the first offered version, not HANDSHAKE_INIT as received: a downgrade goes unnoticed (PP-KS-001)", ["versioning.downgrade-detected", "handshake.sequence-property"]),

  // §4.1 WebSocket.
  ref("close-on-invalid-json", "closes the connection after INVALID_MESSAGE (PP-TRN-002, PP-ERR-004)", ["websocket.not-json", "websocket.not-json-in-session", "websocket.not-an-object", "websocket.binary-frame", "errors.mapping-property"]),
  proxy("close-code-1000", "closes with 1000 whatever the error (PP-ERR-003; 1007 for invalid UTF-8)", ["websocket.invalid-utf8", "records.tampered-ciphertext", "handshake.unexpected-first-message", "errors.mapping-property", "handshake.sequence-property"]),

  // §4.3 HTTP binding.
  ref("http-error-always-v12", "answers a failed HTTP request of a v1.1 session with an ERROR of version 1.2 (PP-VER-006)", ["http.capability-exchange-by-version"]),
  ref("http-error-without-related-id", "answers a schema violation over HTTP without the offending message_id in related_message_id (PP-ENV-007)", ["http.error-statuses"]),

  // Mutants that once survived, kept as faults (issue #10).
  ref("chunk-oversize-at-limit", "refuses a chunked message whose total_size is exactly max_message_bytes (PP-CHK-006)", ["chunking.oversize-total"]),
  ref("chunk-accept-after-last", "accepts a chunk that arrives after the last one with a higher sequence_number (PP-CHK-009)", ["chunking.chunk-after-last"]),
  ref("chunk-overflow-at-total", "refuses a chunked message whose bytes reach exactly total_size (PP-CHK-011)", ["chunking.bytes-exceed-total"]),
  ref("chunk-last-below-received", "delivers a chunked message whose last chunk is below one already received, without chunk 0 (PP-CHK-004)", ["chunking.missing-first-chunk"]),
  ref("chunk-complete-one-early", "never delivers a chunked message sent in order: reassembly counts one chunk short (PP-CHK-004)", ["chunking.echo-large", "chunking.identical-duplicate", "chunking.missing-first-chunk"]),
  ref("refuse-every-identity-key", "refuses every identity key, canonical ones included (PP-KS-013)", ["keys.small-order-identity-keys"]),
  ref("skip-token-subject-check", "accepts a handshake whose sender_id or identity key differs from the token's (PP-AUTH-007)", ["auth.token-must-match"]),
  ref("challenge-response-after-rejection", "over HTTP, establishes a session from a CHALLENGE_RESPONSE sent after a rejected one (PP-HS-001)", ["handshake.http-rejected-challenge-response-ends-handshake"]),
  ref("record-version-unchecked-in-session", "accepts a record whose version differs from the session's where the envelope schema did not already refuse it (PP-VER-007)", ["versioning.http-confirm-version-mismatch"]),
  ref("plaintext-not-json-accepted", "does not answer a record whose plaintext is not JSON with INVALID_MESSAGE (PP-KS-010)", ["envelope.inner-not-json"]),

  // §4.4 Discovery.
  proxy("discovery-401", "requires a token for the discovery document (PP-TRN-014)", ["discovery.served-without-token"]),
  proxy("discovery-missing-transports", "serves a discovery document without transports (PP-TRN-014)", ["discovery.schema"]),
  proxy("discovery-wrong-identity-key", "advertises an identity_key it does not use (PP-TRN-016)", ["discovery.identity-key"]),
  ref("discovery-wrong-limits", "advertises limits in discovery that differ from those it enforces (PP-TRN-015)", ["discovery.limits-match-handshake", "limits.frame-at-limit", "limits.rate-limit", "errors.mapping-property"]),

  // §4.3 HTTP binding.
  scenario(ref("echo-corrupts", "answers the echo task with a different result (PP-DLV-009)", ["delivery.echo", "http.handshake-and-records"])),
  proxy("http-refuse-v11", "does not speak v1.1 over the HTTP binding (PP-VER-005)", ["http.v11-handshake"]),
  proxy("http-last-handshake-wins", "correlates an HTTP CHALLENGE_RESPONSE with the latest handshake instead of its session_id (PP-TRN-009)", ["http.handshake-correlation"]),
  proxy("poll-reversed", "returns polled records in decreasing seq order (PP-TRN-010)", ["http.poll-until-acknowledged"]),
  ref("http-session-routes-without-token", "under --require-token, serves POST /peers/message and GET /peers/poll without a token or with another entity's (PP-AUTH-006)", ["auth.required-on-session-routes"], { requireToken: true }),
  ref("http-attach-before-verify", "moves a WebSocket session to the HTTP binding, closing its WebSocket, for a POSTed record that does not decrypt (PP-TRN-019, PP-SES-014, PP-SES-017)", ["http.forged-record-changes-nothing"]),
  ref("http-outbox-unbounded", "queues records for GET /peers/poll past max_send_queue_bytes (PP-LIM-007)", ["http.outbox-bound"]),
  proxy("http-error-status-400", "answers every failed HTTP request with 400 instead of the registry's status (PP-ERR-005, PP-LIM-002)", ["http.error-statuses", "http.body-too-large", "http.replay-window", "errors.mapping-property"]),

  // §4.5, §4.6 Tokens and identity binding.
  proxy("auth-challenge-repeated", "issues the same token challenge again (PP-AUTH-001)", ["auth.challenge"]),
  proxy("token-long-lived", "issues tokens valid for 24 hours (PP-AUTH-003)", ["auth.token"]),
  proxy("auth-verify-replayed", "accepts a token challenge twice (PP-RPL-007)", ["auth.challenge-single-use"]),
  ref("skip-token-signature-check", "issues a token without verifying the challenge signature (PP-AUTH-002)", ["auth.strict-challenge-signature"]),
  ref("token-for-small-order-key", "under --require-token, issues a token for the identity point on the forgery R = identity, S = 0: no key check at the token endpoint, a permissive verifier (PP-KS-014, PP-AUTH-002)", ["keys.identity-point-forgery", "keys.small-order-identity-keys", "auth.strict-challenge-signature"], { requireToken: true }),
  proxy("token-query-refused", "does not accept a token in the token query parameter (PP-AUTH-005)", ["auth.bearer-header-and-query"]),
  proxy("strip-authorization", "ignores the presented token, so a handshake need not match it (PP-AUTH-007)", ["auth.token-must-match"]),
  ref("no-identity-binding", "lets a second identity key take over a bound entity id (PP-AUTH-011)", ["auth.identity-binding"]),
  ref("delivery-bound-one-short", "holds one record less than the retransmit_buffer it advertises (PP-DLV-011, PP-TRN-015)", ["delivery.retransmit-bound"], { limits: { retransmit_buffer: 20, rate_limit_per_minute: 0 } }),
  ref("overflowed-chunk-kept", "keeps the last chunk of a message it refused with BUFFER_OVERFLOW, so the chunk sent again is taken for a duplicate and the message is lost (PP-DLV-013)", ["chunking.refused-last-chunk-resent"], { limits: { retransmit_buffer: 20, rate_limit_per_minute: 0 } }),
  ref("older-handshake-confirms", "confirms an older handshake after a newer session of the entity, which replaces the newer (PP-HS-017)", ["resume.older-handshake-void"]),
  ref("unbounded-delivery-queue", "delivers beyond retransmit_buffer unacknowledged records to a client (PP-DLV-011)", ["delivery.retransmit-bound"], { limits: { retransmit_buffer: 20, rate_limit_per_minute: 0 } }),
  ref("queue-bound-by-count-only", "bounds a recipient's queue by records only, not by max_send_queue_bytes (PP-DLV-014)", ["delivery.queue-bytes", "limits.slow-recipient"]),
  ref("reassembly-unreserved", "takes new chunked messages of a session past max_message_bytes of total_size (PP-CHK-015)", ["chunking.reassembly-bound"]),
  ref("no-buffered-budget", "holds incomplete chunks and queues for all sessions without max_buffered_bytes (PP-LIM-012)", ["limits.buffered-bytes"], { limits: { max_buffered_bytes: 16_777_216 } }),
  ref("ended-session-held", "keeps counting what an ended session held against max_buffered_bytes (PP-LIM-013)", ["limits.buffered-bytes"], { limits: { max_buffered_bytes: 16_777_216 } }),
  ref("no-session-share", "refuses every session once others fill max_buffered_bytes, even one that holds nothing (PP-LIM-012)", ["limits.buffered-bytes"], { limits: { max_buffered_bytes: 16_777_216 } }),
  ref("expired-chunks-held", "keeps counting incomplete chunked messages discarded at chunk_timeout_ms against max_buffered_bytes (PP-LIM-013)", ["limits.expired-chunks-freed"], { limits: { max_buffered_bytes: 16_777_216, chunk_timeout_ms: 8000 } }),
  ref("acknowledged-held", "keeps counting acknowledged data records against max_buffered_bytes until the next message (PP-LIM-013)", ["limits.buffered-bytes"], { limits: { max_buffered_bytes: 16_777_216 } }),
  ref("flush-ignores-drain", "sends a resumed session's whole queue at once, past max_send_queue_bytes of send queue, and cuts the recipient it should deliver to (PP-DLV-014, PP-LIM-007)", ["delivery.queue-bytes"]),
  ref("token-not-required", "accepts upgrades without a token although it requires tokens (PP-AUTH-006)", ["auth.required"], { requireToken: true }),
  { ...ref("no-origin-check", "accepts an upgrade whose Origin is not on its allowlist (PP-AUTH-009)", ["auth.origin-allowlist"], { originAllowlist: ["https://allowed.example"] }), forbiddenOrigin: "https://forbidden.example" },

  // §4.7 TLS.
  proxy("plaintext-off-loopback", "serves plain ws:/http: on a non-loopback address (PP-TRN-017)", ["tls.required-off-loopback"]),
  proxy("tls-1.2-only", "negotiates TLS 1.2 at most (PP-TRN-018)", ["tls.tls13"]),

  // §5 Envelope.
  proxy("add-unknown-member", "adds an unknown member to its plaintext envelopes (PP-ENV-001)", ["envelope.emitted-envelopes-follow-schema"]),
  proxy("strip-nonce", "sends plaintext envelopes without a nonce (PP-ENV-010)", ["envelope.emitted-envelopes-follow-schema", "handshake.fresh-ephemeral-and-challenge"]),
  proxy("duplicate-records", "sends every data record twice, with the same message_id (PP-ENV-006, PP-KS-005)", ["envelope.message-ids-unique", "records.numbered-from-zero"]),
  proxy("strip-related-message-id", "does not name the offending message in related_message_id (PP-ENV-007, PP-ERR-006)", ["envelope.schema-violations", "errors.related-message-id", "errors.mapping-property"]),
  proxy("canonicalize-base64url", "accepts binary values that are not canonical base64url (PP-ENV-004)", ["envelope.non-canonical-base64url", "errors.mapping-property"]),
  proxy("swallow-errors", "ignores bad input silently: no ERROR, no close (PP-ENV-008, PP-KS-010, PP-KS-012, PP-TRN-019, PP-CHK-010, PP-EVT-007)", [
    "envelope.unknown-type",
    "envelope.inner-schema-violation",
    "envelope.inner-not-json",
    "records.foreign-session-id",
    "resume.query-alone-grants-nothing",
    "events.bad-channel-name",
    "chunking.incomplete-timeout",
    "errors.mapping-property",
  ], { limits: { chunk_timeout_ms: 1000 } }),
  proxy("strip-unknown-members", "drops unknown members before hashing the handshake, instead of absorbing them (PP-VER-001, PP-KS-001)", ["envelope.unknown-members-ignored", "handshake.sequence-property"]),
  ref("transcript-not-jcs", "hashes HANDSHAKE_INIT in arrival member order instead of its JCS form (PP-ENV-009)", ["envelope.member-order-and-whitespace", "handshake.sequence-property"]),

  // §6 Handshake.
  proxy("truncate-offered-capabilities", "its transcript covers only the first offered capability, not HANDSHAKE_INIT as received (PP-KS-001)", ["handshake.transcript-binding", "handshake.sequence-property"]),
  proxy("corrupt-responder-signature", "sends a responder signature that does not verify (PP-HS-007, PP-HS-016)", ["handshake.complete"]),
  ref("reuse-session-id", "assigns the same session_id to every handshake (PP-HS-012)", ["handshake.session-id"]),
  proxy("reuse-handshake-values", "reuses its ephemeral key and challenge, and misses an initiator that reflects the ephemeral (PP-HS-003, PP-HS-005)", ["handshake.fresh-ephemeral-and-challenge", "handshake.reflected-ephemeral"]),
  ref("ignore-unexpected-messages", "silently ignores a first message other than HANDSHAKE_INIT or SESSION_RESUME (PP-HS-001)", ["handshake.unexpected-first-message", "errors.mapping-property", "handshake.sequence-property"]),
  ref("ignore-unexpected-mid-handshake", "silently ignores a second, reflected or early message mid-handshake instead of INVALID_STATE (PP-HS-001, PP-HS-014)", ["handshake.init-twice", "handshake.reflected-init-ack", "handshake.reflected-established", "handshake.data-before-confirm", "errors.mapping-property", "handshake.sequence-property"]),
  ref("skip-finished-check", "does not verify the initiator's Finished MAC (PP-HS-008)", ["handshake.wrong-finished", "handshake.sequence-property"]),
  ref("skip-signature-check", "does not verify the initiator's signature (PP-HS-007)", ["handshake.wrong-signature", "handshake.signature-label", "handshake.signature-by-other-key", "keys.small-order-signature-r", "handshake.sequence-property"]),
  ref("skip-confirm-hash-check", "sends READY for a SESSION_CONFIRM with a wrong handshake_hash (PP-HS-009)", ["handshake.wrong-confirm-hash", "handshake.sequence-property"]),
  ref("wrong-close-codes", "closes with 1008 instead of the registry's close code (PP-ERR-003)", ["errors.registry-values", "handshake.confirm-does-not-decrypt", "records.tampered-ciphertext", "records.tampered-aad", "records.wrong-direction-key", "records.wrong-nonce", "errors.mapping-property", "handshake.sequence-property"]),
  ref("no-handshake-timeout", "never times out a handshake (PP-HS-011)", ["handshake.timeout"], { limits: { handshake_timeout_ms: 1000 } }),

  // §7.4 Key and signature validation.
  ref("accept-zero-dh", "continues with an all-zero X25519 shared secret (PP-HS-004)", ["keys.zero-shared-secret", "handshake.sequence-property"]),
  ref("accept-small-order-identity", "accepts small-order identity keys and verifies permissively: the identity-point forgery passes (PP-HS-006, PP-KS-014)", ["keys.identity-point-forgery", "keys.small-order-identity-keys", "handshake.sequence-property"]),
  ref("accept-noncanonical-s", "accepts a signature whose S is not below L (PP-KS-015)", ["keys.non-canonical-signature-s", "handshake.sequence-property"]),

  // §8 Session and resume.
  proxy("drop-resume-ack", "never answers SESSION_RESUME (PP-SES-002, PP-SES-004)", ["resume.resume-after-drop", "resume.unknown-session"]),
  ref("resume-any-sender", "resumes a session for an entity that is not its owner, given the resumption secret (PP-SES-004)", ["resume.unknown-session"]),
  ref("resume-accept-any-binder", "resumes without checking the binder (PP-SES-002, PP-SES-003)", ["resume.wrong-binder"]),
  ref("resume-keeps-secret", "does not rotate the resumption secret (PP-SES-007)", ["resume.secret-single-use"]),
  ref("accept-replayed-resume-nonce", "accepts a SESSION_RESUME nonce twice (PP-RPL-006)", ["resume.nonce-replayed"]),
  proxy("keep-open-on-close", "does not close the older connection of a resumed session (PP-SES-014) or after a closing error (PP-ERR-003)", ["resume.older-connection-closed"]),
  ref("resume-forgets-unacknowledged", "drops unacknowledged records on resume instead of re-sending them (PP-SES-010)", ["resume.retransmit-unacknowledged"]),
  scenario(ref("resend-acknowledged", "re-sends records the peer already acknowledged after a resume (PP-SES-010)", ["resume.no-resend-of-covered"])),
  proxy("drop-bye", "ignores BYE: the session can still be resumed (PP-SES-015)", ["resume.bye-ends-session"]),
  scenario(ref("route-new-message-id", "routes a data message under a new message_id (PP-DLV-012)", ["delivery.route-between-peers", "resume.queued-while-disconnected"])),
  ref("resume-ignores-window", "resumes sessions past their resume window (PP-SES-005)", ["resume.expired-window"], { limits: { resume_window_ms: 3000 } }),
  ref("no-session-lifetime", "keeps serving a session past its lifetime (PP-SES-012)", ["resume.lifetime-ends"], { limits: { session_lifetime_ms: 2000 } }),
  ref("lifetime-on-input-only", "checks a session's lifetime only on its own inbound records: a silent, connected session is routed to past its lifetime (PP-SES-012)", ["resume.nothing-routed-past-lifetime"], { limits: { session_lifetime_ms: 2000 } }),
  ref("session-before-confirm", "stores a session at step 4: a handshake that never sends SESSION_CONFIRM can be resumed (PP-HS-009)", ["resume.unconfirmed-not-resumable"]),

  // §9 Delivery.
  scenario(ref("never-ack", "never sends ACK (PP-DLV-002, PP-EVT-008)", ["delivery.ack-within-delay", "events.broadcast-without-subscribers"])),
  ref("no-pong", "does not answer PING (PP-DLV-010)", ["delivery.ping-pong"]),
  ref("spoofable-sender", "takes a data record whose sender_id is not its session's entity and routes it with the sender_id the peer claims (PP-DLV-006, PP-DLV-019)", ["delivery.sender-id-not-spoofable"]),
  ref("unknown-recipient-silent", "drops a message for an unknown recipient without UNKNOWN_RECIPIENT (PP-DLV-007)", ["delivery.unknown-recipient"]),
  scenario(ref("no-dedupe", "routes a data message again when its message_id repeats (PP-DLV-003)", ["delivery.duplicates"])),
  scenario(proxy("reorder-records", "sends data records out of order (PP-DLV-005, PP-KS-005, PP-CHK-003)", ["delivery.order-preserved", "chunking.out-of-order", "chunking.route-whole"])),

  // §10 Chunking.
  ref("no-outbound-chunking", "sends a message larger than max_chunk_bytes as one record (PP-CHK-001)", ["chunking.echo-large"]),
  ref("chunk-small-messages", "chunks messages that fit in max_chunk_bytes (PP-CHK-014)", ["chunking.small-not-chunked"]),
  ref("chunk-skip-digest", "delivers a reassembled message whose digest does not match (PP-CHK-005)", ["chunking.digest-mismatch"]),
  ref("chunk-skip-total-check", "delivers a reassembled message whose length differs from total_size (PP-CHK-005)", ["chunking.total-size-mismatch"]),
  ref("chunk-accept-oversize", "buffers chunks whose total_size exceeds max_message_bytes (PP-CHK-006)", ["chunking.oversize-total"]),
  ref("chunk-ignore-conflicts", "ignores a repeated chunk number with different content (PP-CHK-007)", ["chunking.conflicting-duplicate"]),
  ref("chunk-duplicate-is-error", "answers an identical duplicate chunk with CHUNK_ERROR (PP-CHK-008)", ["chunking.identical-duplicate"]),
  ref("chunk-skip-consistency", "does not check that the chunks of one message agree (PP-CHK-009)", ["chunking.inconsistent-chunks"]),
  ref("chunk-skip-overflow-check", "keeps buffering a chunked message whose bytes exceed total_size (PP-CHK-011)", ["chunking.bytes-exceed-total"]),
  ref("chunk-out-of-order-invalid-state", "refuses chunks out of order with INVALID_STATE instead of CHUNK_ERROR (PP-CHK-012)", ["chunking.out-of-order"]),

  // §11 Capabilities.
  ref("select-unoffered-capabilities", "selects capabilities that were not offered (PP-HS-015, PP-CAP-001)", ["capabilities.selected-from-offer", "capabilities.unselected-not-used", "handshake.sequence-property"]),
  ref("capability-reply-unmarked", "answers CAPABILITY_EXCHANGE without reply: true (PP-CAP-003)", ["capabilities.exchange-reply"]),
  ref("aead-ignores-selection", "seals with ChaCha20-Poly1305 although aes-256-gcm was selected (PP-CAP-001)", ["capabilities.aes-256-gcm"]),
  ref("skip-record-signature-check", "does not verify record signatures under message-signatures (PP-CAP-007)", ["capabilities.message-signatures"]),

  // §12 Errors.
  ref("answer-errors", "answers an ERROR record with an ERROR (PP-ERR-007)", ["errors.no-error-for-error"]),
  proxy("wrong-retryable", "sends ERROR with the opposite of the registry's retryable (PP-ERR-002)", ["errors.registry-values", "envelope.schema-violations", "errors.mapping-property"]),
  proxy("error-closes-all", "one connection's error closes its other connections (PP-ERR-009)", ["errors.other-connections-unharmed"]),

  // §13 Limits.
  ref("no-frame-limit", "reads frames far beyond max_frame_bytes (PP-LIM-001)", ["limits.frame-too-large", "errors.mapping-property"]),
  ref("no-rate-limit", "applies no rate limit (PP-LIM-003)", ["limits.rate-limit"]),
  proxy("drop-pings", "sends no heartbeat ping (PP-LIM-004)", ["limits.heartbeat-ping"], { limits: HEARTBEAT }, true),
  ref("no-heartbeat-timeout", "never closes a silent connection (PP-LIM-005)", ["limits.heartbeat-timeout"], { limits: HEARTBEAT }, true),
  proxy("no-backpressure", "never notices an events subscriber that does not read: its queue grows without bound (PP-LIM-007)", ["limits.slow-consumer-events"]),
  // The embedded default run's send queue: with the default 8 MiB the case needs --slow (111,000 PINGs).
  ref("no-send-queue-limit", "never disconnects a recipient whose send queue exceeds max_send_queue_bytes (PP-LIM-007, PP-DLV-013)", ["limits.slow-reader-pings"], { limits: { max_send_queue_bytes: 2_097_152 } }),
  ref("no-request-timeout", "keeps connections that send nothing, or their headers or body slowly, open past request_timeout_ms (PP-LIM-010)", ["limits.request-timeout"], { limits: { request_timeout_ms: 1000 } }),
  ref("no-connection-limit", "accepts any number of connections from one address (PP-LIM-011)", ["limits.connections-per-ip"], { limits: { max_connections_per_ip: 8 } }),

  // §14 Replay protection.
  ref("accept-replayed-init", "accepts a HANDSHAKE_INIT nonce twice (PP-RPL-002)", ["replay.init-nonce-reused", "handshake.sequence-property"]),
  ref("accept-stale-timestamp", "accepts a HANDSHAKE_INIT outside the clock-skew window (PP-RPL-001)", ["replay.init-timestamp-skew", "errors.mapping-property", "handshake.sequence-property"]),
  proxy("discovery-inflated-skew", "advertises a clock-skew window ten times the one it enforces (PP-RPL-001, PP-TRN-015)", ["replay.init-timestamp-within-skew"]),
  ref("accept-replayed-record", "accepts a record whose seq was already received (PP-RPL-003)", ["replay.record-replayed", "replay.record-seq-not-greater", "errors.mapping-property"]),
  ref("accept-seq-gap", "accepts a record that skips a seq (PP-RPL-004)", ["replay.record-seq-gap", "errors.mapping-property"]),
  ref("nonce-cache-per-identity", "refuses a second handshake from one identity: its replay cache is keyed by identity, not nonce (PP-RPL-002)", ["replay.init-nonce-fresh-per-connection"]),

  // §15 Events.
  ref("broadcast-without-events", "publishes a BROADCAST from a session that did not select the events capability (PP-CAP-001)", ["events.broadcast-needs-events"]),
  ref("events-error-without-related-id", "answers a schema violation on /ws/v1/events without the offending message_id in related_message_id (PP-ENV-007)", ["events.bad-channel-name"]),
  proxy("subscribed-lists-request-only", "lists only the channels just added in SUBSCRIBED (PP-EVT-001)", ["events.subscribe"]),
  proxy("unsubscribed-empty", "lists no channel in UNSUBSCRIBED (PP-EVT-002)", ["events.unsubscribe"]),
  proxy("duplicate-events", "delivers a BROADCAST twice to each subscriber (PP-EVT-003)", ["events.broadcast-delivered"]),
  proxy("unsubscribe-ignored", "acknowledges UNSUBSCRIBE but keeps delivering the channel (PP-EVT-004)", ["events.only-subscribers"]),
  ref("no-subscription-limit", "ignores max_subscriptions (PP-LIM-006)", ["events.subscription-limit"]),
  ref("no-subscribe-timeout", "keeps an events connection that never subscribes open until the heartbeat (PP-EVT-009)", ["events.subscribe-timeout"], { limits: { handshake_timeout_ms: 1000 } }),

  // Issue #12: delivery, chunking and versions, as the spec now settles them.
  ref("sender-id-overwritten", "routes a data record whose sender_id is not its session's entity, under the session's entity, instead of refusing it (PP-DLV-019)", ["delivery.sender-id-not-spoofable"]),
  ref("ended-recipient-session-not-found", "answers a record for an entity whose session ended with SESSION_NOT_FOUND instead of UNKNOWN_RECIPIENT (PP-DLV-017)", ["delivery.unknown-recipient"]),
  ref("refused-inner-unacknowledged", "does not acknowledge a data record it refused for its payload's schema (PP-DLV-016)", ["envelope.inner-schema-violation"]),
  ref("dedup-by-message-id-alone", "de-duplicates by message_id across senders, so the second sender's message with the same id is lost (PP-DLV-015)", ["delivery.same-id-two-senders"]),
  ref("unknown-action-ok", "answers a TASK_REQUEST with an action it does not serve with status ok (PP-DLV-020)", ["delivery.addressed-to-server"]),
  ref("message-to-server-refused", "answers a PEER_MESSAGE addressed to the server with UNKNOWN_RECIPIENT instead of acknowledging and dropping it (PP-DLV-021)", ["delivery.addressed-to-server"]),
  ref("reassembled-unchecked", "delivers a reassembled message without checking it against the schema of its inner_type (PP-CHK-021)", ["chunking.reassembled-schema-violation"]),
  ref("chunk-recipient-unchecked", "reassembles chunks of one message that name different recipient_id values (PP-CHK-022)", ["chunking.recipient-differs"]),
  ref("chunk-timeout-unnamed", "sends the CHUNK_ERROR of an expired chunked message without its chunk_id in related_message_id (PP-CHK-023)", ["chunking.incomplete-timeout"], { limits: { chunk_timeout_ms: 3000 } }, true),
  ref("unknown-offered-version-refused", "refuses an offer that names a version it does not know, [1.3, 1.2], instead of selecting 1.2 (PP-VER-012)", ["versioning.future-versions-offered"]),
  ref("v11-in-offer-refused-on-websocket", "refuses an offer of [1.1, 1.2] on the WebSocket instead of selecting 1.2 (PP-VER-013)", ["versioning.11-preferred-on-websocket"]),
  ref("unknown-members-refused", "checks received envelopes against the strict schemas, refusing unknown members (PP-ENV-012, PP-VER-001)", ["envelope.unknown-members-ignored"]),
  proxy("discovery-without-http", "leaves the http capability out of the discovery document, though it serves the HTTP binding (PP-CAP-010)", ["discovery.schema"]),

  // Issue #12: HTTP binding and tokens.
  ref("http-ack-highest", 'answers POST /peers/message with {"ack": the highest seq accepted so far} instead of the seq of the record it carried (PP-TRN-020)', ["http.ack-names-the-record", "http.ack-covers-received-prefix"]),
  proxy("poll-without-acks", "returns no ACK record through GET /peers/poll (PP-TRN-021)", ["http.records-through-poll"]),
  ref("http-confirm-unknown-invalid-state", "answers a SESSION_CONFIRM whose session_id names no pending handshake with INVALID_STATE instead of SESSION_NOT_FOUND (PP-TRN-022)", ["http.error-statuses"]),
  ref("http-handshake-never-expires", "never forgets a pending HTTP handshake: a step past handshake_timeout_ms after HANDSHAKE_INIT goes on (PP-HS-018)", ["handshake.http-timeout-from-init"], { limits: { handshake_timeout_ms: 1000 } }),
  proxy("token-expiry-in-seconds", "gives the expires_at of POST /auth/verify in seconds instead of milliseconds (PP-AUTH-012)", ["auth.token"]),
  ref("challenge-spent-on-success-only", "forgets a token challenge only when a token is issued: a failed POST /auth/verify leaves it usable (PP-AUTH-013)", ["auth.challenge-used-by-failed-verify"]),
  ref("ack-highest-seen", "acknowledges, by ACK and by the resume's last_rx_seq, the highest seq received over HTTP, past a record that never arrived (PP-SES-021)", ["http.ack-covers-received-prefix"]),

  // Issue #12: resume, replay and the first frame.
  ref("resume-wrong-binder-closes", "closes the connection with 4401 after answering a wrong binder with status ERROR AUTHENTICATION_FAILED, as if the answer were an ERROR message (PP-SES-019)", ["resume.wrong-binder"]),
  ref("resume-replay-as-error-message", "answers a replayed SESSION_RESUME nonce with a plaintext ERROR REPLAY_DETECTED instead of a SESSION_RESUME_ACK of status ERROR (PP-RPL-009)", ["resume.nonce-replayed", "resume.resume-sent-again"]),
  ref("resume-binder-before-nonce", "checks a SESSION_RESUME's binder before its nonce: a resume sent again unchanged is answered AUTHENTICATION_FAILED, not REPLAY_DETECTED (PP-RPL-010)", ["resume.resume-sent-again"]),
  ref("resume-query-ignored", "ignores the session_id of the URL: a HANDSHAKE_INIT sent first on a resume connection runs a handshake (PP-TRN-023, PP-TRN-004)", ["resume.query-alone-grants-nothing"]),
  ref("expired-connection-not-restarted", "after SESSION_EXPIRED keeps the connection in the ended session instead of START: a record gets SESSION_EXPIRED again, a HANDSHAKE_INIT INVALID_STATE, and no handshake timer runs (PP-SES-020)", ["resume.expired-back-to-start", "resume.lifetime-ends"], { limits: { session_lifetime_ms: 2000, handshake_timeout_ms: 2000 } }),
  ref("error-first-answered", "answers a well-formed ERROR sent first on /ws/v1/peers with INVALID_STATE before closing with 4409 (PP-ERR-010, PP-ERR-007)", ["errors.error-as-first-frame"]),
  ref("error-midway-answered", "answers a well-formed ERROR sent after HANDSHAKE_INIT_ACK with INVALID_STATE before closing (PP-ERR-010)", ["errors.error-as-first-frame"]),
  ref("events-error-answered", "answers a well-formed ERROR sent first on /ws/v1/events with INVALID_STATE before closing with 4409 (PP-ERR-010, PP-ERR-007)", ["errors.error-as-first-frame"]),
  ref("challenge-response-session-unchecked", "does not compare the session_id of a CHALLENGE_RESPONSE with the one it assigned on the connection (PP-HS-020)", ["handshake.challenge-response-foreign-session"]),
  ref("capability-exchange-unchecked", "answers a CAPABILITY_EXCHANGE naming other capabilities than those selected with its reply, instead of INVALID_MESSAGE (PP-CAP-009)", ["capabilities.exchange-other-capabilities"]),

  // Cluster: two nodes that are not one server (issue 16).
  ...FAULTY_CLUSTERS,
];

/**
 * Source faults no endpoint uses, with why: every other fault of ./source-faults.ts must appear in
 * FAULTY_ENDPOINTS.
 */
export const UNUSED_SOURCE_FAULTS: Readonly<Record<string, string>> = {};

/**
 * The checks issue #4 names: each must have a faulty endpoint among whose catchers one of `cases`
 * is (and the self-test shows that the endpoint is detected).
 */
export const KEY_CHECKS: readonly { check: string; cases: string[] }[] = [
  { check: "zero DH", cases: ["keys.zero-shared-secret"] },
  { check: "small-order Ed25519 keys", cases: ["keys.small-order-identity-keys"] },
  { check: "identity-point forgery", cases: ["keys.identity-point-forgery"] },
  { check: "non-canonical S", cases: ["keys.non-canonical-signature-s"] },
  { check: "wrong Finished MAC", cases: ["handshake.wrong-finished"] },
  { check: "reflection", cases: ["handshake.reflected-init-ack", "handshake.reflected-established", "handshake.reflected-ephemeral"] },
  { check: "replayed INIT", cases: ["replay.init-nonce-reused"] },
  { check: "timestamp window", cases: ["replay.init-timestamp-skew"] },
];
