/**
 * How long a receiver waits, after the first data record it has not acknowledged yet, before its
 * cumulative ACK (spec §9): a quarter of ack_delay_ms, and at most 10 ms. PP-DLV-002 allows up to
 * ack_delay_ms; waiting a little lets one ACK cover a burst (a record per ACK would double the
 * records on the wire), and waiting little keeps the sender's retransmit buffer short. Server and
 * client use the same rule.
 */
export function ackWaitMs(ackDelayMs: number): number {
  return Math.min(10, Math.floor(ackDelayMs / 4));
}

/** Runs `fire` after `ackWaitMs(ackDelayMs)`: at once after this turn of the event loop when that is 0. */
export function afterAckWait(ackDelayMs: number, fire: () => void): void {
  const wait = ackWaitMs(ackDelayMs);
  if (wait === 0) setImmediate(fire);
  else setTimeout(fire, wait);
}
