/**
 * What the cluster fault tests do with a node, as a peer does it (spec §7 handshake, §8 resume, §9
 * messages): raw peers (../support/raw-peer.ts), so that a test sees every frame and close code,
 * including the ERROR a node answers while its Redis is away.
 */
import { expect } from "vitest";
import { ed25519FromSeed, randomBytes } from "../../src/crypto.ts";
import type { Envelope } from "../../src/envelope.ts";
import { InitiatorHandshake } from "../../src/handshake/initiator.ts";
import { startResume } from "../../src/session/resume-initiator.ts";
import type { Session } from "../../src/session/session.ts";
import { RawPeer, type Frame } from "../support/raw-peer.ts";

/** The message a node answers with when a step needs Redis and Redis does not answer (cluster-node.ts). */
export const REGISTRY_UNREACHABLE = "the session registry is unreachable; retry";

/** Every raw peer a test opened, closed by `closeAll`. */
export class PeerPool {
  private readonly open: RawPeer[] = [];

  async connect(url: string): Promise<RawPeer> {
    const peer = await RawPeer.open(url);
    this.open.push(peer);
    return peer;
  }

  /** A confirmed session of `entity` on the node at `wsUrl` (the six steps and READY). */
  async session(wsUrl: string, entity: string): Promise<{ peer: RawPeer; session: Session }> {
    const peer = await this.connect(wsUrl);
    const session = await peer.handshake(entity);
    return { peer, session };
  }

  /**
   * SESSION_RESUME of `session` on the node at `wsUrl` (spec §8), with the highest seq received as
   * last_rx_seq. On READY the client side verifies the Finished and takes the fresh keys, so the
   * returned peer reads and sends records of the resumed session.
   */
  async resume(wsUrl: string, serverId: string, session: Session): Promise<{ peer: RawPeer; answer: Frame }> {
    const peer = await this.connect(`${wsUrl}?session_id=${session.id}`);
    const flow = startResume(session.resumptionSecret, { sessionId: session.id, entityId: session.localId, peerId: serverId, lastRxSeq: session.acknowledgeableSeq, now: Date.now() });
    peer.sendRaw(flow.resume);
    const answer = await peer.next(10_000);
    if (answer.type === "SESSION_RESUME_ACK" && (answer.payload as { status?: string }).status === "READY") {
      const { keys, peerLastRxSeq } = flow.finish(answer as unknown as Envelope);
      session.rekey(keys, peerLastRxSeq);
      peer.session = session;
    }
    return { peer, answer };
  }

  /** HANDSHAKE_INIT only: the node's first answer (HANDSHAKE_INIT_ACK, or an ERROR) and how long it took. */
  async initOnly(wsUrl: string, entity: string): Promise<{ peer: RawPeer; answer: Frame; waitedMs: number }> {
    const peer = await this.connect(wsUrl);
    const initiator = new InitiatorHandshake({ identity: ed25519FromSeed(randomBytes(32)), entityId: entity, versions: ["1.2"], capabilities: ["websocket", "resume", "chunking", "events"], now: Date.now });
    const started = performance.now();
    peer.sendRaw(initiator.start());
    const answer = await peer.next(15_000);
    return { peer, answer, waitedMs: Math.round(performance.now() - started) };
  }

  closeAll(): void {
    for (const peer of this.open.splice(0)) peer.close();
  }
}

/**
 * Sends a PEER_MESSAGE from `sender` to `recipient` and checks the whole exchange: the recipient
 * receives it with its content and sender (PP-DLV-006) and acknowledges it, and the sender's
 * record is acknowledged (PP-DLV-001, an ACK covering its seq).
 */
export async function exchange(sender: RawPeer, recipient: RawPeer, content: unknown): Promise<void> {
  const senderSession = sender.session as Session;
  const recipientSession = recipient.session as Session;
  const sent = sender.sendRecord("PEER_MESSAGE", { content }, { recipient_id: recipientSession.localId });
  const received = await recipient.nextOfType("PEER_MESSAGE", 10_000);
  expect(received.message_id).toBe(sent.message_id);
  expect(received.payload).toEqual({ content });
  expect((received as unknown as { sender_id: string }).sender_id).toBe(senderSession.localId);
  recipient.sendRecord("ACK", { ack: recipientSession.lastRecvSeq });
  // Cumulative ACKs (spec §9): an earlier one may cover only the records before this one.
  let acked = -1;
  while (acked < sent.seq) {
    const ack = await sender.nextOfType("ACK", 10_000);
    acked = (ack.payload as { ack: number }).ack;
    expect(Number.isInteger(acked)).toBe(true);
  }
  expect(acked).toBe(sent.seq);
}

/** The payload of an ERROR (or of a resume's status ERROR) when a node cannot reach Redis: INTERNAL_ERROR, retryable (spec §12 registry row). */
export function expectRegistryUnreachable(error: unknown, relatedId?: string): void {
  expect(error).toMatchObject({ code: "INTERNAL_ERROR", message: REGISTRY_UNREACHABLE, retryable: true });
  if (relatedId !== undefined) expect((error as { related_message_id?: string }).related_message_id).toBe(relatedId);
}

/** A frame's type and, for an ERROR, its payload: what a failure message should show. */
export function describeFrame(frame: Frame): string {
  return `${frame.type} ${JSON.stringify(frame.payload)}`;
}
