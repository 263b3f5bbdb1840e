/**
 * Structured logs (pino). Tokens, keys and session secrets never reach a log (PP-AUTH-008): call
 * sites never pass them, and redaction removes them if a field name slips through.
 */
import { pino, type Logger } from "pino";

export type { Logger };

export const REDACTED_FIELDS = ["token", "authorization", "identity_key", "ephemeral_key", "binder", "finished", "signature", "resumption_secret", "key", "secret", "challenge"];

export function createLogger(level: string = "info", destination: { write(line: string): void } = pino.destination(2)): Logger {
  return pino(
    {
      level,
      base: { service: "peer-server" },
      redact: { paths: [...REDACTED_FIELDS, ...REDACTED_FIELDS.map((f) => `*.${f}`)], censor: "[redacted]" },
    },
    destination,
  );
}
