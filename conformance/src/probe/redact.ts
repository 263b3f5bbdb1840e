/**
 * Tokens never reach a trace, report, replay file or message of the runner (in the spirit of
 * PP-AUTH-008, which asks the same of endpoints): every text the runner keeps goes through
 * `redactSecrets`. Probes send tokens in the `Authorization: Bearer` header, which is never traced,
 * but a case may put one in the `token` query parameter of a WebSocket URL (PP-AUTH-005), a
 * target answers `{"token": ...}` from POST /auth/verify, and a target may echo what it was sent.
 */
const REDACTED = "<redacted>";

const PATTERNS: readonly [RegExp, string][] = [
  // Authorization: Bearer <token>, wherever it is written.
  [/(\bbearer\s+)[^\s"',;<>]+/gi, `$1${REDACTED}`],
  // The token query parameter of a URL (PP-AUTH-005).
  [/([?&]token=)[^&#\s"'<>]+/gi, `$1${REDACTED}`],
  // {"token": "..."} as POST /auth/verify answers it (spec §4.5), also when a message cut it short.
  [/("token"\s*:\s*")[^"]*/g, `$1${REDACTED}`],
  // A compact JWT anywhere else, or what is left of one after a cut: its header is base64url JSON,
  // so it starts with "eyJ" (PP-AUTH-003).
  [/\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*)?/g, REDACTED],
];

export function redactSecrets(text: string): string {
  let out = text;
  for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
  return out;
}
