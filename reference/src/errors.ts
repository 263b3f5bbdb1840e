/**
 * Protocol errors carry a code from the spec's error registry (§17.2); the registry row fixes the
 * ERROR payload's `retryable`, whether the connection stays open, the close code and the HTTP
 * status (PP-ERR-001..005). Local failures that never reach the wire use LocalError instead.
 */
import registries from "../../spec/registries.json" with { type: "json" };

export type ErrorCode =
  | "INVALID_MESSAGE"
  | "VERSION_NOT_SUPPORTED"
  | "AUTHENTICATION_FAILED"
  | "PERMISSION_DENIED"
  | "SESSION_NOT_FOUND"
  | "UNKNOWN_RECIPIENT"
  | "HANDSHAKE_TIMEOUT"
  | "HEARTBEAT_TIMEOUT"
  | "INVALID_STATE"
  | "REPLAY_DETECTED"
  | "SESSION_EXPIRED"
  | "MESSAGE_TOO_LARGE"
  | "CHUNK_ERROR"
  | "RATE_LIMIT_EXCEEDED"
  | "BUFFER_OVERFLOW"
  | "INTERNAL_ERROR";

export interface ErrorRow {
  code: ErrorCode;
  retryable: boolean;
  closes: boolean;
  closeCode: number | null;
  httpStatus: number;
}

export const ERROR_ROWS: ReadonlyMap<ErrorCode, ErrorRow> = new Map(
  registries.errors.map((row) => [
    row.code as ErrorCode,
    {
      code: row.code as ErrorCode,
      retryable: row.retryable === "true",
      closes: row.connection === "close",
      closeCode: row.close === "-" ? null : Number(row.close),
      httpStatus: Number(row.http),
    },
  ]),
);

export function errorRow(code: ErrorCode): ErrorRow {
  const row = ERROR_ROWS.get(code);
  if (!row) throw new Error(`error code ${code} is not in the spec registry`);
  return row;
}

/** An error the peer is told about with an ERROR message of this code. */
export class ProtocolError extends Error {
  readonly row: ErrorRow;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly relatedMessageId?: string,
  ) {
    super(message);
    this.row = errorRow(code);
  }

  /** The ERROR payload (spec §12). */
  toPayload(): { code: ErrorCode; message: string; retryable: boolean; related_message_id?: string } {
    const payload: { code: ErrorCode; message: string; retryable: boolean; related_message_id?: string } = { code: this.code, message: this.message, retryable: this.row.retryable };
    if (this.relatedMessageId !== undefined) payload.related_message_id = this.relatedMessageId;
    return payload;
  }
}

/** Local failures of the client library, kept apart from the wire codes (STYLE.md). */
export type LocalErrorCode = "CONNECTION_CLOSED" | "TIMEOUT" | "NOT_CONNECTED" | "TRANSPORT_UNAVAILABLE" | "REMOTE_ERROR";

export class LocalError extends Error {
  constructor(
    readonly code: LocalErrorCode,
    message: string,
    readonly remote?: { code: string; message: string; retryable: boolean },
  ) {
    super(message);
  }
}
