/**
 * Deliberate faults for the conformance self-test: each breaks exactly one behaviour of the
 * reference so that a conformance case can be shown to fail against it (DESIGN.md §5). Never
 * enabled by default; `peer-server --fault NAME` or `startEmbeddedServer({ faults })` turn one on.
 */
import type { ChunkFaults } from "../chunking.ts";
import type { RelaxedCheck } from "../handshake/responder.ts";
import type { RelaxedRecordCheck } from "../session/session.ts";

export const FAULT_DESCRIPTIONS = {
  "accept-small-order-identity": "accepts small-order identity keys and verifies signatures permissively (PP-HS-006, PP-KS-014)",
  "accept-noncanonical-s": "accepts a signature whose S is not below L (PP-KS-015)",
  "skip-signature-check": "does not verify the initiator's signature (PP-HS-007)",
  "skip-finished-check": "does not verify the initiator's Finished MAC (PP-HS-008)",
  "accept-zero-dh": "continues with an all-zero X25519 shared secret (PP-HS-004)",
  "accept-stale-timestamp": "accepts a HANDSHAKE_INIT outside the clock-skew window (PP-RPL-001)",
  "accept-replayed-init": "accepts a HANDSHAKE_INIT nonce twice (PP-RPL-002)",
  "accept-replayed-record": "accepts a record whose seq was already received (PP-RPL-003)",
  "accept-seq-gap": "accepts a record that skips a seq (PP-RPL-004)",
  "ignore-unexpected-messages": "silently ignores a message not allowed in the state instead of INVALID_STATE (PP-HS-001)",
  "close-on-invalid-json": "closes the connection after INVALID_MESSAGE (PP-TRN-002, PP-ERR-004)",
  "wrong-close-codes": "closes with 1008 instead of the registry's close code (PP-ERR-003)",
  "no-frame-limit": "reads frames far beyond max_frame_bytes (PP-LIM-001)",
  "no-handshake-timeout": "never times out a handshake (PP-HS-011)",
  "no-heartbeat-timeout": "never closes a silent connection (PP-LIM-005)",
  "no-rate-limit": "applies no rate limit (PP-LIM-003)",
  "no-subscription-limit": "ignores max_subscriptions (PP-LIM-006)",
  "discovery-wrong-limits": "advertises limits in discovery that differ from those it enforces (PP-TRN-015)",
  "no-dedupe": "routes a data message again when its message_id repeats (PP-DLV-003)",
  "never-ack": "never sends ACK (PP-DLV-002)",
  "echo-corrupts": "answers the echo task with a different result (PP-DLV-009)",
  "no-pong": "does not answer PING (PP-DLV-010)",
  "chunk-skip-digest": "delivers a reassembled message whose digest does not match (PP-CHK-005)",
  "chunk-accept-oversize": "buffers chunks whose total_size exceeds max_message_bytes (PP-CHK-006)",
  "resume-accept-any-binder": "resumes without checking the binder (PP-SES-002)",
  "resume-ignores-window": "resumes sessions past their resume window (PP-SES-005)",
  "resume-keeps-secret": "does not rotate the resumption secret (PP-SES-007)",
  "resend-acknowledged": "re-sends records the peer already acknowledged after a resume (PP-SES-010)",
  "unknown-recipient-silent": "drops a message for an unknown recipient without UNKNOWN_RECIPIENT (PP-DLV-007)",
  "v11-on-websocket": "accepts a v1.1 handshake on the WebSocket endpoint (PP-VER-009)",
  "no-identity-binding": "lets a second identity key take over a bound entity id (PP-AUTH-011)",
  "token-not-required": "accepts connections without a token even when tokens are required (PP-AUTH-006)",
  "no-origin-check": "accepts any Origin (PP-AUTH-009)",
  "unbounded-delivery-queue": "queues and sends data records to a peer beyond retransmit_buffer unacknowledged (PP-DLV-011)",
  "spoofable-sender": "routes with the sender_id the peer claims instead of its session's (PP-DLV-006)",
  "ignore-unexpected-mid-handshake": "silently ignores a message not allowed mid-handshake (a second or reflected handshake message, data before SESSION_CONFIRM) instead of INVALID_STATE (PP-HS-001, PP-HS-014)",
  "skip-confirm-hash-check": "does not compare SESSION_CONFIRM's handshake_hash with the transcript hash (PP-HS-009)",
  "transcript-not-jcs": "hashes HANDSHAKE_INIT into the transcript as serialised in arrival member order instead of its JCS form (PP-ENV-009, PP-KS-001)",
  "select-unoffered-capabilities": "selects every capability it supports, offered or not (PP-HS-015, PP-CAP-001)",
  "aead-ignores-selection": "seals records with ChaCha20-Poly1305 even when aes-256-gcm was selected (PP-CAP-001)",
  "skip-record-signature-check": "does not verify record signatures when message-signatures was selected (PP-CAP-007)",
  "reuse-session-id": "assigns the same session_id to every handshake (PP-HS-012)",
  "route-new-message-id": "routes a data message under a new message_id (PP-DLV-012)",
  "resume-forgets-unacknowledged": "drops unacknowledged records on resume instead of re-sending them (PP-SES-010)",
  "accept-replayed-resume-nonce": "accepts a SESSION_RESUME nonce it already accepted for the session (PP-RPL-006)",
  "answer-errors": "answers an ERROR record with an ERROR (PP-ERR-007)",
  "accept-any-record-version": "accepts a session record whose version differs from the selected one (PP-VER-007)",
  "skip-token-signature-check": "issues a token without verifying the challenge signature (PP-AUTH-002)",
  "nonce-cache-per-identity": "keys the HANDSHAKE_INIT replay cache by identity key instead of nonce, so an identity handshakes once (PP-RPL-002)",
  "no-session-lifetime": "keeps serving a session past its lifetime (PP-SES-012)",
  "capability-reply-unmarked": "answers CAPABILITY_EXCHANGE without reply: true (PP-CAP-003)",
  "no-outbound-chunking": "sends a message larger than max_chunk_bytes as one record instead of chunks (PP-CHK-001)",
  "chunk-small-messages": "chunks at half of max_chunk_bytes, so messages that fit are chunked too (PP-CHK-014)",
  "chunk-skip-total-check": "delivers a reassembled message whose length differs from total_size (PP-CHK-005)",
  "chunk-skip-overflow-check": "keeps buffering a chunked message whose bytes exceed its total_size (PP-CHK-011)",
  "chunk-ignore-conflicts": "ignores a repeated chunk number with different content instead of CHUNK_ERROR (PP-CHK-007)",
  "chunk-duplicate-is-error": "answers an identical duplicate chunk with CHUNK_ERROR (PP-CHK-008)",
  "chunk-skip-consistency": "does not check that the chunks of one message agree on total_size, digest and inner_type (PP-CHK-009)",
  "no-send-queue-limit": "never disconnects a peer connection whose send queue exceeds max_send_queue_bytes (PP-LIM-007, PP-DLV-013)",
  "chunk-out-of-order-invalid-state": "refuses a chunk that arrives out of order with INVALID_STATE instead of reassembling it or answering CHUNK_ERROR (PP-CHK-012)",
} as const;

export type Fault = keyof typeof FAULT_DESCRIPTIONS;
export const FAULTS = Object.keys(FAULT_DESCRIPTIONS) as Fault[];

const RELAXED_BY_FAULT: Partial<Record<Fault, RelaxedCheck>> = {
  "accept-small-order-identity": "identity-key",
  "accept-noncanonical-s": "signature-scalar",
  "skip-signature-check": "signature",
  "skip-finished-check": "finished",
  "accept-zero-dh": "zero-dh",
  "accept-stale-timestamp": "clock-skew",
  "accept-replayed-init": "replayed-nonce",
  "transcript-not-jcs": "transcript-encoding",
  "select-unoffered-capabilities": "capability-offer",
  "aead-ignores-selection": "aead-selection",
  "nonce-cache-per-identity": "nonce-per-identity",
};

export class Faults {
  private readonly enabled: ReadonlySet<Fault>;

  constructor(names: Iterable<string> = []) {
    const list = [...names];
    for (const name of list) if (!(name in FAULT_DESCRIPTIONS)) throw new RangeError(`unknown fault ${name}; known: ${FAULTS.join(", ")}`);
    this.enabled = new Set(list as Fault[]);
  }

  has(name: Fault): boolean {
    return this.enabled.has(name);
  }

  get any(): boolean {
    return this.enabled.size > 0;
  }

  /** The handshake checks the enabled faults skip. */
  relaxedHandshakeChecks(): ReadonlySet<RelaxedCheck> {
    return new Set([...this.enabled].map((f) => RELAXED_BY_FAULT[f]).filter((c): c is RelaxedCheck => c !== undefined));
  }

  relaxedRecordChecks(): ReadonlySet<RelaxedRecordCheck> {
    const checks = new Set<RelaxedRecordCheck>();
    if (this.has("accept-replayed-record")) checks.add("seq-replay");
    if (this.has("accept-seq-gap")) checks.add("seq-gap");
    if (this.has("accept-any-record-version")) checks.add("record-version");
    if (this.has("skip-record-signature-check")) checks.add("record-signature");
    return checks;
  }

  /** The chunk reassembly checks the enabled faults skip or break (spec §10). */
  chunkFaults(): ChunkFaults {
    return {
      skipDigest: this.has("chunk-skip-digest"),
      skipSizeLimit: this.has("chunk-accept-oversize"),
      skipTotalCheck: this.has("chunk-skip-total-check"),
      skipOverflowCheck: this.has("chunk-skip-overflow-check"),
      ignoreConflicts: this.has("chunk-ignore-conflicts"),
      rejectDuplicates: this.has("chunk-duplicate-is-error"),
      skipConsistency: this.has("chunk-skip-consistency"),
      rejectOutOfOrder: this.has("chunk-out-of-order-invalid-state"),
    };
  }
}
