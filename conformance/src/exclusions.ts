/**
 * MUST requirements server mode does not test, each with the reason (the traceability index of
 * STYLE.md: every MUST maps to a case or to an exclusion). Server mode tests servers (spec §18), so
 * requirements that bind only a client or initiator are excluded here (the probe itself follows
 * them); client mode (`peer-conformance client`, client-mode/) counts them against its own cases and
 * exclusions.
 */
export interface Exclusion {
  requirement: string;
  reason: string;
}

const CLIENT_ONLY = "binds a client or initiator: server mode tests servers (spec §18) and its probe follows it; client mode (peer-conformance client) counts it";

export const EXCLUSIONS: readonly Exclusion[] = [
  { requirement: "PP-VER-002", reason: CLIENT_ONLY },
  { requirement: "PP-VER-008", reason: CLIENT_ONLY },
  { requirement: "PP-VER-011", reason: CLIENT_ONLY },
  { requirement: "PP-HS-002", reason: CLIENT_ONLY },
  { requirement: "PP-HS-010", reason: CLIENT_ONLY },
  { requirement: "PP-HS-013", reason: `${CLIENT_ONLY}; the probe checks the server side (both session_id values equal) in handshake/complete` },
  { requirement: "PP-SES-001", reason: CLIENT_ONLY },
  { requirement: "PP-SES-006", reason: CLIENT_ONLY },
  { requirement: "PP-SES-009", reason: `${CLIENT_ONLY}; the probe verifies the server's resume finished MAC in every resume case` },
  { requirement: "PP-TRN-011", reason: CLIENT_ONLY },
  { requirement: "PP-TRN-013", reason: CLIENT_ONLY },
  { requirement: "PP-AUTH-008", reason: "logs are not observable over the wire; ERROR.message is checked for secrets instead (PP-ERR-008)" },
  { requirement: "PP-KS-003", reason: "erasing key material is not observable over the wire" },
  { requirement: "PP-KS-009", reason: "reaching seq 2^53-1 needs 2^53 records; the schema check of every inbound seq (at most 2^53-1) is all that is observable" },
  { requirement: "PP-SES-016", reason: "needs control of the target's lifecycle (a shutdown); the reference's own tests cover it" },
  { requirement: "PP-LIM-008", reason: "configurability is a property of the server's deployment, not of its wire behaviour; the reference's own tests cover it" },
];

export function isExcluded(requirement: string): boolean {
  return EXCLUSIONS.some((e) => e.requirement === requirement);
}
