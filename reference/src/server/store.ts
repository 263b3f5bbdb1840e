/**
 * Server state behind a small interface, so that a shared store can replace the in-memory one
 * without touching protocol code. Holds sessions, entity -> identity key bindings (PP-AUTH-010)
 * and the HANDSHAKE_INIT nonce cache (PP-RPL-002).
 */
import type { ServerSession } from "./server-session.ts";

export interface ServerStore {
  getSession(id: string): ServerSession | undefined;
  putSession(session: ServerSession): void;
  deleteSession(id: string): void;
  /** The live or resumable session of an entity, if any. */
  sessionOf(entityId: string): ServerSession | undefined;
  sessions(): IterableIterator<ServerSession>;
  /** The identity key an entity id is bound to, if any. */
  boundKey(entityId: string): Buffer | undefined;
  bindKey(entityId: string, key: Buffer): void;
  /** Records a nonce; true when it was already present and not expired. */
  seenNonce(nonce: string, expiresAt: number, now: number): boolean;
  /** Drops expired nonces. */
  sweepNonces(now: number): void;
  /** Entities that ever had a session (for UNKNOWN_RECIPIENT, PP-DLV-007). */
  knowsEntity(entityId: string): boolean;
}

export class MemoryStore implements ServerStore {
  private readonly byId = new Map<string, ServerSession>();
  private readonly byEntity = new Map<string, ServerSession>();
  private readonly bindings = new Map<string, Buffer>();
  private readonly nonces = new Map<string, number>();

  constructor(allowlist: ReadonlyMap<string, Buffer> = new Map()) {
    for (const [entity, key] of allowlist) this.bindings.set(entity, key);
  }

  getSession(id: string) {
    return this.byId.get(id);
  }

  putSession(session: ServerSession) {
    const previous = this.byEntity.get(session.peerId);
    if (previous && previous.id !== session.id) this.byId.delete(previous.id);
    this.byId.set(session.id, session);
    this.byEntity.set(session.peerId, session);
  }

  deleteSession(id: string) {
    const session = this.byId.get(id);
    if (!session) return;
    this.byId.delete(id);
    if (this.byEntity.get(session.peerId) === session) this.byEntity.delete(session.peerId);
  }

  sessionOf(entityId: string) {
    return this.byEntity.get(entityId);
  }

  sessions() {
    return this.byId.values();
  }

  boundKey(entityId: string) {
    return this.bindings.get(entityId);
  }

  /** `key` is kept as given: the caller passes memory of its own (the session's retained copy), not a view into a shared pool. */
  bindKey(entityId: string, key: Buffer) {
    if (!this.bindings.has(entityId)) this.bindings.set(entityId, key);
  }

  seenNonce(nonce: string, expiresAt: number, now: number) {
    const expiry = this.nonces.get(nonce);
    if (expiry !== undefined && expiry > now) return true;
    this.nonces.set(nonce, expiresAt);
    return false;
  }

  sweepNonces(now: number) {
    for (const [nonce, expiry] of this.nonces) if (expiry <= now) this.nonces.delete(nonce);
  }

  knowsEntity(entityId: string) {
    return this.bindings.has(entityId);
  }
}
