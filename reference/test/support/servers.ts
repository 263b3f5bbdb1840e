/**
 * Reference servers and raw peers for one test file: started on demand, all closed after each test
 * (call once at the top of the file).
 */
import { afterEach } from "vitest";
import { PeerServer, type PeerServerOptions } from "../../src/server/server.ts";
import type { RawPeer } from "./raw-peer.ts";

export function serversPerTest(): { server(options?: PeerServerOptions): Promise<PeerServer>; peers: RawPeer[] } {
  const servers: PeerServer[] = [];
  const peers: RawPeer[] = [];
  afterEach(async () => {
    for (const peer of peers.splice(0)) peer.close();
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });
  return {
    peers,
    async server(options: PeerServerOptions = {}) {
      const s = await PeerServer.start({ logLevel: "silent", ...options });
      servers.push(s);
      return s;
    },
  };
}
