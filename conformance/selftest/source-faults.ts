/**
 * Source faults of the conformance self-test (DESIGN.md §5): each breaks one behaviour of the
 * reference server by patching a scratch copy of `reference/` (./scratch-reference.ts), so that the
 * reference itself carries no fault switch and reads like the spec. A fault is a list of edits;
 * each edit replaces the exact text `find`, which must occur exactly once in `file` (relative to
 * `reference/`), by `replace`. An edit that no longer applies fails the self-test, naming the fault:
 * rewrite the edit against the new reference text so that it breaks the same behaviour again.
 *
 * Faults the wire can express live in ./fault-proxy.ts instead. Those below are out of the proxy's
 * reach: they are inside encrypted records, or they change what the server checks, keeps or times.
 */

export interface SourceEdit {
  /** Path relative to `reference/`. */
  file: string;
  /** Exact text of the clean reference; must occur exactly once in `file`. */
  find: string;
  replace: string;
}

const SERVER = "src/server/server.ts";
const SERVICE = "src/server/peer-service.ts";
const RECORDS = "src/server/session-records.ts";
const ROUTER = "src/server/router.ts";
const ACKS = "src/server/ack-coalescing.ts";
const CONNECTION = "src/server/peer-connection.ts";
const RESPONDER = "src/handshake/responder.ts";
const SESSION = "src/session/session.ts";
const CHUNKING = "src/chunking.ts";
const EVENTS_CONNECTION = "src/server/events-connection.ts";
const HTTP = "src/server/http-binding.ts";

/** A session's lifetime timer never runs. */
const NO_LIFETIME_TIMER: SourceEdit = { file: SERVICE, find: "  private armLifetime(serverSession: ServerSession): void {\n", replace: "  private armLifetime(serverSession: ServerSession): void {\n    if (serverSession) return;\n" };
/** Sending and routing ignore the lifetime; only an ended session is past it. */
const LIFETIME_ON_INPUT_ONLY: SourceEdit = { file: SERVICE, find: "return serverSession.ended || serverSession.session.isExpired(this.now());", replace: "return serverSession.ended;" };

/** A check switched off: `if (CONDITION)` becomes `if (false)` (for a CONDITION without side effects). */
const never = (file: string, condition: string): SourceEdit => ({ file, find: `if (${condition})`, replace: "if (false)" });

/**
 * The permissive Ed25519 verification that PP-KS-013..016 forbid, for the faults that accept
 * small-order keys or a non-canonical S: OpenSSL's equation alone (the fallback stack's, whichever
 * stack loaded: libsodium's verify refuses small-order keys by itself), and `reduceScalar` accepts
 * S >= L by reducing it, as some old verifiers did.
 */
const PERMISSIVE_VERIFY: SourceEdit = {
  file: "src/crypto.ts",
  find: "// ---- AEAD (RFC 8439, or AES-256-GCM when negotiated) ----",
  replace: `export function ed25519VerifyPermissive(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array, reduceScalar = false): boolean {
  if (signature.length !== 64 || publicKey.length !== 32) return false;
  const sig = Buffer.from(signature);
  if (reduceScalar) {
    let s = 0n;
    for (let i = 63; i >= 32; i--) s = (s << 8n) | BigInt(sig[i] as number);
    s %= ED25519_ORDER;
    for (let i = 32; i < 64; i++) {
      sig[i] = Number(s & 0xffn);
      s >>= 8n;
    }
  }
  return NODE.ed25519Verify(publicKey, message, sig); // OpenSSL: no check of the key's order or of R
}

// ---- AEAD (RFC 8439, or AES-256-GCM when negotiated) ----`,
};

const permissiveSignature = (reduceScalar: boolean): SourceEdit[] => [
  PERMISSIVE_VERIFY,
  { file: RESPONDER, find: "ed25519VerifyStrict, generateX25519", replace: "ed25519VerifyPermissive, ed25519VerifyStrict, generateX25519" },
  { file: RESPONDER, find: "!ed25519VerifyStrict(pending.peerIdentityKey, input, signature)", replace: `!ed25519VerifyPermissive(pending.peerIdentityKey, input, signature, ${reduceScalar})` },
];

/** The faults by name: the same names as the endpoints of ./faulty-endpoints.ts that use them. */
export const SOURCE_FAULTS: Readonly<Record<string, readonly SourceEdit[]>> = {
  // §3 Versioning.
  "v11-on-websocket": [{ file: SERVICE, find: "versions: VERSIONS[transport],", replace: 'versions: transport === "websocket" ? ["1.2", "1.1"] : VERSIONS[transport],' }],
  "accept-any-record-version": [
    never(SESSION, "record.version !== this.version"),
    // Validates a session record under the version it claims.
    { file: CONNECTION, find: "    if (this.serverSession) return this.serverSession.session.version;\n", replace: "" },
  ],

  // §4.1 WebSocket.
  "close-on-invalid-json": [{ file: CONNECTION, find: "    if (error.row.closes) this.close(", replace: '    if (error.code === "INVALID_MESSAGE") this.close(1008, error.code);\n    else if (error.row.closes) this.close(' }],

  // §4.4 Discovery.
  "discovery-wrong-limits": [{ file: SERVER, find: "limits: { ...this.limits }, // PP-TRN-015", replace: "limits: { ...this.limits, max_frame_bytes: this.limits.max_frame_bytes * 2, rate_limit_per_minute: this.limits.rate_limit_per_minute + 50 }," }],

  // §4.3 HTTP binding, §9 Delivery.
  "echo-corrupts": [{ file: ROUTER, find: "result: request.params ?? null }", replace: "result: { corrupted: true } }" }],
  // Issue 11, row 1: message and poll never ask for the token.
  "http-session-routes-without-token": [
    { file: HTTP, find: "const presented = await tokenSubject();", replace: "const presented = undefined;" },
    { file: HTTP, find: "const subject = await tokenSubject();", replace: "const subject = undefined;" },
  ],
  // Issue 11, row 2: the outbox is attached, closing the session's WebSocket, before the record is verified.
  "http-attach-before-verify": [{ file: HTTP, find: "    try {\n      this.service.records.handle(", replace: "    if (serverSession.sink?.kind !== \"http\") this.attachOutbox(serverSession);\n    try {\n      this.service.records.handle(" }],
  // Issue 11, row 5: the HTTP outbox grows without bound.
  "http-outbox-unbounded": [never(HTTP, "this.bytes > this.maxBytes")],

  // §4.5, §4.6 Tokens and identity binding.
  "skip-token-signature-check": [never("src/server/tokens.ts", '!signature || !ed25519VerifyStrict(key, signatureInput("token challenge", challengeBytes), signature)')],
  // Under --require-token a bad identity key meets the server first at the token endpoint (the
  // conformance's badKeyTokenGate): without the key check, and verifying permissively, it issues a
  // token for the identity point on the forgery R = identity, S = 0.
  "token-for-small-order-key": [
    never("src/server/tokens.ts", "problem"),
    PERMISSIVE_VERIFY,
    { file: "src/server/tokens.ts", find: "import { ed25519KeyProblemCached, ed25519VerifyStrict, randomBytes }", replace: "import { ed25519KeyProblemCached, ed25519VerifyPermissive, ed25519VerifyStrict, randomBytes }" },
    { file: "src/server/tokens.ts", find: '!ed25519VerifyStrict(key, signatureInput("token challenge", challengeBytes), signature)', replace: '!ed25519VerifyPermissive(key, signatureInput("token challenge", challengeBytes), signature)' },
  ],
  "no-identity-binding": [never(SERVICE, "bound && !bound.equals(key)")],
  "older-handshake-confirms": [{ file: SERVICE, find: "if (serverSession.ended || (previous && previous.generation > serverSession.generation)) {", replace: "if (serverSession.ended) {" }],
  "unbounded-delivery-queue": [never(ROUTER, "target.session.pendingCount + entries.length > this.limits.retransmit_buffer")],
  "queue-bound-by-count-only": [never(ROUTER, "target.session.pendingCount > 0 && queued + bytes > this.limits.max_send_queue_bytes")],
  "reassembly-unreserved": [never(RECORDS, "!reassembler.has(chunk.chunk_id) && chunk.total_size <= this.limits.max_message_bytes && reserved + chunk.total_size > this.limits.max_message_bytes")],
  "no-buffered-budget": [{ file: SERVICE, find: "return budget === 0 || this.held + bytes <= budget || serverSession.heldBytes + bytes <= this.limits.max_chunk_bytes;", replace: "return true;" }],
  "ended-session-held": [{ file: SERVICE, find: "    this.account(serverSession); // PP-LIM-013: nothing of an ended session is held\n", replace: "" }],
  "no-session-share": [{ file: SERVICE, find: "return budget === 0 || this.held + bytes <= budget || serverSession.heldBytes + bytes <= this.limits.max_chunk_bytes;", replace: "return budget === 0 || this.held + bytes <= budget;" }],
  "expired-chunks-held": [{ file: SERVICE, find: "if (expired.length > 0) this.account(serverSession);", replace: "" }],
  "acknowledged-held": [{ file: RECORDS, find: "if (session.acknowledge(ack) > 0) this.service.account(serverSession);", replace: "session.acknowledge(ack);" }, { file: SERVICE, find: "    this.account(serverSession); // PP-LIM-013: what last_rx_seq acknowledged is free\n", replace: "" }],
  "flush-ignores-drain": [{ file: SERVICE, find: "(sink.room?.() ?? true)", replace: "true" }],
  "token-not-required": [never(SERVER, "this.options.requireToken")],
  "no-origin-check": [never(SERVER, "allowlist.length > 0 && origin !== undefined && !allowlist.includes(origin)")],

  // §5 Envelope: hashes HANDSHAKE_INIT in arrival member order instead of its JCS form.
  "transcript-not-jcs": [
    { file: RESPONDER, find: "generateX25519, x25519,", replace: "generateX25519, sha256, x25519," },
    { file: RESPONDER, find: "    transcript.mixHash(init); // PP-KS-001", replace: "    transcript.h = sha256(transcript.h, Buffer.from(JSON.stringify(init)));" },
  ],

  // §6 Handshake.
  "reuse-session-id": [{ file: SERVICE, find: 'newSessionId: () => "sess_" + toBase64Url(Buffer.from(crypto.getRandomValues(new Uint8Array(16)))),', replace: 'newSessionId: () => "sess_AAAAAAAAAAAAAAAAAAAAAA",' }],
  "ignore-unexpected-messages": [{ file: CONNECTION, find: '        if (envelope.type !== "HANDSHAKE_INIT") {\n', replace: '        if (envelope.type !== "HANDSHAKE_INIT") {\n          return;\n' }],
  // Mid-handshake, anything but the expected next message is dropped silently.
  "ignore-unexpected-mid-handshake": [
    {
      file: CONNECTION,
      find: "    const envelope = message as Envelope;\n",
      replace: '    const envelope = message as Envelope;\n    if ((this.state === "handshaking" && envelope.type !== "CHALLENGE_RESPONSE") || (this.state === "await-confirm" && envelope.type !== "SESSION_CONFIRM")) return;\n',
    },
  ],
  "skip-finished-check": [never(RESPONDER, "!finished || !constantTimeEqual(finished, finishedMac(pending.fkInitiator, h2))")],
  "skip-signature-check": [never(RESPONDER, "!signature || !ed25519VerifyStrict(pending.peerIdentityKey, input, signature)")],
  "skip-confirm-hash-check": [never(SERVICE, "inner.handshake_hash !== toBase64Url(serverSession.session.handshakeHash)")],
  "wrong-close-codes": [{ file: CONNECTION, find: "this.close(error.row.closeCode ?? 1011, error.code);", replace: "this.close(1008, error.code);" }],
  "no-handshake-timeout": [never(CONNECTION, 'this.state !== "ready" && this.state !== "closed"')],

  // §7.4 Key and signature validation.
  "accept-zero-dh": [{ file: RESPONDER, find: '      throw new ProtocolError("AUTHENTICATION_FAILED", "X25519 shared secret is all zero", init.message_id);', replace: "      dh = Buffer.alloc(32);" }],
  "accept-small-order-identity": [never(RESPONDER, "keyProblem"), ...permissiveSignature(false)],
  "accept-noncanonical-s": permissiveSignature(true),

  // §8 Session and resume.
  "broadcast-without-events": [never(ROUTER, 'from.session.version !== "1.2" || !from.session.capabilities.includes("events")')],
  "events-error-without-related-id": [{ file: "src/server/events-connection.ts", find: "${check.error}`, isMessageId(relatedId) ? relatedId : undefined);", replace: "${check.error}`, undefined);" }],
  "http-error-always-v12": [{ file: "src/server/http-binding.ts", find: 'version: answer.version, sender_id', replace: 'version: "1.2", sender_id' }],
  "http-error-without-related-id": [{ file: "src/server/http-binding.ts", find: "isMessageId(relatedId) ? relatedId : undefined); // PP-ENV-007", replace: "undefined); // PP-ENV-007" }],
  "chunk-oversize-at-limit": [{ file: CHUNKING, find: "if (chunk.total_size > this.limits.max_message_bytes)", replace: "if (chunk.total_size >= this.limits.max_message_bytes)" }],
  "chunk-accept-after-last": [never(CHUNKING, "partial.lastSequence !== null && chunk.sequence_number > partial.lastSequence")],
  "chunk-overflow-at-total": [{ file: CHUNKING, find: "if (partial.received > partial.total)", replace: "if (partial.received >= partial.total)" }],
  "chunk-last-below-received": [never(CHUNKING, "[...partial.pieces.keys()].some((seq) => seq > chunk.sequence_number)")],
  "chunk-complete-one-early": [{ file: CHUNKING, find: "partial.pieces.size !== partial.lastSequence + 1)", replace: "partial.pieces.size !== partial.lastSequence)" }],
  "refuse-every-identity-key": [{ file: "src/crypto.ts", find: 'if (!STACK.ed25519Decodes(encoded)) return "Ed25519 point is not on the curve";', replace: 'return "Ed25519 point is not on the curve";' }],
  "skip-token-subject-check": [{ file: RESPONDER, find: `throw new ProtocolError("AUTHENTICATION_FAILED", "sender_id or identity key differs from the token's subject", init.message_id);`, replace: ";" }],
  "challenge-response-after-rejection": [{ file: RESPONDER, find: "throw new ProtocolError(\"INVALID_STATE\", `CHALLENGE_RESPONSE not allowed in state ${this.state}`, response.message_id);", replace: ";" }],
  "record-version-unchecked-in-session": [{ file: SESSION, find: "throw new ProtocolError(\"INVALID_MESSAGE\", `record version ${record.version} differs from the session's ${this.version}`, record.message_id);", replace: ";" }],
  "plaintext-not-json-accepted": [{ file: SESSION, find: 'throw new ProtocolError("INVALID_MESSAGE", "record plaintext is not JSON", record.message_id);', replace: ";" }],
  "delivery-bound-one-short": [{ file: ROUTER, find: "target.session.pendingCount + entries.length > this.limits.retransmit_buffer", replace: "target.session.pendingCount + entries.length >= this.limits.retransmit_buffer" }],
  "overflowed-chunk-kept": [{ file: RECORDS, find: 'if (error instanceof ProtocolError && error.code === "BUFFER_OVERFLOW") reassembler.withdraw(chunk);', replace: 'if (error instanceof ProtocolError && error.code === "BUFFER_OVERFLOW") ;' }],
  "resume-any-sender": [{ file: SERVICE, find: "!serverSession || serverSession.ended || serverSession.peerId !== resume.sender_id", replace: "!serverSession || serverSession.ended" }],
  "resume-accept-any-binder": [never("src/session/resume.ts", "!binder || !constantTimeEqual(binder, resumeBinder(resumptionSecret, h1))")],
  "resume-keeps-secret": [
    {
      file: SERVICE,
      find: "    serverSession.session.rekey(accepted.keys, accepted.peerLastRxSeq);\n",
      replace: "    const usedSecret = serverSession.session.resumptionSecret;\n    serverSession.session.rekey(accepted.keys, accepted.peerLastRxSeq);\n    serverSession.session.resumptionSecret = usedSecret;\n",
    },
  ],
  "accept-replayed-resume-nonce": [{ file: SERVICE, find: "if (!resume.nonce || serverSession.resumeNonces?.has(resume.nonce) === true) return", replace: "if (!resume.nonce) return" }],
  "resume-forgets-unacknowledged": [{ file: SERVICE, find: "    serverSession.session.rekey(accepted.keys, accepted.peerLastRxSeq);\n", replace: "    serverSession.session.acknowledge(Number.MAX_SAFE_INTEGER);\n    serverSession.session.rekey(accepted.keys, accepted.peerLastRxSeq);\n" }],
  "resend-acknowledged": [{ file: SERVICE, find: "serverSession.session.rekey(accepted.keys, accepted.peerLastRxSeq);", replace: "serverSession.session.rekey(accepted.keys, -1);" }],
  "route-new-message-id": [{ file: RECORDS, find: "{ message_id: record.message_id, type: record.type, inner, sender_id: session.peerId,", replace: '{ message_id: Buffer.from(crypto.getRandomValues(new Uint8Array(12))).toString("base64url"), type: record.type, inner, sender_id: session.peerId,' }],
  // Both the resume answer and the sweep ignore the window.
  "resume-ignores-window": [
    { file: SERVICE, find: "    const windowOver = serverSession.disconnectedAt !== undefined && now - serverSession.disconnectedAt > this.limits.resume_window_ms; // PP-SES-011: resumable", replace: "    const windowOver = false; // PP-SES-011: resumable" },
    { file: SERVICE, find: "      const windowOver = serverSession.disconnectedAt !== undefined && now - serverSession.disconnectedAt > this.limits.resume_window_ms; // PP-SES-011: forgotten", replace: "      const windowOver = false; // PP-SES-011: forgotten" },
  ],
  // Neither a record nor time ends a session: no check on input, no lifetime timer.
  "no-session-lifetime": [never(RECORDS, "serverSession.expired || session.isExpired(this.now())"), NO_LIFETIME_TIMER, LIFETIME_ON_INPUT_ONLY],
  // The defect of issue 11 row 4: the lifetime is checked only on the session's own inbound records.
  "lifetime-on-input-only": [NO_LIFETIME_TIMER, LIFETIME_ON_INPUT_ONLY],
  // The defect of issue 11 row 3: the session is stored (routable, resumable) at step 4, before SESSION_CONFIRM.
  "session-before-confirm": [
    { file: SERVICE, find: "    serverSession.generation = ++this.generations;\n", replace: "    serverSession.generation = ++this.generations;\n    serverSession.confirmed = true;\n    this.store.putSession(serverSession);\n" },
    { file: SERVICE, find: "    const previous = this.store.sessionOf(serverSession.peerId);\n", replace: "    const stored = this.store.sessionOf(serverSession.peerId);\n    const previous = stored === serverSession ? undefined : stored;\n" },
  ],

  // §9 Delivery.
  "never-ack": [{ file: ACKS, find: "if (serverSession.ackPending) return;", replace: "return;" }],
  "no-pong": [{ file: RECORDS, find: '        this.service.sendControl(serverSession, "PONG",', replace: '        return;\n        this.service.sendControl(serverSession, "PONG",' }],
  // No sender check (PP-DLV-019), and the claim routed as is.
  "spoofable-sender": [never(RECORDS, "record.sender_id !== session.peerId"), { file: RECORDS, find: "type: record.type, inner, sender_id: session.peerId,", replace: "type: record.type, inner, sender_id: record.sender_id," }],
  "unknown-recipient-silent": [{ file: ROUTER, find: "    if (!target) throw new ProtocolError(\"UNKNOWN_RECIPIENT\",", replace: "    if (!target) return;\n    if (!target) throw new ProtocolError(\"UNKNOWN_RECIPIENT\"," }],
  "no-dedupe": [never(RECORDS, "session.delivered(session.peerId, chunk.chunk_id)"), never(RECORDS, "session.delivered(session.peerId, record.message_id)")],

  // §10 Chunking.
  "no-outbound-chunking": [{ file: ROUTER, find: "const chunks = splitMessage(", replace: "const chunks = null && splitMessage(" }],
  "chunk-small-messages": [{ file: ROUTER, find: "payload: message.inner }, this.limits.max_chunk_bytes, plaintext.length);", replace: "payload: message.inner }, Math.floor(this.limits.max_chunk_bytes / 2), plaintext.length);" }],
  "chunk-skip-digest": [never(CHUNKING, "toBase64Url(sha256(bytes)) !== partial.digest")],
  "chunk-accept-oversize": [never(CHUNKING, "chunk.total_size > this.limits.max_message_bytes")],
  "chunk-skip-total-check": [never(CHUNKING, "bytes.length !== partial.total")],
  "chunk-ignore-conflicts": [never(CHUNKING, "!existing.equals(data)")],
  "chunk-duplicate-is-error": [{ file: CHUNKING, find: "      return null; // PP-CHK-008: an identical duplicate is ignored", replace: '      fail("a chunk with this sequence_number arrived before");' }],
  "chunk-skip-consistency": [never(CHUNKING, "partial.total !== chunk.total_size || partial.digest !== chunk.digest || partial.innerType !== chunk.inner_type")],
  "chunk-skip-overflow-check": [never(CHUNKING, "partial.received > partial.total")],
  "chunk-out-of-order-invalid-state": [
    {
      file: CHUNKING,
      find: "    if (partial.lastSequence !== null && chunk.sequence_number > partial.lastSequence) fail(",
      replace: "    if (chunk.sequence_number !== partial.pieces.size) throw new ProtocolError(\"INVALID_STATE\", `chunk ${chunk.sequence_number} of ${chunk.chunk_id} arrives out of order`, chunk.chunk_id);\n    if (partial.lastSequence !== null && chunk.sequence_number > partial.lastSequence) fail(",
    },
  ],

  // §11 Capabilities.
  "select-unoffered-capabilities": [{ file: RESPONDER, find: "config.capabilities.filter((c) => (payload.capabilities ?? []).includes(c));", replace: "[...config.capabilities];" }],
  "capability-reply-unmarked": [{ file: RECORDS, find: "reply: true }); // PP-CAP-003", replace: "reply: false });" }],
  "aead-ignores-selection": [{ file: RESPONDER, find: "aead: aeadFor(pending.capabilities),", replace: 'aead: "chacha20-poly1305",' }],
  "skip-record-signature-check": [never(SESSION, "this.signRecords")],

  // §12 Errors.
  "answer-errors": [{ file: RECORDS, find: "        return; // PP-ERR-007: never answer an ERROR with an ERROR", replace: '        throw new ProtocolError("INVALID_MESSAGE", "an ERROR record is not expected here", record.message_id);' }],

  // §13 Limits.
  "no-frame-limit": [{ file: SERVER, find: "const maxPayload = this.limits.max_frame_bytes;", replace: "const maxPayload = this.limits.max_frame_bytes * 64;" }],
  // The limiter still counts; only its verdict is ignored.
  "no-rate-limit": [{ file: RECORDS, find: "if (!serverSession.limiter.tryAcquire(this.now()))", replace: "if (!serverSession.limiter.tryAcquire(this.now()) && false)" }],
  "no-heartbeat-timeout": [never(CONNECTION, "now - this.lastReceivedAt >= limits.ping_interval_ms + limits.pong_grace_ms")],
  "no-send-queue-limit": [never(CONNECTION, "this.transport.bufferedAmount > this.service.limits.max_send_queue_bytes")],

  // §14 Replay protection.
  // The nonce cache still records the nonce; only its verdict is ignored.
  "accept-replayed-init": [{ file: RESPONDER, find: "if (!init.nonce || config.isReplayedNonce(init.nonce, init.timestamp))", replace: "if (!init.nonce || (config.isReplayedNonce(init.nonce, init.timestamp) && false))" }],
  "accept-stale-timestamp": [never(RESPONDER, "Math.abs(now - init.timestamp) > config.limits.max_clock_skew_ms")],
  "accept-replayed-record": [never(SESSION, "record.seq <= this.lastRecvSeq")],
  "accept-seq-gap": [never(SESSION, "record.seq > this.lastRecvSeq + 1")],
  // Keys the HANDSHAKE_INIT replay cache by identity key instead of nonce: an identity handshakes once.
  "nonce-cache-per-identity": [{ file: RESPONDER, find: "config.isReplayedNonce(init.nonce, init.timestamp)", replace: "config.isReplayedNonce(`identity:${payload.identity_key}`, init.timestamp)" }],

  "no-request-timeout": [
    { file: SERVER, find: "const httpOptions = { headersTimeout: requestTimeout, requestTimeout, connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(requestTimeout / 5))) };", replace: "const httpOptions = { headersTimeout: 600_000, requestTimeout: 600_000 };" },
    { file: SERVER, find: "this.http.timeout = requestTimeout;", replace: "" },
  ],
  "no-connection-limit": [never(SERVER, "open >= limit")],

  // §15 Events.
  "no-subscribe-timeout": [{ file: EVENTS_CONNECTION, find: "this.subscribeTimer.unref();", replace: "clearTimeout(this.subscribeTimer);" }],
  "no-subscription-limit": [{ file: SERVER, find: "new EventsHub(serverId, this.limits.max_subscriptions);", replace: "new EventsHub(serverId, Number.POSITIVE_INFINITY);" }],

  // Issue #12: delivery, chunking and versions, as the spec now settles them.
  "sender-id-overwritten": [never(RECORDS, "record.sender_id !== session.peerId")],
  "ended-recipient-session-not-found": [
    { file: ROUTER, find: "    if (!target) throw new ProtocolError(\"UNKNOWN_RECIPIENT\",", replace: "    if (!target && this.service.store.knowsEntity(recipient)) throw new ProtocolError(\"SESSION_NOT_FOUND\", `${recipient} has no session to deliver to`, message.message_id);\n    if (!target) throw new ProtocolError(\"UNKNOWN_RECIPIENT\"," },
  ],
  "refused-inner-unacknowledged": [{ file: RECORDS, find: "      if (DATA_TYPES.has(record.type)) this.acknowledge(serverSession); // PP-DLV-016: refused for good, so acknowledged\n", replace: "" }],
  // One de-duplication set for every sender of the server: a message_id chosen by two senders is delivered once.
  "dedup-by-message-id-alone": [
    { file: RECORDS, find: "export class SessionRecords {", replace: "const SEEN_FROM_ANYONE = new Set<string>();\n\nexport class SessionRecords {" },
    { file: RECORDS, find: "    if (session.delivered(session.peerId, record.message_id)) return; // PP-DLV-003", replace: "    if (SEEN_FROM_ANYONE.has(record.message_id) || session.delivered(session.peerId, record.message_id)) return; // PP-DLV-003\n    SEEN_FROM_ANYONE.add(record.message_id);" },
  ],
  "unknown-action-ok": [{ file: ROUTER, find: ': { task_id: request.task_id, status: "error", error: `unknown action ${request.action}; this server serves "echo"` };', replace: ': { task_id: request.task_id, status: "ok", result: null };' }],
  "message-to-server-refused": [{ file: ROUTER, find: "    if (message.type !== \"TASK_REQUEST\") return undefined;", replace: "    if (message.type !== \"TASK_REQUEST\") throw new ProtocolError(\"UNKNOWN_RECIPIENT\", \"the server reads no messages\", message.message_id);" }],
  "reassembled-unchecked": [{ file: RECORDS, find: "const problem = validateInner(whole.type, whole.payload);", replace: "const problem: string | null = null;" }],
  "chunk-recipient-unchecked": [never(CHUNKING, "partial.recipientId !== recipientId")],
  "chunk-timeout-unnamed": [{ file: SERVICE, find: "incomplete after ${this.limits.chunk_timeout_ms} ms; discarded`, chunkId);", replace: "incomplete after ${this.limits.chunk_timeout_ms} ms; discarded`);" }],
  // Refuses an offer that names any version it does not know, instead of skipping those.
  "unknown-offered-version-refused": [{ file: RESPONDER, find: "const version = offered.find((v): v is Version => config.versions.includes(v as Version)); // PP-VER-003", replace: "const version = offered.every((v) => [\"1.1\", \"1.2\"].includes(v)) ? offered.find((v): v is Version => config.versions.includes(v as Version)) : undefined; // PP-VER-003" }],
  // Refuses an offer that names 1.1 on the WebSocket instead of selecting 1.2 from it.
  "v11-in-offer-refused-on-websocket": [{ file: RESPONDER, find: "const version = offered.find((v): v is Version => config.versions.includes(v as Version)); // PP-VER-003", replace: "const version = offered.includes(\"1.1\") && !config.versions.includes(\"1.1\") ? undefined : offered.find((v): v is Version => config.versions.includes(v as Version)); // PP-VER-003" }],
  // Validates received envelopes with the strict schemas, refusing unknown members.
  "unknown-members-refused": [{ file: CONNECTION, find: "const check = validateEnvelope(version, message, { strict: false, ciphertextPattern: false });", replace: "const check = validateEnvelope(version, message, { strict: true, ciphertextPattern: false });" }],

  // Issue #12: HTTP binding and tokens.
  "http-ack-highest": [{ file: HTTP, find: "return { ack: record.seq };", replace: "return { ack: serverSession.session.lastRecvSeq };" }],
  "http-confirm-unknown-invalid-state": [{ file: HTTP, find: 'if (!pending) throw new ProtocolError("SESSION_NOT_FOUND",', replace: 'if (!pending) throw new ProtocolError(envelope.type === "SESSION_CONFIRM" ? "INVALID_STATE" : "SESSION_NOT_FOUND",' }],
  "http-handshake-never-expires": [never(HTTP, "pending.expiresAt <= now")],
  // The challenge is forgotten only once a token is issued: a failed verification leaves it usable.
  "challenge-spent-on-success-only": [
    { file: "src/server/tokens.ts", find: "    this.challenges.delete(request.challenge); // single use, whatever the outcome (PP-RPL-007, PP-AUTH-013)\n", replace: "" },
    { file: "src/server/tokens.ts", find: "    const issuedAt = Math.floor(this.now() / 1000);\n", replace: "    this.challenges.delete(request.challenge);\n    const issuedAt = Math.floor(this.now() / 1000);\n" },
  ],
  "ack-highest-seen": [{ file: SESSION, find: "let through = this.refusedFrom === null ? this.receivedThrough : Math.min(this.receivedThrough, this.refusedFrom - 1);", replace: "let through = this.refusedFrom === null ? this.lastRecvSeq : Math.min(this.lastRecvSeq, this.refusedFrom - 1);" }],

  // Issue #12: resume, replay and the first frame.
  // The status ERROR answer to a wrong binder taken for an ERROR message: its row's close 4401 follows.
  "resume-wrong-binder-closes": [{ file: CONNECTION, find: "    this.sendJson(answer);\n", replace: '    this.sendJson(answer);\n    if ((answer.payload as { error?: { code?: string } }).error?.code === "AUTHENTICATION_FAILED") return this.close(4401, "AUTHENTICATION_FAILED");\n' }],
  // A replayed resume nonce answered with a plaintext ERROR message instead of a SESSION_RESUME_ACK.
  "resume-replay-as-error-message": [{ file: SERVICE, find: 'return refuse("ERROR", new ProtocolError("REPLAY_DETECTED", "resume nonce already used", resume.message_id));', replace: 'throw new ProtocolError("REPLAY_DETECTED", "resume nonce already used", resume.message_id);' }],
  // The resume nonce checked after the binder: a resume sent again unchanged fails on its stale binder.
  "resume-binder-before-nonce": [
    { file: SERVICE, find: '    if (!resume.nonce || serverSession.resumeNonces?.has(resume.nonce) === true) return refuse("ERROR", new ProtocolError("REPLAY_DETECTED", "resume nonce already used", resume.message_id));\n', replace: "" },
    { file: SERVICE, find: "    (serverSession.resumeNonces ??= new Set()).add(resume.nonce);\n", replace: '    if (!resume.nonce || serverSession.resumeNonces?.has(resume.nonce) === true) return refuse("ERROR", new ProtocolError("REPLAY_DETECTED", "resume nonce already used", resume.message_id));\n    (serverSession.resumeNonces ??= new Set()).add(resume.nonce);\n' },
  ],
  // A session_id in the URL is ignored: the connection starts like any other, and a handshake runs on it.
  "resume-query-ignored": [{ file: CONNECTION, find: 'this.state = options.resumeSessionId !== undefined ? "await-resume" : "start";', replace: 'this.state = "start";' }],
  // After SESSION_EXPIRED the connection stays in the ended session, not in START: no handshake timer, no handshake.
  "expired-connection-not-restarted": [{ file: CONNECTION, find: 'serverSession?.ended && (this.state === "ready" || this.state === "await-confirm")', replace: 'serverSession?.ended && this.state === "await-confirm"' }],
  // An ERROR as the first message answered with INVALID_STATE before the close, on /ws/v1/peers, and on /ws/v1/events.
  "error-first-answered": [never(CONNECTION, 'envelope.type === "ERROR" && this.state !== "ready"')],
  // Only the first message is spared an answer: an ERROR in the middle of the handshake gets INVALID_STATE.
  "error-midway-answered": [{ file: CONNECTION, find: 'if (envelope.type === "ERROR" && this.state !== "ready")', replace: 'if (envelope.type === "ERROR" && (this.state === "start" || this.state === "await-resume"))' }],
  "events-error-answered": [never(EVENTS_CONNECTION, 'envelope.type === "ERROR"')],
  "challenge-response-session-unchecked": [never(RESPONDER, "response.session_id !== pending.sessionId")],
  "capability-exchange-unchecked": [never(RECORDS, "!sameSet(exchange.capabilities, session.capabilities)")],
};
