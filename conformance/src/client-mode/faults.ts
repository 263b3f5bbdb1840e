/**
 * The responder faults of client-mode conformance. Each breaks exactly ONE thing a correct
 * initiator must check, while every other value of the handshake stays valid (where the fault lets
 * the responder compute it), so that a client which skips just that check is caught: it answers the
 * faulty message as if it were good.
 */
export type ResponderFault =
  | "identity-key-small-order"
  | "identity-key-non-canonical"
  | "responder-signature-bit-flip"
  | "responder-finished-wrong"
  | "signature-scalar-plus-l"
  | "signature-r-small-order"
  | "signature-r-non-canonical"
  | "ephemeral-small-order"
  | "ephemeral-reflected"
  | "established-session-id-mismatch"
  | "version-not-offered"
  | "capability-not-offered"
  | "ready-wrong-handshake-hash";

/** The handshake message that carries the fault, and what a client that accepts it sends next. */
export type FaultStep = "HANDSHAKE_INIT_ACK" | "SESSION_ESTABLISHED" | "READY";

export interface FaultSpec {
  fault: ResponderFault;
  step: FaultStep;
  /** The requirements a correct initiator meets by refusing the fault. */
  requirements: string[];
  /** The error code the spec names for the refusal, when it names one. */
  errorCode: string | null;
  /** When the spec's rules allow more than one code for the refusal: each of them. */
  acceptedCodes?: string[];
  what: string;
}

export const FAULTS: readonly FaultSpec[] = [
  {
    fault: "identity-key-small-order",
    step: "HANDSHAKE_INIT_ACK",
    requirements: ["PP-HS-006", "PP-KS-014"],
    errorCode: "AUTHENTICATION_FAILED",
    what: "IK_R is the identity point 01 00..00 (small order); sig_R is the forgery R = identity, S = 0 that permissive verifiers accept under it",
  },
  {
    fault: "identity-key-non-canonical",
    step: "HANDSHAKE_INIT_ACK",
    requirements: ["PP-HS-006", "PP-KS-013"],
    errorCode: "AUTHENTICATION_FAILED",
    what: "IK_R is the non-canonical encoding y = p + 1 (of the identity point); sig_R is the forgery R = identity, S = 0",
  },
  {
    fault: "responder-signature-bit-flip",
    step: "SESSION_ESTABLISHED",
    requirements: ["PP-HS-007", "PP-KS-004"],
    errorCode: "AUTHENTICATION_FAILED",
    what: "one bit of sig_R flipped; fin_R and everything else valid",
  },
  {
    fault: "responder-finished-wrong",
    step: "SESSION_ESTABLISHED",
    requirements: ["PP-HS-008"],
    errorCode: "AUTHENTICATION_FAILED",
    what: "one bit of fin_R flipped; sig_R valid",
  },
  {
    fault: "signature-scalar-plus-l",
    step: "SESSION_ESTABLISHED",
    requirements: ["PP-KS-015", "PP-HS-007"],
    errorCode: "AUTHENTICATION_FAILED",
    what: "sig_R is the valid signature with L added to its scalar S (S not below the group order); everything else valid",
  },
  {
    fault: "signature-r-small-order",
    step: "SESSION_ESTABLISHED",
    requirements: ["PP-KS-016", "PP-HS-007"],
    errorCode: "AUTHENTICATION_FAILED",
    what: "sig_R has R = the identity point (small order), made with the nonce r = 0 so that [S]B = R + [k]A holds under the real IK_R: permissive verifiers, node:crypto's among them, accept it",
  },
  {
    fault: "signature-r-non-canonical",
    step: "SESSION_ESTABLISHED",
    requirements: ["PP-KS-016"],
    errorCode: "AUTHENTICATION_FAILED",
    what: "sig_R has R = a non-canonical encoding of the identity point (y = p + 1), S = k * a, so that ZIP-215 verifiers accept it",
  },
  {
    fault: "ephemeral-small-order",
    step: "HANDSHAKE_INIT_ACK",
    requirements: ["PP-HS-004", "PP-KS-017"],
    errorCode: "AUTHENTICATION_FAILED",
    what: "e_R is a point of order 8, so the X25519 shared secret is all zero; fk_R, fin_R computed from that zero secret",
  },
  {
    fault: "ephemeral-reflected",
    step: "HANDSHAKE_INIT_ACK",
    requirements: ["PP-HS-005"],
    errorCode: "AUTHENTICATION_FAILED",
    what: "e_R is the client's own e_I sent back (the responder cannot know dh, so a client that goes on fails later at fin_R)",
  },
  {
    fault: "established-session-id-mismatch",
    step: "SESSION_ESTABLISHED",
    requirements: ["PP-HS-013"],
    errorCode: "AUTHENTICATION_FAILED",
    what: "SESSION_ESTABLISHED.payload.session_id differs from HANDSHAKE_INIT_ACK's session_id; sig_R, fin_R valid over the transcript",
  },
  {
    fault: "version-not-offered",
    step: "HANDSHAKE_INIT_ACK",
    // With the published schemas, "1.1" in a v1.1 envelope is the only unoffered selection that is
    // schema-valid (the v1.2 schema fixes version_selected to "1.2"), so it is what the fault sends.
    requirements: ["PP-VER-008"],
    errorCode: "VERSION_NOT_SUPPORTED",
    // A v1.2 client checks a pre-session message against the v1.2 schema first (PP-ENV-013), where
    // this answer is an INVALID_MESSAGE before its PP-VER-008 check is reached: both codes abort.
    acceptedCodes: ["VERSION_NOT_SUPPORTED", "INVALID_MESSAGE"],
    what: 'version_selected "1.1" (a schema-valid v1.1 HANDSHAKE_INIT_ACK) when the client offered only "1.2"',
  },
  {
    fault: "capability-not-offered",
    step: "HANDSHAKE_INIT_ACK",
    // The spec puts the duty on the responder (PP-HS-015) and forbids using an unselected one
    // (PP-CAP-001); it names no error code for an initiator that sees an unoffered selection.
    requirements: ["PP-HS-015", "PP-CAP-001"],
    errorCode: null,
    what: "the selected capabilities include one the client did not offer (sealed-relay, or another registry name)",
  },
  {
    fault: "ready-wrong-handshake-hash",
    step: "READY",
    // §6.2 state table: SENT_CONFIRM (I) moves to READY only when the "READY record decrypts, hash
    // matches", and PP-HS-010 waits for a verified READY. The spec names no code for the initiator;
    // AUTHENTICATION_FAILED mirrors the responder's PP-HS-019.
    requirements: ["PP-HS-010"],
    errorCode: "AUTHENTICATION_FAILED",
    what: "READY decrypts but its handshake_hash has one bit flipped",
  },
];

export function faultSpec(fault: ResponderFault): FaultSpec {
  const spec = FAULTS.find((f) => f.fault === fault);
  if (!spec) throw new Error(`unknown fault ${fault}`);
  return spec;
}
