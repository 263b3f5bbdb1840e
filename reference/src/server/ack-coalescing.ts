/**
 * When the server acknowledges the data records it received (spec §9): one cumulative ACK per
 * burst, sent at most ack_delay_ms / 4 (and at most 10 ms) after the burst's first record, so that
 * a stream of one-at-a-time messages does not cost an ACK record each (PP-DLV-002).
 */
import type { ServerSession } from "./server-session.ts";

/** Schedules the session's next ACK unless one is already scheduled; `send` seals and sends it. */
export function scheduleAck(serverSession: ServerSession, ackDelayMs: number, send: (ack: number) => void): void {
  if (serverSession.ackPending) return;
  serverSession.ackPending = true;
  const fire = () => {
    serverSession.ackPending = false;
    // A resume may have restarted the numbering since the ACK was scheduled: nothing to acknowledge yet.
    const ack = serverSession.session.acknowledgeableSeq;
    if (serverSession.ended || !serverSession.sink || ack < 0) return;
    send(ack);
  };
  const delay = Math.min(10, Math.floor(ackDelayMs / 4));
  if (delay === 0) setImmediate(fire);
  else setTimeout(fire, delay);
}
