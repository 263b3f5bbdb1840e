/**
 * When the server acknowledges the data records it received (spec §9): one cumulative ACK per
 * burst, sent ../session/ack-wait.ts after the burst's first record, so that a stream of
 * one-at-a-time messages does not cost an ACK record each (PP-DLV-002).
 */
import { afterAckWait } from "../session/ack-wait.ts";
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
  afterAckWait(ackDelayMs, fire);
}
