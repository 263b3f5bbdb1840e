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
];
