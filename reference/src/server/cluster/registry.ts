/**
 * The cluster's shared state in Redis (issue 16; docs/guides/deployment.md). Every node of a
 * cluster connects to one Redis; what one node decides, the others see:
 *
 * | key                    | type   | holds                                                                 | requirement |
 * | ---------------------- | ------ | --------------------------------------------------------------------- | ----------- |
 * | `pp:sess:{session_id}` | hash   | a confirmed session: entity, identity key, version, capabilities, expiry, resume epoch, owner node, disconnected_at, keys (sealed at rest) | PP-SES-004, PP-SES-011 |
 * | `pp:rn:{session_id}`   | set    | the resume nonces the session accepted                                  | PP-RPL-006 |
 * | `pp:ent:{entity}`      | string | the entity's current session id                                         | PP-DLV-007, PP-DLV-008 |
 * | `pp:owner:{entity}`    | string | the node its session is on                                              | (routing) |
 * | `pp:bind:{entity}`     | string | the identity key bound to the entity (never expires)                    | PP-AUTH-010 |
 * | `pp:hn:{nonce}`        | string | a HANDSHAKE_INIT nonce, until it could no longer be fresh               | PP-RPL-002 |
 * | `pp:q:{entity}`        | stream | every data message accepted for the entity and not yet acknowledged by it | PP-DLV-001, PP-SES-010 |
 * | `pp:qi:{entity}`       | hash   | sender + message id -> its id in the stream, to remove it once acknowledged | PP-DLV-001 |
 * | `pp:dlv:{entity}`      | zset   | the message ids delivered from the entity as sender, newest kept        | PP-DLV-003 |
 * | `pp:alive:{node}`      | string | when the node last said it is alive (every second)                      | PP-SES-011 (failure detection) |
 *
 * Channels: `pp:node:{node}` carries what is addressed to one node (a message for an entity whose
 * session is there; "your session was resumed elsewhere"; "your session was replaced");
 * `pp:events` carries BROADCASTs to every node (PP-EVT-003).
 *
 * Every decision that two nodes could make at once is one Lua script, so Redis serialises it:
 * binding an entity and registering its session; rotating the resumption secret (a compare-and-set
 * on the resume epoch, so two nodes cannot both accept one binder, PP-SES-007); appending a message
 * to its recipient's stream with its de-duplication mark and its hand-over to the owner node.
 * One Redis only (no Redis Cluster sharding): the scripts touch keys of several entities.
 */
import { Redis } from "ioredis";
import type { AeadAlgorithm } from "../../crypto.ts";
import type { Version } from "../../envelope.ts";
import type { SessionKeys } from "../../key-schedule.ts";
import type { AtRest } from "./at-rest.ts";

/** What Redis holds of a confirmed session: enough for any node to resume it (spec §8). */
export interface SharedSession {
  id: string;
  entity: string;
  identityKey: Buffer;
  version: Version;
  capabilities: string[];
  aead: AeadAlgorithm;
  expiresAt: number;
  peerLimits?: Record<string, number>;
  keys: SessionKeys;
  /** How many resumes it went through: the compare-and-set of the next one. */
  epoch: number;
  owner: string;
  disconnectedAt?: number;
  resumeNonces: string[];
}

/** A data message in its recipient's stream. */
export interface StoredMessage {
  streamId: string;
  message_id: string;
  type: string;
  inner: unknown;
  sender_id: string;
  recipient_id?: string;
}

/** What the node channel carries. */
export type NodeNotice =
  | { kind: "message"; entity: string; message: StoredMessage }
  /** `node` resumed the session; the peer's last_rx_seq covers what it received (PP-SES-010). Answered with "handed-over". */
  | { kind: "resumed-elsewhere"; sessionId: string; node: string; lastRxSeq: number }
  | { kind: "handed-over"; sessionId: string }
  | { kind: "replaced"; sessionId: string };

export interface BroadcastNotice {
  origin: string;
  eventId: string;
  channel: string;
  content: unknown;
  publisherId: string;
}

export type DeliverResult = { status: "ok"; streamId: string; owner: string | null } | { status: "unknown" | "duplicate" | "full" };

const CONFIRM = `
local bound = redis.call('GET', KEYS[3])
if bound and bound ~= ARGV[2] then return {'bound-other'} end
if not bound then redis.call('SET', KEYS[3], ARGV[2]) end
local previous = redis.call('GET', KEYS[2])
local previousOwner = false
if previous and previous ~= ARGV[1] then previousOwner = redis.call('HGET', 'pp:sess:' .. previous, 'owner') end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 5))
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[4])
redis.call('SET', KEYS[4], ARGV[3], 'PX', ARGV[4])
return {'ok', previous or '', previousOwner or ''}
`;

const RESUME = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {'missing'} end
if redis.call('SISMEMBER', KEYS[2], ARGV[2]) == 1 then return {'replayed'} end
if redis.call('HGET', KEYS[1], 'epoch') ~= ARGV[1] then return {'stale'} end
local previousOwner = redis.call('HGET', KEYS[1], 'owner')
redis.call('SADD', KEYS[2], ARGV[2])
redis.call('PEXPIRE', KEYS[2], redis.call('PTTL', KEYS[1]))
redis.call('HSET', KEYS[1], 'epoch', tostring(tonumber(ARGV[1]) + 1), 'owner', ARGV[3], 'keys', ARGV[4])
redis.call('HDEL', KEYS[1], 'disconnected_at')
if redis.call('GET', KEYS[3]) == ARGV[5] then redis.call('SET', KEYS[4], ARGV[3], 'KEEPTTL') end
return {'ok', previousOwner or ''}
`;

const DELIVER = `
local sid = redis.call('GET', KEYS[1])
if not sid then return {'unknown'} end
local ttl = redis.call('PTTL', 'pp:sess:' .. sid)
if ttl <= 0 then return {'unknown'} end
if redis.call('ZADD', KEYS[2], 'NX', ARGV[2], ARGV[1]) == 0 then return {'duplicate'} end
redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -tonumber(ARGV[3]) - 1)
redis.call('PEXPIRE', KEYS[2], ARGV[8])
if redis.call('XLEN', KEYS[3]) >= tonumber(ARGV[4]) then
  redis.call('ZREM', KEYS[2], ARGV[1])
  return {'full'}
end
local index = 'pp:qi:' .. ARGV[9]
if redis.call('HGET', index, ARGV[10]) == 'acknowledged' then
  redis.call('HDEL', index, ARGV[10])
  return {'ok', '', ''}
end
local id = redis.call('XADD', KEYS[3], '*', 'm', ARGV[6])
redis.call('PEXPIRE', KEYS[3], ttl + tonumber(ARGV[7]))
redis.call('HSET', index, ARGV[10], id)
redis.call('PEXPIRE', index, ttl + tonumber(ARGV[7]))
local owner = redis.call('GET', KEYS[4])
if owner and (owner ~= ARGV[5] or ARGV[11] == '1') then
  redis.call('PUBLISH', 'pp:node:' .. owner, cjson.encode({kind = 'message', entity = ARGV[9], id = id, m = ARGV[6]}))
end
return {'ok', id, owner or ''}
`;

// A message acknowledged before its append landed (the recipient is on the sender's node and
// answered first) leaves a mark, so that the append that follows stores nothing.
const ACKNOWLEDGED = `
for i = 1, #ARGV do
  local id = redis.call('HGET', KEYS[2], ARGV[i])
  if id then
    redis.call('XDEL', KEYS[1], id)
    redis.call('HDEL', KEYS[2], ARGV[i])
  else
    redis.call('HSET', KEYS[2], ARGV[i], 'acknowledged')
  end
end
if redis.call('PTTL', KEYS[2]) < 0 then redis.call('PEXPIRE', KEYS[2], 3600000) end
return 1
`;

const END = `
redis.call('DEL', KEYS[1], KEYS[2])
if redis.call('GET', KEYS[3]) == ARGV[1] then
  redis.call('DEL', KEYS[3], KEYS[4])
  if ARGV[2] == '1' then redis.call('DEL', KEYS[5], 'pp:qi:' .. ARGV[3]) end
end
return 1
`;

interface Scripts {
  ppConfirm(...args: (string | number)[]): Promise<string[]>;
  ppResume(...args: (string | number)[]): Promise<string[]>;
  ppDeliver(...args: (string | number)[]): Promise<string[]>;
  ppEnd(...args: (string | number)[]): Promise<number>;
  ppAcknowledged(...args: (string | number)[]): Promise<number>;
}

export interface RegistryOptions {
  nodeId: string;
  atRest: AtRest;
  /** A command that waits longer fails: a partition must end in an error, not a hang. */
  commandTimeoutMs?: number;
}

/** The Redis keys and channels of the cluster; a session's secrets are sealed by `atRest`. */
export class Registry {
  private readonly nodeListeners: ((notice: NodeNotice) => void)[] = [];
  private readonly eventListeners: ((notice: BroadcastNotice) => void)[] = [];
  private readonly resubscribedListeners: (() => void)[] = [];
  private readonly unreadableListeners: ((error: unknown) => void)[] = [];

  private constructor(
    private readonly redis: Redis & Scripts,
    private readonly subscriber: Redis,
    private readonly options: RegistryOptions,
  ) {}

  /**
   * Connects both connections (commands, and the subscriber of `pp:node:{node}` and `pp:events`) and
   * waits until Redis answers. Afterwards a lost connection is retried for ever; commands fail at
   * once while it is down, so that the protocol can answer with an error instead of waiting.
   */
  static async connect(url: string, options: RegistryOptions): Promise<Registry> {
    const common = {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: options.commandTimeoutMs ?? 2000,
      retryStrategy: (attempt: number) => Math.min(50 * attempt, 1000),
    };
    const redis = new Redis(url, common) as Redis & Scripts;
    const subscriber = new Redis(url, { ...common, commandTimeout: undefined, enableOfflineQueue: true });
    // Errors are reported by the commands that fail; the connections' own are expected while Redis is
    // away. The first one names why a start-up connection failed (ECONNREFUSED, a bad password...).
    let cause: Error | undefined;
    redis.on("error", (error: Error) => (cause ??= error));
    subscriber.on("error", (error: Error) => (cause ??= error));
    redis.defineCommand("ppConfirm", { numberOfKeys: 4, lua: CONFIRM });
    redis.defineCommand("ppResume", { numberOfKeys: 4, lua: RESUME });
    redis.defineCommand("ppDeliver", { numberOfKeys: 4, lua: DELIVER });
    redis.defineCommand("ppEnd", { numberOfKeys: 5, lua: END });
    redis.defineCommand("ppAcknowledged", { numberOfKeys: 2, lua: ACKNOWLEDGED });
    try {
      await Promise.all([redis.connect(), subscriber.connect()]);
    } catch (error) {
      redis.disconnect();
      subscriber.disconnect();
      throw new Error(`cannot reach Redis at ${redactUrl(url)}: ${(cause ?? (error as Error)).message}`);
    }
    const registry = new Registry(redis, subscriber, options);
    subscriber.on("message", (channel: string, text: string) => registry.onChannel(channel, text));
    await subscriber.subscribe(`pp:node:${options.nodeId}`, "pp:events");
    // What was published while the subscriber was away is lost to it (pub/sub keeps nothing); the
    // streams kept it. Once subscribed again, the node reads its entities' streams again.
    subscriber.on("ready", () => {
      // The command connection may still be reconnecting: its commands would fail at once.
      const notify = () => {
        for (const listener of registry.resubscribedListeners) listener();
      };
      if (redis.status === "ready") notify();
      else redis.once("ready", notify);
    });
    return registry;
  }

  get nodeId(): string {
    return this.options.nodeId;
  }

  onNodeNotice(listener: (notice: NodeNotice) => void): void {
    this.nodeListeners.push(listener);
  }

  onBroadcast(listener: (notice: BroadcastNotice) => void): void {
    this.eventListeners.push(listener);
  }

  /** A notice on the node's channel that does not open (another at-rest key, or corrupt). */
  onUnreadable(listener: (error: unknown) => void): void {
    this.unreadableListeners.push(listener);
  }

  /** The subscriber connection came back after a loss: notices published meanwhile were missed. */
  onResubscribed(listener: () => void): void {
    this.resubscribedListeners.push(listener);
  }

  /** PP-RPL-002 across nodes: true when the nonce is new to the whole cluster. */
  async claimHandshakeNonce(nonce: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.set(`pp:hn:${nonce}`, "1", "PX", Math.max(1, ttlMs), "NX")) === "OK";
  }

  /** The identity key bound to an entity anywhere in the cluster (PP-AUTH-010). */
  async boundKey(entity: string): Promise<Buffer | undefined> {
    const stored = await this.redis.get(`pp:bind:${entity}`);
    return stored === null ? undefined : Buffer.from(stored, "base64");
  }

  /**
   * SESSION_CONFIRM verified: binds the entity unless another key completed first (PP-AUTH-010,
   * PP-AUTH-011), and makes the session the entity's current one, on this node. Returns the
   * entity's previous session, which the caller ends (it may be on another node).
   */
  async confirm(session: SharedSession): Promise<{ status: "bound-other" } | { status: "ok"; previous?: { id: string; owner: string } }> {
    const ttl = Math.max(1, session.expiresAt - Date.now());
    const fields = this.sessionFields(session);
    const [status, previous, previousOwner] = await this.redis.ppConfirm(`pp:sess:${session.id}`, `pp:ent:${session.entity}`, `pp:bind:${session.entity}`, `pp:owner:${session.entity}`, session.id, session.identityKey.toString("base64"), this.nodeId, ttl, ...fields);
    if (status === "bound-other") return { status: "bound-other" };
    return previous ? { status: "ok", previous: { id: previous, owner: previousOwner as string } } : { status: "ok" };
  }

  /** A session as Redis holds it, or undefined when it is unknown, ended or past its lifetime. */
  async load(sessionId: string): Promise<SharedSession | undefined> {
    const [hash, nonces] = await Promise.all([this.redis.hgetall(`pp:sess:${sessionId}`), this.redis.smembers(`pp:rn:${sessionId}`)]);
    if (!hash.entity) return undefined;
    const session: SharedSession = {
      id: sessionId,
      entity: hash.entity,
      identityKey: Buffer.from(hash.identity_key as string, "base64"),
      version: hash.version as Version,
      capabilities: JSON.parse(hash.capabilities as string) as string[],
      aead: hash.aead as AeadAlgorithm,
      expiresAt: Number(hash.expires_at),
      keys: this.openKeys(sessionId, hash.keys as string),
      epoch: Number(hash.epoch),
      owner: hash.owner as string,
      resumeNonces: nonces,
    };
    if (hash.peer_limits) session.peerLimits = JSON.parse(hash.peer_limits) as Record<string, number>;
    if (hash.disconnected_at) session.disconnectedAt = Number(hash.disconnected_at);
    return session;
  }

  /**
   * A verified SESSION_RESUME: rotates the session to its new keys if nobody did since `epoch` was
   * read, records the nonce, and moves the session (and its entity's routing) to this node.
   */
  async resume(session: SharedSession, nonce: string, keys: SessionKeys): Promise<{ status: "missing" | "replayed" | "stale" } | { status: "ok"; previousOwner: string }> {
    const [status, previousOwner] = await this.redis.ppResume(`pp:sess:${session.id}`, `pp:rn:${session.id}`, `pp:ent:${session.entity}`, `pp:owner:${session.entity}`, session.epoch, nonce, this.nodeId, this.sealKeys(session.id, keys), session.id);
    if (status !== "ok") return { status: status as "missing" | "replayed" | "stale" };
    return { status: "ok", previousOwner: previousOwner as string };
  }

  /** Where the resume window runs from (PP-SES-011); undefined: connected again. */
  async setDisconnected(sessionId: string, at: number | undefined): Promise<void> {
    if (at === undefined) await this.redis.hdel(`pp:sess:${sessionId}`, "disconnected_at");
    else await this.redis.hset(`pp:sess:${sessionId}`, "disconnected_at", String(at));
  }

  /**
   * The session ended for good (PP-SES-015). Its entity's routing goes if it still names this
   * session; its queue too, unless a newer session of the entity takes it over (PP-DLV-008).
   */
  async end(sessionId: string, entity: string, dropQueue: boolean): Promise<void> {
    await this.redis.ppEnd(`pp:sess:${sessionId}`, `pp:rn:${sessionId}`, `pp:ent:${entity}`, `pp:owner:${entity}`, `pp:q:${entity}`, sessionId, dropQueue ? "1" : "0", entity);
  }

  /**
   * Appends a data message to its recipient's stream, unless the recipient has no session
   * (PP-DLV-007), the sender's message was delivered before (PP-DLV-003), or the stream is full
   * (PP-DLV-013); hands it to the recipient's node when that is another node, or, with
   * "to-any-node", to this node too (a session it is taking over may become the recipient's
   * between the sender's lookup and this append).
   */
  async deliver(message: Omit<StoredMessage, "streamId">, recipient: string, bounds: { dedupeMemory: number; maxQueued: number; resumeWindowMs: number }, handOver: "to-other-nodes" | "to-any-node" = "to-other-nodes"): Promise<DeliverResult> {
    const { message_id, sender_id } = message;
    const ttl = bounds.resumeWindowMs + 60_000;
    const result = await this.redis.ppDeliver(`pp:ent:${recipient}`, `pp:dlv:${sender_id}`, `pp:q:${recipient}`, `pp:owner:${recipient}`, message_id, Date.now(), bounds.dedupeMemory, bounds.maxQueued, this.nodeId, this.sealMessage(recipient, message), bounds.resumeWindowMs, ttl, recipient, streamIndexKey(sender_id, message_id), handOver === "to-any-node" ? "1" : "0");
    if (result[0] !== "ok") return { status: result[0] as "unknown" | "duplicate" | "full" };
    return { status: "ok", streamId: result[1] as string, owner: result[2] || null };
  }

  /** Every message in an entity's stream, oldest first: what a resume re-sends (PP-SES-010). */
  async queued(entity: string): Promise<StoredMessage[]> {
    const entries = await this.redis.xrange(`pp:q:${entity}`, "-", "+");
    return entries.map(([streamId, fields]) => ({ ...this.openMessage(entity, fields[1] as string), streamId }));
  }

  /** The recipient acknowledged these messages, by sender and message id (PP-DLV-001): they leave its stream. */
  async acknowledged(entity: string, messages: { sender_id: string; message_id: string }[]): Promise<void> {
    if (messages.length > 0) await this.redis.ppAcknowledged(`pp:q:${entity}`, `pp:qi:${entity}`, ...messages.map((m) => streamIndexKey(m.sender_id, m.message_id)));
  }

  /** The message ids delivered from a sender, newest last (PP-DLV-003 after a move to this node). */
  async deliveredFrom(sender: string): Promise<string[]> {
    return this.redis.zrange(`pp:dlv:${sender}`, "0", "-1");
  }

  async notify(node: string, notice: Exclude<NodeNotice, { kind: "message" }>): Promise<void> {
    await this.redis.publish(`pp:node:${node}`, JSON.stringify(notice));
  }

  async broadcast(notice: Omit<BroadcastNotice, "origin">): Promise<void> {
    await this.redis.publish("pp:events", JSON.stringify({ ...notice, origin: this.nodeId }));
  }

  /** Records that this node is alive now; kept for `keepMs`, so that its death has a time. */
  async heartbeat(keepMs: number): Promise<void> {
    await this.redis.set(`pp:alive:${this.nodeId}`, String(Date.now()), "PX", keepMs);
  }

  /** When the node last said it was alive, if it ever did within the time heartbeats are kept. */
  async lastSeen(node: string): Promise<number | undefined> {
    const stored = await this.redis.get(`pp:alive:${node}`);
    return stored === null ? undefined : Number(stored);
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.redis.quit(), this.subscriber.quit()]);
    this.redis.disconnect();
    this.subscriber.disconnect();
  }

  private onChannel(channel: string, text: string): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return; // not ours
    }
    if (channel === "pp:events") {
      const notice = parsed as BroadcastNotice;
      if (notice.origin !== this.nodeId) for (const listener of this.eventListeners) listener(notice);
      return;
    }
    const raw = parsed as { kind: string; entity?: string; id?: string; m?: string };
    let notice: NodeNotice;
    if (raw.kind === "message") {
      try {
        notice = { kind: "message", entity: raw.entity as string, message: { ...this.openMessage(raw.entity as string, raw.m as string), streamId: raw.id as string } };
      } catch (error) {
        // Sealed under another at-rest key, or corrupt: dropped here; it stays in the stream.
        for (const listener of this.unreadableListeners) listener(error);
        return;
      }
    } else notice = parsed as NodeNotice;
    for (const listener of this.nodeListeners) listener(notice);
  }

  private sessionFields(session: SharedSession): string[] {
    const fields = [
      "entity", session.entity,
      "identity_key", session.identityKey.toString("base64"),
      "version", session.version,
      "capabilities", JSON.stringify(session.capabilities),
      "aead", session.aead,
      "expires_at", String(session.expiresAt),
      "keys", this.sealKeys(session.id, session.keys),
      "epoch", String(session.epoch),
      "owner", session.owner,
    ];
    if (session.peerLimits) fields.push("peer_limits", JSON.stringify(session.peerLimits));
    return fields;
  }

  private sealKeys(sessionId: string, keys: SessionKeys): string {
    const plain = Buffer.from(JSON.stringify({
      i2r_key: keys.i2r.key.toString("base64"), i2r_iv: keys.i2r.iv.toString("base64"),
      r2i_key: keys.r2i.key.toString("base64"), r2i_iv: keys.r2i.iv.toString("base64"),
      rs: keys.resumptionSecret.toString("base64"), hh: keys.handshakeHash.toString("base64"),
    }));
    return this.options.atRest.wrap(plain, `pp:sess:${sessionId} keys`);
  }

  private openKeys(sessionId: string, stored: string): SessionKeys {
    const k = JSON.parse(this.options.atRest.unwrap(stored, `pp:sess:${sessionId} keys`).toString("utf8")) as Record<string, string>;
    const b = (name: string) => Buffer.from(k[name] as string, "base64");
    return { i2r: { key: b("i2r_key"), iv: b("i2r_iv") }, r2i: { key: b("r2i_key"), iv: b("r2i_iv") }, resumptionSecret: b("rs"), handshakeHash: b("hh") };
  }

  private sealMessage(recipient: string, message: Omit<StoredMessage, "streamId">): string {
    return this.options.atRest.wrap(Buffer.from(JSON.stringify(message), "utf8"), `pp:q:${recipient}`);
  }

  private openMessage(recipient: string, stored: string): Omit<StoredMessage, "streamId"> {
    return JSON.parse(this.options.atRest.unwrap(stored, `pp:q:${recipient}`).toString("utf8")) as Omit<StoredMessage, "streamId">;
  }
}

/** A message's field in `pp:qi:{entity}`: message ids are unique per sender only (PP-DLV-003). */
function streamIndexKey(sender: string, messageId: string): string {
  return `${sender}\u0000${messageId}`;
}

/** A Redis URL without its password, for messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(an unparsable URL)";
  }
}
