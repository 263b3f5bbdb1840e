/**
 * Deliberate faults for the conformance self-test: each breaks exactly one behaviour of the
 * reference so that a conformance case can be shown to fail against it (DESIGN.md §5). Never
 * enabled by default; `peer-server --fault NAME` or `startEmbeddedServer({ faults })` turn one on.
 */
import type { RelaxedCheck } from "../handshake/responder.ts";

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
  "spoofable-sender": "routes with the sender_id the peer claims instead of its session's (PP-DLV-006)",
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

  relaxedRecordChecks(): ReadonlySet<"seq-replay" | "seq-gap"> {
    const checks = new Set<"seq-replay" | "seq-gap">();
    if (this.has("accept-replayed-record")) checks.add("seq-replay");
    if (this.has("accept-seq-gap")) checks.add("seq-gap");
    return checks;
  }
}
