/**
 * An established session (spec §7.3, §8, §9): per-direction keys and record numbers, the
 * retransmit buffer of unacknowledged data records, and de-duplication by message id.
 */
import { ed25519Sign, ed25519VerifyStrict, type AeadAlgorithm, type Ed25519Identity } from "../crypto.ts";
import { fromBase64Url, jcs, retained, retainedTogether, toBase64Url, without } from "../encoding.ts";
import { newMessageId, type Version } from "../envelope.ts";
import { ProtocolError } from "../errors.ts";
import type { HandshakeResult } from "../handshake/result.ts";
import { signatureInput, type DirectionKeys, type SessionKeys } from "../key-schedule.ts";
import { openRecord, RecordPlaintextError, sealRecord, type RecordEnvelope } from "../record.ts";

/** PEER_MESSAGE, BROADCAST, TASK_REQUEST, TASK_RESPONSE and CHUNKED_MESSAGE are data records (spec §9). */
export const DATA_TYPES: ReadonlySet<string> = new Set(["PEER_MESSAGE", "BROADCAST", "TASK_REQUEST", "TASK_RESPONSE", "CHUNKED_MESSAGE"]);

/** A data message waiting for its acknowledgement, kept so that it can be re-sealed after a resume. */
export interface OutboundEntry {
  message_id: string;
  type: string;
  inner: unknown;
  sender_id: string;
  recipient_id?: string;
  seq?: number;
  /** The plaintext length of its record (PP-DLV-014), where the server counts what it holds (PP-LIM-012). */
  size?: number;
  /** JSON.stringify(inner) as UTF-8, when already made for its size: sealed as is, and not kept. */
  plaintext?: Buffer | undefined;
}

export type ReplayMode = "stream" | "window";

interface EpochSecrets {
  send: DirectionKeys;
  recv: DirectionKeys;
  resumptionSecret: Buffer;
  handshakeHash: Buffer;
}

/**
 * What a session keeps of one key epoch (a handshake, then each resume): PP-KS-011, send with our
 * direction's keys and receive with the peer's, and the resumption secret and handshake hash that
 * a resume and READY need. Retained together: they are replaced together, at the next resume.
 */
function epochSecrets(role: "initiator" | "responder", keys: SessionKeys): EpochSecrets {
  const [i2rKey, i2rIv, r2iKey, r2iIv, resumptionSecret, handshakeHash] = retainedTogether([keys.i2r.key, keys.i2r.iv, keys.r2i.key, keys.r2i.iv, keys.resumptionSecret, keys.handshakeHash]) as [Buffer, Buffer, Buffer, Buffer, Buffer, Buffer];
  const i2r = { key: i2rKey, iv: i2rIv };
  const r2i = { key: r2iKey, iv: r2iIv };
  return role === "initiator" ? { send: i2r, recv: r2i, resumptionSecret, handshakeHash } : { send: r2i, recv: i2r, resumptionSecret, handshakeHash };
}

export interface SessionOptions {
  now(): number;
  /** Bound on remembered (sender, message_id) pairs (PP-DLV-003). */
  dedupeMemory: number;
  /** Our identity, to sign records when `message-signatures` was selected (PP-CAP-006). */
  identity?: Ed25519Identity;
}

export class Session {
  readonly id: string;
  readonly role: "initiator" | "responder";
  readonly version: Version;
  readonly capabilities: string[];
  readonly aead: AeadAlgorithm;
  readonly localId: string;
  readonly peerId: string;
  readonly peerIdentityKey: Buffer;
  readonly createdAt: number;
  readonly expiresAt: number;
  peerLimits: Record<string, number> | undefined;
  resumptionSecret: Buffer;
  handshakeHash: Buffer;
  nextSendSeq = 0;
  /** The highest seq received in this key epoch: over HTTP, the top of the replay window (PP-RPL-005). */
  lastRecvSeq = -1;
  /**
   * PP-SES-021: the highest seq up to which every record of this key epoch was received. Over HTTP
   * records may arrive out of order within replay_window, so it can lag behind `lastRecvSeq`; the
   * seqs received above it are those of `windowSeen`.
   */
  private receivedThrough = -1;
  /** Data records sealed in the current key epoch and not yet acknowledged, by seq. */
  readonly unacked = new Map<number, OutboundEntry>();
  /** Data records accepted for the peer while it was disconnected, sealed on resume. */
  readonly queued: OutboundEntry[] = [];
  private sendKeys: DirectionKeys;
  private recvKeys: DirectionKeys;
  /**
   * The (sender, message_id) pairs of delivered data messages (PP-DLV-003). Made on the first one:
   * a session that carries only control records (PING, ACK) holds no table, which at 10,000 idle
   * sessions is most of them.
   */
  private seen: Set<string> | undefined;
  /**
   * The keys of `seen` in the order they came, as a ring of dedupeMemory slots, `seenNext` the
   * oldest once it is full: forgetting the oldest this way costs nothing, where asking a Set for its
   * first key walks over every key deleted before it.
   */
  private seenOrder: string[] | undefined;
  private seenNext = 0;
  /**
   * Over HTTP, the seqs received within replay_window of `lastRecvSeq` (PP-RPL-005): at most
   * replay_window of them. Made on the first record received over HTTP; a WebSocket session has none.
   */
  private windowSeen: Set<number> | undefined;
  /** The first seq of this key epoch that was refused after it authenticated, if any. */
  private refusedFrom: number | null = null;
  /** Seqs of this key epoch received but not yet acknowledgeable: their message is still being stored (`hold`). */
  private held: Set<number> | undefined;
  /** Counts key epochs (`rekey`), so that a release from an earlier epoch touches nothing of this one. */
  private keyEpoch = 0;
  private readonly signRecords: boolean;

  constructor(
    result: HandshakeResult,
    private readonly options: SessionOptions,
  ) {
    this.id = result.sessionId;
    this.role = result.role;
    this.version = result.version;
    this.capabilities = result.capabilities;
    this.aead = result.aead;
    this.localId = result.localId;
    this.peerId = result.peerId;
    this.peerIdentityKey = retained(result.peerIdentityKey);
    this.peerLimits = result.peerLimits;
    this.createdAt = options.now();
    this.expiresAt = this.createdAt + result.lifetimeMs;
    this.signRecords = result.capabilities.includes("message-signatures");
    const epoch = epochSecrets(result.role, result.keys);
    this.sendKeys = epoch.send;
    this.recvKeys = epoch.recv;
    this.resumptionSecret = epoch.resumptionSecret;
    this.handshakeHash = epoch.handshakeHash;
  }

  get pendingCount(): number {
    return this.unacked.size + this.queued.length;
  }

  isExpired(now = this.options.now()): boolean {
    return now >= this.expiresAt; // PP-SES-012
  }

  /** Seals a record with the next seq (PP-KS-005); data records enter the retransmit buffer (PP-DLV-001). */
  seal(type: string, inner: unknown, fields: { recipient_id?: string; sender_id?: string; message_id?: string; size?: number; plaintext?: Buffer | undefined } = {}): RecordEnvelope {
    const seq = this.nextSendSeq;
    if (seq > Number.MAX_SAFE_INTEGER) throw new ProtocolError("INTERNAL_ERROR", "record numbers exhausted; a new session is needed"); // PP-KS-009, PP-KS-005: the numbering stops at 2^53-1
    this.nextSendSeq = seq + 1;
    const header: RecordEnvelope = {
      message_id: fields.message_id ?? newMessageId(),
      type,
      version: this.version,
      timestamp: this.options.now(),
      seq,
      session_id: this.id,
      sender_id: fields.sender_id ?? this.localId,
      payload: "",
    };
    if (fields.recipient_id !== undefined) header.recipient_id = fields.recipient_id;
    const record = sealRecord(this.aead, this.sendKeys, header, inner, fields.plaintext);
    if (this.signRecords && this.options.identity) record.signature = toBase64Url(ed25519Sign(this.options.identity, signatureInput("record signature", jcs(without(record, "signature")))));
    if (DATA_TYPES.has(type)) {
      // One shape for every entry (members in one order, present even when undefined): one per data record.
      const entry: OutboundEntry = { message_id: record.message_id, type, inner, sender_id: record.sender_id, recipient_id: record.recipient_id, seq, size: fields.size, plaintext: undefined };
      this.unacked.set(seq, entry);
    }
    return record;
  }

  /**
   * Checks order and authenticity of an inbound record and returns its inner payload.
   * "stream" (WebSocket) wants seq = last + 1 (PP-RPL-003, PP-RPL-004); "window" (HTTP) accepts a
   * sliding window of unseen seq numbers (PP-RPL-005). `sealed`: the payload, if already decoded.
   */
  open(record: RecordEnvelope, mode: ReplayMode, replayWindow = 64, sealed?: Buffer): unknown {
    if (record.session_id !== this.id) throw new ProtocolError("INVALID_MESSAGE", "record session_id is not this session's", record.message_id); // PP-KS-012
    if (record.version !== this.version) throw new ProtocolError("INVALID_MESSAGE", `record version ${record.version} differs from the session's ${this.version}`, record.message_id); // PP-VER-007
    if (mode === "stream") {
      if (record.seq <= this.lastRecvSeq) throw new ProtocolError("REPLAY_DETECTED", `record seq ${record.seq} was already received (last ${this.lastRecvSeq})`, record.message_id);
      if (record.seq > this.lastRecvSeq + 1) throw new ProtocolError("INVALID_STATE", `record seq ${record.seq} skips from ${this.lastRecvSeq}`, record.message_id);
    } else if (record.seq <= this.lastRecvSeq - replayWindow || this.windowSeen?.has(record.seq) === true) {
      throw new ProtocolError("REPLAY_DETECTED", `record seq ${record.seq} is replayed or outside the window`, record.message_id);
    }
    if (this.signRecords) {
      const signature = record.signature === undefined ? null : fromBase64Url(record.signature);
      if (!signature || !ed25519VerifyStrict(this.peerIdentityKey, signatureInput("record signature", jcs(without(record, "signature"))), signature)) throw new ProtocolError("AUTHENTICATION_FAILED", "record signature does not verify", record.message_id); // PP-CAP-007
    }
    let inner: unknown;
    try {
      inner = openRecord(this.aead, this.recvKeys, record, sealed);
    } catch (error) {
      if (!(error instanceof RecordPlaintextError)) throw error;
      this.accept(record.seq, mode, replayWindow);
      throw new ProtocolError("INVALID_MESSAGE", "record plaintext is not JSON", record.message_id); // PP-KS-010
    }
    if (inner === null) throw new ProtocolError("AUTHENTICATION_FAILED", "record does not decrypt", record.message_id); // PP-KS-008
    this.accept(record.seq, mode, replayWindow);
    return inner;
  }

  /**
   * Marks an authenticated record's seq as received. The received prefix (PP-SES-021) grows over
   * the seqs `windowSeen` holds above it: a seq missing below them that falls out of the window can
   * never be received (PP-RPL-005), so the prefix stops there for the rest of the key epoch.
   */
  private accept(seq: number, mode: ReplayMode, replayWindow: number): void {
    if (mode === "window") {
      const windowSeen = (this.windowSeen ??= new Set());
      windowSeen.add(seq);
      for (const seen of windowSeen) if (seen <= seq - replayWindow) windowSeen.delete(seen);
    }
    this.lastRecvSeq = Math.max(this.lastRecvSeq, seq);
    if (seq !== this.receivedThrough + 1) return;
    this.receivedThrough = seq;
    while (this.windowSeen?.has(this.receivedThrough + 1) === true) this.receivedThrough++;
  }

  /** Releases every data record with seq <= ack (cumulative ACK, spec §9); `onReleased` sees each. */
  acknowledge(ack: number, onReleased?: (entry: OutboundEntry) => void): number {
    let released = 0;
    for (const [seq, entry] of this.unacked) {
      if (seq > ack) break;
      this.unacked.delete(seq);
      onReleased?.(entry);
      released++;
    }
    return released;
  }

  /** True once a data message from this sender with this message_id was delivered (PP-DLV-003). */
  delivered(senderId: string, messageId: string): boolean {
    return this.seen?.has(this.seenKey(senderId, messageId)) === true;
  }

  /**
   * The key of a (sender, message_id) pair: the message_id alone for the session's peer, the
   * sender of nearly every message, so that checking one costs no string to build; a message_id
   * is 8 to 128 of [A-Za-z0-9_-] (spec §5, checked by PP-ENV-007) and never holds U+0000, so the
   * keys of other senders cannot collide with it.
   */
  private seenKey(senderId: string, messageId: string): string {
    return senderId === this.peerId ? messageId : `${senderId}\u0000${messageId}`;
  }

  /**
   * Remembers a delivered data message, over at least the last `dedupeMemory` of them (PP-DLV-003).
   * Only a message that was delivered (routed or served) is remembered: one the server refused
   * must be accepted when the sender sends it again (PP-DLV-013).
   */
  markDelivered(senderId: string, messageId: string): void {
    const key = this.seenKey(senderId, messageId);
    const seen = (this.seen ??= new Set());
    if (seen.has(key)) return;
    const memory = this.options.dedupeMemory;
    if (memory <= 0) return;
    const order = (this.seenOrder ??= []);
    if (order.length < memory) order.push(key);
    else {
      seen.delete(order[this.seenNext] as string);
      order[this.seenNext] = key;
      this.seenNext = (this.seenNext + 1) % memory;
    }
    seen.add(key);
  }

  /**
   * A record that authenticated but was refused (BUFFER_OVERFLOW): it is not acknowledged, by ACK
   * or by the resume's last_rx_seq, so that it stays in the sender's retransmit buffer (PP-DLV-013).
   */
  refuse(seq: number): void {
    this.refusedFrom = this.refusedFrom === null ? seq : Math.min(this.refusedFrom, seq);
  }

  /**
   * What a cumulative ACK and a resume's last_rx_seq report (spec §8, §9): the highest seq up to
   * which every record of this key epoch was received (PP-SES-021), or the one before the first
   * refused record of this key epoch, if lower.
   */
  get acknowledgeableSeq(): number {
    let through = this.refusedFrom === null ? this.receivedThrough : Math.min(this.receivedThrough, this.refusedFrom - 1);
    if (this.held) for (const seq of this.held) through = Math.min(through, seq - 1);
    return through;
  }

  /**
   * The record's message is accepted but not yet stored where it survives this process (a
   * cluster's Redis stream): it is not acknowledged, by ACK or by a resume's last_rx_seq, until
   * the returned release is called, once it is stored, or refused after `refuse` (PP-DLV-001: an
   * acknowledged message is the receiver's responsibility).
   */
  hold(seq: number): () => void {
    (this.held ??= new Set()).add(seq);
    const epoch = this.keyEpoch;
    return () => {
      if (this.keyEpoch === epoch) this.held?.delete(seq);
    };
  }

  /**
   * Installs fresh keys after a resume (PP-SES-007, PP-SES-008): record numbers restart at 0, and
   * every data record the peer's last_rx_seq does not cover moves to the front of the queue, to be
   * re-sent under new seq numbers (PP-SES-010).
   */
  rekey(keys: SessionKeys, peerLastRxSeq: number): void {
    this.acknowledge(peerLastRxSeq);
    this.queued.push(...this.takeUndelivered());
    const fresh = epochSecrets(this.role, keys);
    this.sendKeys = fresh.send;
    this.recvKeys = fresh.recv;
    this.resumptionSecret = fresh.resumptionSecret;
    this.handshakeHash = fresh.handshakeHash;
    this.nextSendSeq = 0;
    this.lastRecvSeq = -1;
    this.receivedThrough = -1;
    this.refusedFrom = null;
    this.held = undefined;
    this.keyEpoch++;
    this.windowSeen = undefined;
  }

  /** Seals queued entries, in order, while fewer than `window` data records are unacknowledged. */
  drainQueue(window = Number.POSITIVE_INFINITY): RecordEnvelope[] {
    const records: RecordEnvelope[] = [];
    while (this.queued.length > 0 && this.unacked.size < window) records.push(this.sealNextQueued() as RecordEnvelope);
    return records;
  }

  /** Seals the first queued entry, if any: it moves to the retransmit buffer. */
  sealNextQueued(): RecordEnvelope | undefined {
    const entry = this.queued.shift();
    if (!entry) return undefined;
    const fields: { recipient_id?: string; sender_id: string; message_id: string; size?: number; plaintext?: Buffer | undefined } = { sender_id: entry.sender_id, message_id: entry.message_id, plaintext: entry.plaintext };
    if (entry.recipient_id !== undefined) fields.recipient_id = entry.recipient_id;
    if (entry.size !== undefined) fields.size = entry.size;
    return this.seal(entry.type, entry.inner, fields);
  }

  /** Every data message not yet acknowledged, sent or not, in order; both buffers are emptied. */
  takeUndelivered(): OutboundEntry[] {
    const entries = [...this.unacked.values()].map(({ seq: _seq, plaintext: _plaintext, ...entry }) => entry);
    this.unacked.clear();
    return [...entries, ...this.queued.splice(0)];
  }
}
