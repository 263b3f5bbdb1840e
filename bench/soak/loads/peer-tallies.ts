/**
 * Handlers that count what an abusive WebSocket peer sees: each ERROR code and close code into the
 * soak-wide tallies, and into the load's own counts under the peer's role. A BUFFER_OVERFLOW is
 * also counted by the bound its message names, to show which of the server's bounds bit.
 */
import type { Counts } from "../counts.ts";
import type { PeerHandlers } from "../soak-peer.ts";
import type { LoadContext } from "./load.ts";

/** The bound a BUFFER_OVERFLOW message names (the server's messages name the limit they apply). */
export function overflowBound(message: string): string {
  if (message.includes("max_message_bytes")) return "session's incomplete chunks > max_message_bytes (PP-CHK-015)";
  if (message.includes("max_buffered_bytes")) return "all sessions > max_buffered_bytes (PP-LIM-012)";
  if (message.includes("max_send_queue_bytes")) return "recipient's queue > max_send_queue_bytes (PP-DLV-014)";
  if (message.includes("records)")) return "recipient's queue > retransmit_buffer records (PP-DLV-014)";
  return "unnamed bound";
}

export function tallyingHandlers(context: LoadContext, counts: Counts, role: string, stopping: () => boolean, extra: PeerHandlers = {}): PeerHandlers {
  return {
    ...extra,
    onError(code, message) {
      context.seen.errors.add(code);
      counts.add(`${role}: ERROR ${code}`);
      if (code === "BUFFER_OVERFLOW") counts.add(`${role}: BUFFER_OVERFLOW for ${overflowBound(message)}`);
      extra.onError?.(code, message);
    },
    onClose(code, byUs) {
      if (!byUs && !stopping()) {
        context.seen.closes.add(String(code));
        counts.add(`${role}: closed by the server with ${code}`);
      }
      extra.onClose?.(code, byUs);
    },
  };
}
