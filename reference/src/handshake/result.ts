/** What a completed handshake (or resume) hands to the session. */
import type { AeadAlgorithm } from "../crypto.ts";
import type { Version } from "../envelope.ts";
import type { SessionKeys } from "../key-schedule.ts";

export interface HandshakeResult {
  role: "initiator" | "responder";
  sessionId: string;
  version: Version;
  capabilities: string[];
  aead: AeadAlgorithm;
  localId: string;
  peerId: string;
  peerIdentityKey: Buffer;
  keys: SessionKeys;
  lifetimeMs: number;
  /** The peer's advertised limits (v1.2), used for chunk size and retransmit bounds. */
  peerLimits?: Record<string, number>;
}

export function aeadFor(capabilities: string[]): AeadAlgorithm {
  return capabilities.includes("aes-256-gcm") ? "aes-256-gcm" : "chacha20-poly1305";
}
