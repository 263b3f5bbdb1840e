/**
 * This server as one node of a cluster on Redis (`peer-server --redis URL`; the keys are
 * ./registry.ts, the deployment docs/guides/deployment.md).
 *
 * A confirmed session lives on one node, the one its connection is on: its record path (seq
 * numbers, keys, the ACK timer) stays in that process's memory and costs no Redis round trip. What
 * another node may need is in Redis: the session itself, so that SESSION_RESUME works on any node;
 * the entity's binding and the nonce caches, so that a replay sent to another node is refused; and
 * every data message for an entity, in a stream, until the entity acknowledges it, so that a
 * message acknowledged to its sender survives the recipient's node dying.
 *
 * Routing is pub/sub plus a stream: a message for an entity on another node is appended to the
 * entity's stream and published to that node in the same script; the stream is what a resume reads
 * again, the publication is only the fast path. Pub/sub alone loses what is sent while a node
 * restarts; a stream alone would have every node poll every entity. A message for an entity on this
 * node is delivered in memory at once; its stream append runs beside it and only holds back the
 * sender's ACK (Session.hold).
 */
import { ProtocolError } from "../../errors.ts";
import { AtRestError } from "./at-rest.ts";
import type { SessionKeys } from "../../key-schedule.ts";
import type { OutboundEntry } from "../../session/session.ts";
import type { Logger } from "../logger.ts";
import type { ServerSession } from "../server-session.ts";
import type { BroadcastNotice, NodeNotice, Registry, SharedSession, StoredMessage } from "./registry.ts";

/** What the node asks of the PeerService when another node tells it something. */
export interface ClusterHost {
  /** A message for an entity whose session is here, appended to its stream by another node. */
  deliverStored(entity: string, message: StoredMessage): void;
  /**
   * The session was resumed on another node (PP-SES-014: one live connection); what the peer's
   * last_rx_seq covers has left the entity's stream when the promise settles (PP-SES-010).
   */
  movedAway(sessionId: string, lastRxSeq: number): Promise<void>;
  /** A newer session of the entity was confirmed on another node. */
  replaced(sessionId: string): void;
  /** A BROADCAST published on another node (PP-EVT-003). */
  relayBroadcast(notice: BroadcastNotice): void;
  /** The entities whose sessions are here, connected or not. */
  localEntities(): Iterable<string>;
  /** An error found after its record was handled, reported on the session's connection (PP-ERR-003). */
  failAsync(serverSession: ServerSession, error: ProtocolError): void;
}

const HEARTBEAT_MS = 1000;
/** A node silent for longer is dead. */
const DEAD_AFTER_MS = 3 * HEARTBEAT_MS;
/** How long a node's last heartbeat is kept: longer than any resume window it could bound. */
const HEARTBEAT_KEPT_MS = 7 * 24 * 3600 * 1000;
/** How long a resume waits for the session's previous node to hand it over. */
const HAND_OVER_TIMEOUT_MS = 1000;

export class ClusterNode {
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private host: ClusterHost | undefined;
  /** The keys of sessions between step 4 and SESSION_CONFIRM, to be stored when they are confirmed. */
  private readonly pendingKeys = new WeakMap<ServerSession, SessionKeys>();
  /** Acknowledgements Redis did not take (it was away), by entity: recorded once it is back. */
  private readonly unrecorded = new Map<string, { sender_id: string; message_id: string }[]>();
  /** Resumes waiting for the node a session was on to hand it over, by session id. */
  private readonly handedOver = new Map<string, () => void>();
  /** The resume epoch of each session held here: the compare-and-set of its next resume. */
  private readonly epochs = new WeakMap<ServerSession, number>();

  constructor(
    readonly registry: Registry,
    private readonly log: Logger,
  ) {}

  get nodeId(): string {
    return this.registry.nodeId;
  }

  /** Starts listening to the node's channel and keeping it alive. */
  start(host: ClusterHost): void {
    this.host = host;
    this.registry.onNodeNotice((notice: NodeNotice) => {
      if (notice.kind === "message") host.deliverStored(notice.entity, notice.message);
      else if (notice.kind === "resumed-elsewhere") {
        void host
          .movedAway(notice.sessionId, notice.lastRxSeq)
          .catch((error: unknown) => void this.unreachable(error))
          .finally(() => void this.registry.notify(notice.node, { kind: "handed-over", sessionId: notice.sessionId }).catch(() => {}));
      } else if (notice.kind === "handed-over") this.handedOver.get(notice.sessionId)?.();
      else host.replaced(notice.sessionId);
    });
    this.registry.onBroadcast((notice) => host.relayBroadcast(notice));
    this.registry.onUnreadable((error) => void this.unreachable(error));
    // Messages for entities here that were handed over while the channel was lost are in their
    // streams. Acknowledgements that could not be recorded go first, so that what the recipients
    // acknowledged meanwhile is not sent to them again.
    this.registry.onResubscribed(() => {
      void this.flushAcknowledgements().then(() => {
        for (const entity of host.localEntities()) {
          void this.registry.queued(entity).then(
            (messages) => {
              for (const message of messages) host.deliverStored(entity, message);
            },
            (error: unknown) => void this.unreachable(error),
          );
        }
      });
    });
    const beat = () => void this.registry.heartbeat(HEARTBEAT_KEPT_MS).catch(() => {});
    beat();
    this.heartbeatTimer = setInterval(beat, HEARTBEAT_MS);
    this.heartbeatTimer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.heartbeatTimer);
    await this.registry.close();
  }

  /**
   * A Redis failure becomes the registry's error for a failure of the endpoint: INTERNAL_ERROR,
   * retryable, so the peer tries again (resume, or a new handshake) once Redis is back.
   */
  unreachable(error: unknown, relatedId?: string): ProtocolError {
    if (error instanceof ProtocolError) return error;
    if (error instanceof AtRestError) {
      this.log.error({ err: error.message }, "a value in Redis does not open under --redis-key-file");
      return new ProtocolError("INTERNAL_ERROR", "the session's state does not open on this node", relatedId);
    }
    this.log.warn({ err: error instanceof Error ? error.message : String(error) }, "session registry (Redis) unreachable");
    return new ProtocolError("INTERNAL_ERROR", "the session registry is unreachable; retry", relatedId);
  }

  /** Runs a registry call, turning a Redis failure into INTERNAL_ERROR. */
  async call<T>(work: () => Promise<T>, relatedId?: string): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw this.unreachable(error, relatedId);
    }
  }

  /** PP-RPL-002 across the cluster: a HANDSHAKE_INIT nonce seen by any node is a replay. */
  async claimHandshakeNonce(nonce: string, ttlMs: number, relatedId: string): Promise<void> {
    const fresh = await this.call(() => this.registry.claimHandshakeNonce(nonce, ttlMs), relatedId);
    if (!fresh) throw new ProtocolError("REPLAY_DETECTED", "HANDSHAKE_INIT nonce already used (seen by another node of this server)", relatedId);
  }

  established(serverSession: ServerSession, keys: SessionKeys): void {
    this.pendingKeys.set(serverSession, keys);
  }

  /**
   * SESSION_CONFIRM verified on this node: the entity is bound cluster-wide unless another key
   * completed first (PP-AUTH-010, PP-AUTH-011); the session becomes the entity's. Returns the
   * entity's previous session, if any, and the messages already waiting in the entity's stream,
   * which the new session takes over (PP-DLV-008).
   */
  async register(serverSession: ServerSession, relatedId: string): Promise<{ previous?: { id: string; owner: string }; waiting: StoredMessage[] }> {
    const keys = this.pendingKeys.get(serverSession);
    if (!keys) throw new Error("a confirmed session without its keys");
    const session = serverSession.session;
    const shared: SharedSession = { id: session.id, entity: session.peerId, identityKey: session.peerIdentityKey, version: session.version, capabilities: session.capabilities, aead: session.aead, expiresAt: session.expiresAt, keys, epoch: 0, owner: this.nodeId, resumeNonces: [] };
    if (session.peerLimits) shared.peerLimits = session.peerLimits;
    const result = await this.call(() => this.registry.confirm(shared), relatedId);
    if (result.status === "bound-other") throw new ProtocolError("AUTHENTICATION_FAILED", `entity ${session.peerId} is bound to another identity key`, relatedId); // PP-AUTH-011
    this.pendingKeys.delete(serverSession);
    this.epochs.set(serverSession, 0);
    const waiting = await this.call(() => this.registry.queued(session.peerId), relatedId);
    return { ...(result.previous ? { previous: result.previous } : {}), waiting };
  }

  /**
   * A session of this cluster that is not held here, as Redis has it, for a resume (spec §8).
   * Its resume window (PP-SES-011) runs from when its connection closed; a node that died closed
   * nothing, so for its sessions the window runs from the node's last heartbeat.
   */
  async load(sessionId: string, relatedId: string): Promise<SharedSession | undefined> {
    return this.call(async () => {
      const shared = await this.registry.load(sessionId);
      if (!shared || shared.disconnectedAt !== undefined || shared.owner === this.nodeId) return shared;
      const lastSeen = await this.registry.lastSeen(shared.owner);
      if (lastSeen !== undefined && Date.now() - lastSeen > DEAD_AFTER_MS) shared.disconnectedAt = lastSeen;
      return shared;
    }, relatedId);
  }

  /** A session restored from Redis is held here from now on, at the epoch it was read at. */
  adopt(serverSession: ServerSession, epoch: number): void {
    this.epochs.set(serverSession, epoch);
  }

  /**
   * A verified SESSION_RESUME: the resumption secret rotates in Redis only if no node rotated it
   * since this one read it, so one binder resumes once in the whole cluster (PP-SES-007, PP-RPL-006).
   * Returns the node the session was on.
   */
  async rotate(serverSession: ServerSession, nonce: string, keys: SessionKeys, peerLastRxSeq: number, relatedId: string): Promise<string> {
    const epoch = this.epochs.get(serverSession) ?? 0;
    const session = serverSession.session;
    const result = await this.call(() => this.registry.resume({ id: session.id, entity: session.peerId, epoch } as SharedSession, nonce, keys), relatedId);
    if (result.status === "missing") throw new ProtocolError("SESSION_NOT_FOUND", "the session ended", relatedId);
    if (result.status === "replayed") throw new ProtocolError("REPLAY_DETECTED", "resume nonce already used", relatedId);
    if (result.status !== "ok") throw new ProtocolError("AUTHENTICATION_FAILED", "the session was resumed on another node since; this binder's secret is spent", relatedId); // PP-SES-007: stale
    this.epochs.set(serverSession, epoch + 1);
    if (result.previousOwner && result.previousOwner !== this.nodeId) await this.handOver(result.previousOwner, session.id, peerLastRxSeq, relatedId);
    return result.previousOwner;
  }

  /**
   * The node a session was on knows which of the entity's messages the peer's last_rx_seq covers
   * (the seq numbers were its own): it removes them from the stream and closes its connection, and
   * this node waits for that before it reads the stream, so that it re-sends only what is not
   * covered (PP-SES-010). A node that does not answer in time (it died) hands over nothing: its
   * messages are all re-sent, and the peer de-duplicates them (PP-DLV-003).
   */
  private async handOver(node: string, sessionId: string, lastRxSeq: number, relatedId: string): Promise<void> {
    const lastSeen = await this.call(() => this.registry.lastSeen(node), relatedId);
    if (lastSeen === undefined || Date.now() - lastSeen > DEAD_AFTER_MS) return;
    const done = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, HAND_OVER_TIMEOUT_MS);
      this.handedOver.set(sessionId, () => {
        clearTimeout(timer);
        resolve();
      });
    });
    try {
      await this.call(() => this.registry.notify(node, { kind: "resumed-elsewhere", sessionId, node: this.nodeId, lastRxSeq }), relatedId);
      await done;
    } finally {
      this.handedOver.delete(sessionId);
    }
  }

  /** What a resume on this node re-sends of an entity's stream, and whose messages it already delivered. */
  async takeOver(entity: string, relatedId: string): Promise<{ waiting: StoredMessage[]; delivered: string[] }> {
    const [waiting, delivered] = await this.call(() => Promise.all([this.registry.queued(entity), this.registry.deliveredFrom(entity)]), relatedId);
    return { waiting, delivered };
  }

  /** Tells the node of an entity's previous session that a newer one replaced it. */
  async replacedOn(node: string, sessionId: string): Promise<void> {
    if (node === this.nodeId) return;
    await this.registry.notify(node, { kind: "replaced", sessionId }).catch((error: unknown) => void this.unreachable(error));
  }

  /**
   * Appends a message to its recipient's stream (see the file's comment). `status` "unknown": the
   * recipient has no session in the cluster (PP-DLV-007); "duplicate": delivered before, from
   * another node (PP-DLV-003); "full": its stream holds retransmit_buffer messages (PP-DLV-013).
   */
  store(message: OutboundEntry, recipient: string, bounds: { dedupeMemory: number; maxQueued: number; resumeWindowMs: number }, recipientHere: boolean) {
    const stored: Omit<StoredMessage, "streamId"> = { message_id: message.message_id, type: message.type, inner: message.inner, sender_id: message.sender_id };
    if (message.recipient_id !== undefined) stored.recipient_id = message.recipient_id;
    return this.call(() => this.registry.deliver(stored, recipient, bounds, recipientHere ? "to-other-nodes" : "to-any-node"), message.message_id);
  }

  /**
   * A data record whose message is still being stored in the cluster (the recipient's stream): its
   * acknowledgement waits until it is stored (Session.hold). Queued on this node already
   * (`queuedHere`), it is delivered at once and only its stream copy is pending. Not stored, it is
   * never acknowledged, so the sender sends it again (PP-DLV-013), except for a recipient that does
   * not exist, which is refused for good (PP-DLV-016); the ERROR follows on its own.
   */
  whenStored(from: ServerSession, seq: number, messageId: string, storing: Promise<void>, queuedHere: boolean, acknowledge: () => void): void {
    const session = from.session;
    const release = session.hold(seq);
    if (queuedHere) session.markDelivered(session.peerId, messageId); // PP-DLV-003
    storing.then(
      () => {
        if (!queuedHere) session.markDelivered(session.peerId, messageId); // PP-DLV-003
        release();
        acknowledge();
      },
      (error: unknown) => {
        const failure = this.unreachable(error, messageId);
        if (failure.code !== "UNKNOWN_RECIPIENT") session.refuse(seq); // PP-DLV-013
        release();
        acknowledge();
        this.host?.failAsync(from, failure);
      },
    );
  }

  /** What a node that took a session over knows its peer sent and it delivered (PP-DLV-003). */
  rememberDelivered(serverSession: ServerSession, messageIds: readonly string[]): void {
    for (const messageId of messageIds) serverSession.session.markDelivered(serverSession.peerId, messageId); // PP-DLV-003
  }

  /**
   * A message for a recipient with no session on this node: into its stream, and to its node.
   * Rejects with the error that refuses it: UNKNOWN_RECIPIENT (no session in the cluster, PP-DLV-007,
   * PP-DLV-017) or BUFFER_OVERFLOW (its stream is full, PP-DLV-013). A duplicate (delivered before,
   * by another node, PP-DLV-003) is acknowledged and dropped.
   */
  async forward(message: OutboundEntry, recipient: string, bounds: { dedupeMemory: number; maxQueued: number; resumeWindowMs: number }): Promise<void> {
    const result = await this.store(message, recipient, bounds, false);
    if (result.status === "unknown") throw new ProtocolError("UNKNOWN_RECIPIENT", `${recipient} has no session on this server`, message.message_id); // PP-DLV-007, PP-DLV-017
    if (result.status === "full") throw new ProtocolError("BUFFER_OVERFLOW", `the queue for ${recipient} is full (${bounds.maxQueued} records)`, message.message_id); // PP-DLV-013
  }

  /**
   * The recipient acknowledged these records: their messages leave its stream. A chunked message
   * leaves with its last chunk (acknowledgements are cumulative, so every chunk before it is
   * acknowledged too). A failure leaves them in the stream, to be re-sent after a resume and
   * de-duplicated by the recipient (PP-DLV-003).
   */
  acknowledged(entity: string, entries: OutboundEntry[]): Promise<void> {
    const messages: { sender_id: string; message_id: string }[] = [];
    for (const entry of entries) {
      if (entry.type !== "CHUNKED_MESSAGE") messages.push(entry);
      else {
        const chunk = entry.inner as { chunk_id: string; is_last: boolean };
        if (chunk.is_last) messages.push({ sender_id: entry.sender_id, message_id: chunk.chunk_id });
      }
    }
    return this.record(entity, messages);
  }

  private record(entity: string, messages: { sender_id: string; message_id: string }[]): Promise<void> {
    if (messages.length === 0) return Promise.resolve();
    return this.registry.acknowledged(entity, messages).catch((error: unknown) => {
      void this.unreachable(error);
      const pending = this.unrecorded.get(entity) ?? [];
      pending.push(...messages);
      this.unrecorded.set(entity, pending);
    });
  }

  /** Records the acknowledgements Redis missed while it was away; what fails again waits for the next time. */
  private async flushAcknowledgements(): Promise<void> {
    const waiting = [...this.unrecorded];
    this.unrecorded.clear();
    await Promise.all(waiting.map(([entity, messages]) => this.record(entity, messages)));
  }

  /** Where the resume window of a session runs from (PP-SES-011), for a resume on another node. */
  disconnected(serverSession: ServerSession, at: number | undefined): void {
    void this.registry.setDisconnected(serverSession.id, at).catch((error: unknown) => void this.unreachable(error));
  }

  /** The session ended for good (PP-SES-015); its stream goes with it unless a newer session took it over. */
  ended(serverSession: ServerSession, dropQueue: boolean): void {
    void this.registry.end(serverSession.id, serverSession.peerId, dropQueue).catch((error: unknown) => void this.unreachable(error));
  }

  broadcast(notice: Omit<BroadcastNotice, "origin">): void {
    void this.registry.broadcast(notice).catch((error: unknown) => void this.unreachable(error));
  }
}
