/**
 * Requirements of the client class (spec §18) that client mode does not test, each with the reason:
 * what a client does inside itself is not on the wire (the traceability rule of STYLE.md: every MUST
 * maps to a case or to an exclusion, in client mode as in server mode).
 */
import type { Exclusion } from "../exclusions.ts";

export const CLIENT_EXCLUSIONS: readonly Exclusion[] = [
  { requirement: "PP-AUTH-008", reason: "a client's logs are not observable over the wire (the runner redacts what a driver prints on stderr, PP-AUTH-008 holds for the runner itself)" },
  { requirement: "PP-KS-003", reason: "erasing key material is not observable over the wire" },
  { requirement: "PP-KS-009", reason: "reaching seq 2^53-1 needs 2^53 records" },
  { requirement: "PP-TRN-017", reason: "the runner serves on the loopback interface only, where the spec allows ws:// and http://; what a client does off loopback is not on this wire" },
  { requirement: "PP-CAP-005", reason: "a client receives no capability offer: the responder selects from the client's (PP-HS-015), and a CAPABILITY_EXCHANGE naming other names is INVALID_MESSAGE (PP-CAP-009, client.capabilities.exchange-other-capabilities)" },
  { requirement: "PP-VER-010", reason: 'binds a client only in a session that selected "1.1", which needs a client that offers "1.1" and a v1.1 responder in the runner; client mode has no v1.1 responder yet (the reference client offers "1.2" only)' },
];
