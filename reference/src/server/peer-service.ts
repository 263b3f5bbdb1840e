/**
 * The life of a server session, independent of the transport: WebSocket connections and the HTTP
 * binding both call into this class. What the records of a confirmed session do is
 * ./session-records.ts; where the messages they carry go is ./router.ts.
 *
 * A session's state is held by ./server-session.ts (`confirmed`, `sink`, `disconnectedAt`,
 * `ended`, `expired`; `generation` orders pending handshakes); these are the transitions, and the
 * method of this class that makes each:
 *
 * | state                   | event                                          | next state   | method          | requirement |
 * | ----------------------- | ---------------------------------------------- | ------------ | --------------- | ----------- |
 * | (none)                  | CHALLENGE_RESPONSE verified (step 4)            | pending      | establish       | PP-HS-009   |
 * | pending                 | handshake timer over, or its connection closes  | (released)   | (the connection) | PP-HS-011  |
 * | pending                 | SESSION_CONFIRM verified: READY; entity bound   | confirmed    | confirm         | PP-HS-009, PP-AUTH-010 |
 * | pending                 | SESSION_CONFIRM after a newer session of the entity: SESSION_NOT_FOUND | ended | confirm | PP-HS-017 |
 * | confirmed, connected, disconnected | the same entity confirms a newer session | ended | confirm        | (no rule of the spec; its queue passes on, PP-DLV-008) |
 * | confirmed               | a connection takes it                           | connected    | attach          | PP-SES-014  |
 * | connected               | its connection closes (HTTP: each answered request) | disconnected | detach      | PP-SES-011  |
 * | connected, disconnected | SESSION_RESUME accepted: fresh keys             | confirmed    | resume          | PP-SES-007..010 |
 * | connected, disconnected | SESSION_RESUME refused                          | unchanged    | resume          | PP-SES-017  |
 * | disconnected            | resume window over                              | ended        | resume, sweep   | PP-SES-005  |
 * | confirmed, connected, disconnected | lifetime over (its timer, or first seen by a route or record); the connection stays open | ended (expired) | expire (router, records) | PP-SES-005, PP-SES-012 |
 * | ended (expired)         | a record on its connection: SESSION_EXPIRED     | (connection back to a new handshake) | records | PP-SES-018 |
 * | ended (otherwise)       | a record on its connection: SESSION_NOT_FOUND   | unchanged    | records         | PP-SES-015  |
 * | any                     | BYE, or the server shuts down                   | ended        | end             | PP-SES-015, PP-SES-016 |
 *
 * Only a confirmed session is in the store: a pending one is not routed to, binds no identity key
 * and cannot be resumed (PP-HS-009, PP-AUTH-010: the first key that *completes* a handshake).
 * Records go out only to a confirmed, connected session within its lifetime (`flush`, `emit`). An
 * ended session is forgotten: a resume of it is answered NOT_FOUND (PP-SES-004).
 */
import type { Ed25519Identity } from "../crypto.ts";
import { toBase64Url } from "../encoding.ts";
import type { Envelope, Version } from "../envelope.ts";
import { ProtocolError } from "../errors.ts";
import { ResponderHandshake } from "../handshake/responder.ts";
import type { HandshakeResult } from "../handshake/result.ts";
import type { Limits } from "../limits.ts";
import type { RecordEnvelope } from "../record.ts";
import { acceptResume, resumeRefusal } from "../session/resume.ts";
import { Session, type OutboundEntry, type ReplayMode } from "../session/session.ts";
import type { ClusterHost, ClusterNode } from "./cluster/cluster-node.ts";
import type { BroadcastNotice, SharedSession, StoredMessage } from "./cluster/registry.ts";
import type { EventsHub } from "./events-hub.ts";
import type { Logger } from "./logger.ts";
import type { ServerMetrics } from "./metrics.ts";
import { Router } from "./router.ts";
import { ServerSession, type RecordSink } from "./server-session.ts";
import { SessionRecords } from "./session-records.ts";
import type { ServerStore } from "./store.ts";
import type { TokenSubject } from "./tokens.ts";

export interface ServiceConfig {
  serverId: string;
  identity: Ed25519Identity;
  limits: Limits;
  capabilities: string[];
  now?: () => number;
}

/** Versions per transport: v1.1 is HTTP-only (PP-VER-009). */
const VERSIONS: Record<"websocket" | "http", Version[]> = { websocket: ["1.2"], http: ["1.2", "1.1"] };

export class PeerService implements ClusterHost {
  readonly now: () => number;
  /** What the records of a confirmed session do. */
  readonly records: SessionRecords;
  /** Counts step 4s: the order of handshakes (ServerSession.generation). */
  private generations = 0;
  /** The data held for all sessions, as last accounted (PP-LIM-012). */
  private held = 0;
  /**
   * In a cluster, entities whose session this node is taking over (a confirm or a resume waiting
   * for Redis): messages handed to this node for them meanwhile wait here until the session is
   * stored, then join its queue (`deliverStored`).
   */
  private readonly adopting = new Map<string, StoredMessage[]>();

  constructor(
    readonly config: ServiceConfig,
    readonly store: ServerStore,
    readonly hub: EventsHub,
    readonly metrics: ServerMetrics,
    readonly log: Logger,
    /** One node of a cluster on Redis (./cluster/cluster-node.ts); absent, this server is the whole server. */
    readonly cluster?: ClusterNode,
  ) {
    this.now = config.now ?? Date.now;
    this.router = new Router(this);
    this.records = new SessionRecords(this, this.router);
    metrics.readHeldBytesFrom(() => this.held);
    cluster?.start(this);
  }

  /** Where whole data messages go. */
  readonly router: Router;

  get limits(): Limits {
    return this.config.limits;
  }

  newResponder(transport: "websocket" | "http", tokenSubject?: TokenSubject): ResponderHandshake {
    const { config, store, limits } = this;
    return new ResponderHandshake({
      identity: config.identity,
      serverId: config.serverId,
      versions: VERSIONS[transport],
      capabilities: config.capabilities,
      limits,
      now: this.now,
      newSessionId: () => "sess_" + toBase64Url(Buffer.from(crypto.getRandomValues(new Uint8Array(16)))), // PP-HS-012
      isReplayedNonce: (nonce) => store.seenNonce(nonce, this.now() + limits.max_clock_skew_ms, this.now()),
      checkIdentity: (entityId, key) => {
        const bound = store.boundKey(entityId);
        if (bound && !bound.equals(key)) throw new ProtocolError("AUTHENTICATION_FAILED", `entity ${entityId} is bound to another identity key`); // PP-AUTH-011
      },
      ...(tokenSubject ? { tokenSubject } : {}),
    });
  }

  /** Step 4: a pending session, known only to its connection until SESSION_CONFIRM (PP-HS-009). */
  establish(result: HandshakeResult): ServerSession {
    const session = new Session(result, { now: this.now, dedupeMemory: Math.max(1024, this.limits.retransmit_buffer * 4), identity: this.config.identity });
    const serverSession = new ServerSession(session, this.limits);
    serverSession.generation = ++this.generations;
    this.cluster?.established(serverSession, result.keys);
    return serverSession;
  }

  /**
   * PP-RPL-002 in a cluster: HANDSHAKE_INIT's nonce must be new to every node, not only to this one
   * (whose own cache the responder already checked). Nothing to do for a single server.
   */
  async admitInit(init: Envelope): Promise<void> {
    if (this.cluster && init.nonce !== undefined) await this.cluster.claimHandshakeNonce(init.nonce, 2 * this.limits.max_clock_skew_ms, init.message_id);
  }

  /**
   * PP-AUTH-011 in a cluster: an entity bound on another node is checked at step 4 too, as the
   * responder checks this node's bindings (`checkIdentity`), before SESSION_ESTABLISHED.
   */
  async admitIdentity(result: HandshakeResult, relatedId: string): Promise<void> {
    const cluster = this.cluster;
    if (!cluster) return;
    const bound = await cluster.call(() => cluster.registry.boundKey(result.peerId), relatedId);
    if (bound && !bound.equals(result.peerIdentityKey)) throw new ProtocolError("AUTHENTICATION_FAILED", `entity ${result.peerId} is bound to another identity key`, relatedId);
  }

  /**
   * Step 5 -> 6: verifies SESSION_CONFIRM and returns READY (PP-HS-009). Only now does the session
   * exist: it binds its entity (PP-AUTH-010), takes over the queue of the entity's older session
   * (PP-DLV-008) and is stored for routing and resume; its lifetime timer starts (PP-SES-012).
   */
  async confirm(serverSession: ServerSession, record: RecordEnvelope, mode: ReplayMode, sealed?: Buffer): Promise<RecordEnvelope> {
    if (record.type !== "SESSION_CONFIRM") throw new ProtocolError("INVALID_STATE", `expected SESSION_CONFIRM, got ${record.type}`, record.message_id);
    // PP-HS-017: a newer session of the entity was confirmed since this handshake's step 4: this one is void,
    // whatever its SESSION_CONFIRM holds, as an unknown session_id would be.
    const previous = this.store.sessionOf(serverSession.peerId);
    if (serverSession.ended || (previous && previous.generation > serverSession.generation)) {
      serverSession.ended = true;
      throw new ProtocolError("SESSION_NOT_FOUND", `a newer session of ${serverSession.peerId} was established; this handshake is void`, record.message_id);
    }
    const inner = serverSession.session.open(record, mode, this.limits.replay_window, sealed) as { handshake_hash?: string };
    if (inner.handshake_hash !== toBase64Url(serverSession.session.handshakeHash)) throw new ProtocolError("AUTHENTICATION_FAILED", "SESSION_CONFIRM handshake_hash does not match", record.message_id); // PP-HS-009, PP-HS-019
    const bound = this.store.boundKey(serverSession.peerId);
    if (bound && !bound.equals(serverSession.identityKey)) throw new ProtocolError("AUTHENTICATION_FAILED", `entity ${serverSession.peerId} is bound to another identity key`, record.message_id); // PP-AUTH-011: another key completed first
    // In a cluster the binding, the entity's current session and its waiting messages are the cluster's.
    const cluster = this.cluster;
    if (!cluster) return this.confirmed(serverSession, mode, undefined, record.message_id);
    return this.adoptWhile(serverSession.peerId, async () => this.confirmed(serverSession, mode, await cluster.register(serverSession, record.message_id), record.message_id));
  }

  /** SESSION_CONFIRM verified (and, in a cluster, registered): READY. */
  private confirmed(serverSession: ServerSession, mode: ReplayMode, registered: Awaited<ReturnType<ClusterNode["register"]>> | undefined, relatedId: string): RecordEnvelope {
    if (serverSession.ended) throw new ProtocolError("SESSION_NOT_FOUND", `a newer session of ${serverSession.peerId} was established; this handshake is void`, relatedId); // PP-HS-017: ended while the cluster's Redis answered
    const local = this.store.sessionOf(serverSession.peerId);
    if (local && local !== serverSession) {
      serverSession.session.queued.push(...local.session.takeUndelivered());
      this.end(local, "replaced by a new session", true, true);
    }
    if (registered) {
      if (registered.previous && registered.previous.id !== local?.id) void this.cluster?.replacedOn(registered.previous.owner, registered.previous.id);
      this.takeStored(serverSession, registered.waiting);
    }
    this.account(serverSession);
    serverSession.confirmed = true;
    this.store.bindKey(serverSession.peerId, serverSession.identityKey); // PP-AUTH-010
    this.store.putSession(serverSession);
    this.armLifetime(serverSession);
    this.metrics.sessions.inc();
    this.metrics.handshakes.labels(mode === "stream" ? "websocket" : "http", "ok").inc();
    // Ids and versions only: keys, tokens and secrets never reach a log (PP-AUTH-008).
    this.log.info({ entity: serverSession.peerId, version: serverSession.session.version, capabilities: serverSession.session.capabilities }, "session established");
    return serverSession.session.seal("READY", { handshake_hash: toBase64Url(serverSession.session.handshakeHash) }, { recipient_id: serverSession.peerId });
  }

  /** Ends the session when its lifetime is over, traffic or not (PP-SES-012). */
  private armLifetime(serverSession: ServerSession): void {
    const remaining = serverSession.session.expiresAt - this.now();
    if (remaining <= 0) {
      this.expire(serverSession);
      return;
    }
    // setTimeout holds at most 2^31 - 1 ms (about 24.8 days); a longer lifetime re-arms.
    serverSession.lifetimeTimer = setTimeout(() => this.armLifetime(serverSession), Math.min(remaining, 2 ** 31 - 1));
    serverSession.lifetimeTimer.unref();
  }

  /**
   * The lifetime is over: the session ends, nothing more is routed to it, delivered on it or
   * acknowledged for it (PP-SES-012). Its connection stays open: its next record is answered
   * SESSION_EXPIRED and a new handshake may follow (PP-SES-018, the registry row of SESSION_EXPIRED).
   */
  expire(serverSession: ServerSession): void {
    if (serverSession.ended) return;
    serverSession.expired = true;
    this.end(serverSession, "session lifetime ended", false);
  }

  attach(serverSession: ServerSession, sink: RecordSink): void {
    const previous = serverSession.sink;
    serverSession.sink = sink;
    serverSession.disconnectedAt = undefined;
    if (previous && previous !== sink) previous.close(1000, "session resumed on a newer connection"); // PP-SES-014
  }

  detach(serverSession: ServerSession, sink: RecordSink): void {
    if (serverSession.sink !== sink) return;
    serverSession.sink = undefined;
    serverSession.disconnectedAt = this.now();
    if (serverSession.confirmed && !serverSession.ended) this.cluster?.disconnected(serverSession, serverSession.disconnectedAt); // PP-SES-011, for a resume on another node
  }

  /** The bytes held for all sessions at once (PP-LIM-012). */
  get heldBytes(): number {
    return this.held;
  }

  /**
   * Whether `bytes` more for `serverSession` fit under max_buffered_bytes (PP-LIM-012); 0 means no
   * limit. A session that would hold at most max_chunk_bytes always has room, so that sessions that
   * fill the budget cannot stop the others. What a session holds is counted again after every
   * change to its queue or its reassembly (`account`).
   */
  roomFor(serverSession: ServerSession, bytes: number): boolean {
    const budget = this.limits.max_buffered_bytes;
    return budget === 0 || this.held + bytes <= budget || serverSession.heldBytes + bytes <= this.limits.max_chunk_bytes;
  }

  /** Counts again what a session holds, after its queue or reassembly changed (PP-LIM-012, PP-LIM-013). */
  account(serverSession: ServerSession): void {
    const bytes = serverSession.ended ? 0 : serverSession.heldBytes;
    this.held += bytes - serverSession.accountedBytes;
    serverSession.accountedBytes = bytes;
  }

  /** Sends queued records once the session is confirmed and connected (PP-HS-009). */
  flush(serverSession: ServerSession): void {
    const sink = serverSession.sink;
    if (!serverSession.confirmed || !sink || this.pastLifetime(serverSession)) return;
    while (serverSession.sink === sink && (sink.room?.() ?? true)) {
      const record = serverSession.session.sealNextQueued();
      if (!record) return;
      this.emit(serverSession, record);
    }
  }

  /**
   * SESSION_RESUME (spec §8). Returns the answer and, when READY, the session with fresh keys;
   * the caller attaches its sink and then calls `flush` to re-send (PP-SES-010). In a cluster, a
   * session held by another node (or by one that died) is read from Redis, and the rotation of its
   * resumption secret is decided there, so that one binder resumes once in the cluster (PP-SES-007).
   */
  async resume(resume: Envelope): Promise<{ answer: Envelope; serverSession?: ServerSession }> {
    if (this.cluster && typeof resume.sender_id === "string") return this.adoptWhile(resume.sender_id, () => this.resumeHere(resume));
    return this.resumeHere(resume);
  }

  /**
   * Runs a confirm or resume that may take the entity's session over from Redis; messages the
   * cluster hands to this node for the entity meanwhile are queued once it is stored.
   */
  private async adoptWhile<T>(entity: string, work: () => Promise<T>): Promise<T> {
    const mine = this.adopting.get(entity) === undefined;
    if (mine) this.adopting.set(entity, []);
    try {
      return await work();
    } finally {
      if (mine) {
        const arrived = this.adopting.get(entity) ?? [];
        this.adopting.delete(entity);
        for (const message of arrived) this.deliverStored(entity, message);
      }
    }
  }

  private async resumeHere(resume: Envelope): Promise<{ answer: Envelope; serverSession?: ServerSession }> {
    const payload = resume.payload as { session_id: string };
    const now = this.now();
    const refuse = (status: "EXPIRED" | "ERROR" | "NOT_FOUND", error?: ProtocolError) => {
      this.metrics.resumes.labels(status).inc();
      return { answer: resumeRefusal(resume, status, this.config.serverId, now, error) };
    };
    let serverSession = this.store.getSession(payload.session_id);
    let restored = false;
    if (!serverSession && this.cluster) {
      try {
        const shared = await this.cluster.load(payload.session_id, resume.message_id);
        if (shared) {
          serverSession = this.restore(shared);
          restored = true;
        }
      } catch (error) {
        if (error instanceof ProtocolError) return refuse("ERROR", error);
        throw error;
      }
    }
    if (!serverSession || serverSession.ended || serverSession.peerId !== resume.sender_id) return refuse("NOT_FOUND"); // PP-SES-004
    if (serverSession.session.version !== "1.2") return refuse("ERROR", new ProtocolError("VERSION_NOT_SUPPORTED", "a v1.1 session cannot be resumed"));
    const windowOver = serverSession.disconnectedAt !== undefined && now - serverSession.disconnectedAt > this.limits.resume_window_ms; // PP-SES-011: resumable for resume_window_ms, PP-SES-005: EXPIRED after
    if (serverSession.session.isExpired(now) || windowOver) {
      if (restored) this.cluster?.ended(serverSession, true);
      else this.end(serverSession, "expired");
      return refuse("EXPIRED"); // PP-SES-005
    }
    // PP-RPL-006, PP-RPL-009: a nonce already accepted is REPLAY_DETECTED, answered like every refused
    // resume; PP-RPL-010: checked before the binder, which is stale once the secret rotated (PP-SES-007).
    if (!resume.nonce || serverSession.resumeNonces?.has(resume.nonce) === true) return refuse("ERROR", new ProtocolError("REPLAY_DETECTED", "resume nonce already used", resume.message_id));
    let accepted;
    try {
      accepted = acceptResume(serverSession.session.resumptionSecret, resume, { serverId: this.config.serverId, now, lastRxSeq: serverSession.session.acknowledgeableSeq });
    } catch (error) {
      if (error instanceof ProtocolError) return refuse("ERROR", error); // PP-SES-003, PP-SES-017: the session is untouched
      throw error;
    }
    let takeOver: { waiting: StoredMessage[]; delivered: string[] } | undefined;
    if (this.cluster) {
      try {
        await this.cluster.rotate(serverSession, resume.nonce, accepted.keys, accepted.peerLastRxSeq, resume.message_id);
        // Restored here: the entity's stream and what the entity sent are read. A session held here
        // already has its messages in memory (those handed over while this node could not hear were
        // read again when it could, ClusterNode.start): its stream still holds what the resume's
        // last_rx_seq covers, until the acknowledgement below removes it.
        if (restored) takeOver = await this.cluster.takeOver(serverSession.peerId, resume.message_id);
      } catch (error) {
        if (error instanceof ProtocolError) return error.code === "SESSION_NOT_FOUND" ? refuse("NOT_FOUND") : refuse("ERROR", error);
        throw error;
      }
      if (serverSession.ended) return refuse("NOT_FOUND"); // ended while Redis answered
    }
    (serverSession.resumeNonces ??= new Set()).add(resume.nonce);
    if (this.cluster) {
      // What the peer's last_rx_seq acknowledges leaves the entity's stream too (PP-DLV-001).
      const released: OutboundEntry[] = [];
      serverSession.session.acknowledge(accepted.peerLastRxSeq, (entry) => released.push(entry));
      void this.cluster.acknowledged(serverSession.peerId, released);
    }
    serverSession.session.rekey(accepted.keys, accepted.peerLastRxSeq);
    if (restored) {
      this.cluster?.rememberDelivered(serverSession, takeOver?.delivered ?? []); // held here from now on
      this.store.putSession(serverSession);
      this.metrics.sessions.inc();
      this.armLifetime(serverSession);
    }
    // What waits for it in its stream is sent again (PP-SES-010), once: what the session holds already is skipped.
    if (takeOver) this.takeStored(serverSession, takeOver.waiting);
    this.account(serverSession); // PP-LIM-013: what last_rx_seq acknowledged is free
    serverSession.confirmed = true;
    this.metrics.resumes.labels("READY").inc();
    this.log.info({ entity: serverSession.peerId, resent: serverSession.session.queued.length }, "session resumed");
    return { answer: accepted.ack, serverSession };
  }

  /** A session of the cluster as Redis holds it, to be resumed here: disconnected, confirmed, not yet stored locally. */
  private restore(shared: SharedSession): ServerSession {
    const now = this.now();
    const result: HandshakeResult = {
      role: "responder",
      sessionId: shared.id,
      version: shared.version,
      capabilities: shared.capabilities,
      aead: shared.aead,
      localId: this.config.serverId,
      peerId: shared.entity,
      peerIdentityKey: shared.identityKey,
      keys: shared.keys,
      lifetimeMs: shared.expiresAt - now,
      ...(shared.peerLimits ? { peerLimits: shared.peerLimits } : {}),
    };
    const serverSession = this.establish(result);
    serverSession.confirmed = true;
    serverSession.disconnectedAt = shared.disconnectedAt ?? now;
    if (shared.resumeNonces.length > 0) serverSession.resumeNonces = new Set(shared.resumeNonces);
    this.cluster?.adopt(serverSession, shared.epoch);
    return serverSession;
  }

  /**
   * Messages from the entity's stream join the session's queue, after what it holds already; one
   * it holds (by sender and message id, or chunk id) is not queued twice.
   */
  private takeStored(serverSession: ServerSession, messages: StoredMessage[]): void {
    for (const message of messages) this.deliverStored(serverSession.peerId, message, serverSession);
  }

  /** ClusterHost: a message appended to a local entity's stream by another node (or read from it). */
  deliverStored(entity: string, message: StoredMessage, target = this.store.sessionOf(entity)): void {
    if (!target || target.ended) {
      this.adopting.get(entity)?.push(message); // queued once the session taken over here is stored
      return; // otherwise it stays in the stream, for the node the entity resumes on
    }
    const held = (entry: { sender_id: string; message_id: string; type: string; inner: unknown }) => entry.sender_id === message.sender_id && (entry.message_id === message.message_id || (entry.type === "CHUNKED_MESSAGE" && (entry.inner as { chunk_id: string }).chunk_id === message.message_id));
    const session = target.session;
    for (const entry of session.unacked.values()) if (held(entry)) return;
    if (session.queued.some(held)) return;
    try {
      this.router.deliverStored(target, message);
    } catch (error) {
      // It stays in the stream and comes again with the entity's next resume.
      this.log.warn({ entity, err: error instanceof Error ? error.message : String(error) }, "a message from the cluster could not be queued");
    }
  }

  /**
   * ClusterHost: the session was resumed on another node: its connection here closes (PP-SES-014);
   * Redis keeps it. What the peer's last_rx_seq covers leaves the stream first (PP-SES-010).
   */
  async movedAway(sessionId: string, lastRxSeq: number): Promise<void> {
    const serverSession = this.store.getSession(sessionId);
    if (!serverSession || serverSession.ended) return;
    const released: OutboundEntry[] = [];
    serverSession.session.acknowledge(lastRxSeq, (entry) => released.push(entry));
    const acknowledged = this.cluster?.acknowledged(serverSession.peerId, released);
    serverSession.ended = true;
    clearTimeout(serverSession.lifetimeTimer);
    this.store.deleteSession(sessionId);
    this.metrics.sessions.dec();
    serverSession.sink?.close(1000, "session resumed on another node");
    serverSession.sink = undefined;
    this.account(serverSession);
    await acknowledged;
  }

  /** ClusterHost: a newer session of the entity was confirmed on another node; its queue passes on there (PP-DLV-008). */
  replaced(sessionId: string): void {
    const serverSession = this.store.getSession(sessionId);
    if (serverSession) this.end(serverSession, "replaced by a new session", true, true);
  }

  /** ClusterHost: the entities whose sessions this node holds. */
  *localEntities(): Iterable<string> {
    for (const serverSession of this.store.sessions()) if (!serverSession.ended) yield serverSession.peerId;
  }

  /** ClusterHost: a BROADCAST from another node, for this node's subscribers (PP-EVT-003). */
  relayBroadcast(notice: BroadcastNotice): void {
    this.hub.publish(notice.channel, notice.content, notice.publisherId, notice.eventId);
  }

  /**
   * Ends a session for good (BYE, expiry, replacement): it can no longer be resumed (PP-SES-015).
   * `replaced`: a newer session of the entity took its queue over (PP-DLV-008).
   */
  end(serverSession: ServerSession, reason: string, closeConnection = true, replaced = false): void {
    if (serverSession.ended) return;
    serverSession.ended = true;
    clearTimeout(serverSession.lifetimeTimer);
    if (serverSession.confirmed) {
      this.store.deleteSession(serverSession.id);
      this.metrics.sessions.dec();
      this.cluster?.ended(serverSession, !replaced);
    }
    if (closeConnection) serverSession.sink?.close(1000, reason);
    serverSession.sink = undefined;
    this.account(serverSession); // PP-LIM-013: nothing of an ended session is held
  }

  /**
   * An error found after the record that caused it was handled (a cluster's Redis answered later):
   * the session's connection reports it as it would have then (PP-ERR-001..004).
   */
  failAsync(serverSession: ServerSession, error: ProtocolError): void {
    if (serverSession.ended) return;
    if (serverSession.sink?.fail) serverSession.sink.fail(error);
    else if (serverSession.sink) this.sendControl(serverSession, "ERROR", error.toPayload());
  }

  /** Seals and sends a non-data record (or an ERROR) to a connected session. */
  sendControl(serverSession: ServerSession, type: string, inner: unknown, relatedRecipient = true): void {
    if (!serverSession.sink) return;
    const record = serverSession.session.seal(type, inner, relatedRecipient ? { recipient_id: serverSession.peerId } : {});
    this.emit(serverSession, record);
  }

  /** Past its lifetime, though its timer may not have run yet: nothing goes out on it (PP-SES-012). */
  pastLifetime(serverSession: ServerSession): boolean {
    return serverSession.ended || serverSession.session.isExpired(this.now());
  }

  private emit(serverSession: ServerSession, record: RecordEnvelope): void {
    if (this.pastLifetime(serverSession)) return; // PP-SES-012
    this.metrics.countMessage("out", record.type);
    serverSession.sink?.send(record);
  }

  /** Periodic housekeeping: chunk timeouts (PP-CHK-010), resume windows, nonce cache. Lifetimes have their own timers. */
  sweep(): ProtocolError[] {
    const now = this.now();
    const errors: ProtocolError[] = [];
    this.store.sweepNonces(now);
    for (const serverSession of this.store.sessions()) {
      const windowOver = serverSession.disconnectedAt !== undefined && now - serverSession.disconnectedAt > this.limits.resume_window_ms; // PP-SES-011: forgotten only after the window, PP-SES-005
      if (windowOver) {
        this.end(serverSession, "resume window over");
        continue;
      }
      const expired = serverSession.reassembler.expire(now);
      for (const chunkId of expired) {
        const error = new ProtocolError("CHUNK_ERROR", `chunked message ${chunkId} incomplete after ${this.limits.chunk_timeout_ms} ms; discarded`, chunkId);
        if (serverSession.sink && serverSession.confirmed) this.sendControl(serverSession, "ERROR", error.toPayload());
        errors.push(error);
      }
      if (expired.length > 0) this.account(serverSession); // PP-LIM-013: a discarded message is free
    }
    return errors;
  }
}
