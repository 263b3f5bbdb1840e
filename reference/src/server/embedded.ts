/**
 * The embedded default target of `peer-conformance` and `peer-bench`: a reference server on a free
 * loopback port. This is the only module the conformance runner imports from `reference/`
 * (DESIGN.md §2).
 */
import { PeerServer } from "./server.ts";

export async function startEmbeddedServer(options: { limits?: Partial<Record<string, number>>; requireToken?: boolean; originAllowlist?: string[] } = {}): Promise<{ url: string; serverId: string; close(): Promise<void> }> {
  const server = await PeerServer.start({ host: "127.0.0.1", port: 0, logLevel: "silent", ...options });
  return { url: server.url, serverId: server.serverId, close: () => server.close() };
}
