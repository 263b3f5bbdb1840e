/**
 * A loopback TCP proxy in front of Redis for one node: the node connects to the proxy, so cutting
 * the proxy partitions that node from Redis while the other nodes keep their direct connections
 * (issue 16, "a network partition between a node and Redis").
 *
 *   const proxy = await startTcpProxy({ port: redis.port });
 *   node = start({ redis: proxy.url });
 *   proxy.cut();   // the node's connections die; its reconnects are reset until heal()
 *   proxy.heal();  // new connections reach Redis again
 *
 * Two ways to cut, because a partition looks different depending on where it is:
 * - "reset" (default): live connections are destroyed and every new one is accepted and at once
 *   reset (RST). The node sees the failure immediately (ECONNRESET), which is what a node next to a
 *   Redis that went away sees, and keeps tests fast and deterministic. The proxy keeps listening,
 *   rather than closing its port to refuse connections, so no other process can take the port
 *   before heal().
 * - "blackhole": nothing is reset. Live connections and new ones stay open but every byte in both
 *   directions is dropped, as with a dropped route: the node only finds out by its own timeouts.
 *   heal() destroys the silenced connections (bytes were lost, so their Redis protocol stream is
 *   out of step) and new connections reach Redis again.
 */
import { createServer, connect, type Server, type Socket } from "node:net";

export type CutMode = "reset" | "blackhole";

export interface TcpProxyTarget {
  /** Default 127.0.0.1. */
  host?: string;
  port: number;
}

export interface TcpProxy {
  /** The proxy's loopback port. */
  readonly port: number;
  /** `redis://127.0.0.1:PORT`: hand it to the node instead of Redis's own URL. */
  readonly url: string;
  /** The current cut, or undefined while traffic flows. */
  readonly cutMode: CutMode | undefined;
  /** Client connections the proxy holds now (forwarding or silenced). */
  readonly connections: number;
  /** Partitions the node from Redis until heal(); see the file's comment for the two modes. */
  cut(mode?: CutMode): void;
  /** Ends the partition: new connections are forwarded again. */
  heal(): void;
  /** Stops listening and destroys every connection. */
  close(): Promise<void>;
}

interface Link {
  client: Socket;
  upstream: Socket | undefined;
}

export async function startTcpProxy(target: TcpProxyTarget): Promise<TcpProxy> {
  const host = target.host ?? "127.0.0.1";
  const links = new Set<Link>();
  let cutMode: CutMode | undefined;

  const drop = (link: Link) => {
    link.client.destroy();
    link.upstream?.destroy();
    links.delete(link);
  };

  /** Stops forwarding in both directions and discards whatever arrives from now on. */
  const silence = (link: Link) => {
    if (link.upstream !== undefined) {
      link.client.unpipe(link.upstream);
      link.upstream.unpipe(link.client);
      link.upstream.resume();
    }
    link.client.resume();
  };

  const server: Server = createServer((client) => {
    const link: Link = { client, upstream: undefined };
    links.add(link);
    client.on("error", () => drop(link));
    client.on("close", () => drop(link));
    if (cutMode === "reset") {
      client.resetAndDestroy();
      links.delete(link);
      return;
    }
    if (cutMode === "blackhole") {
      silence(link);
      return;
    }
    const upstream = connect({ host, port: target.port });
    link.upstream = upstream;
    // Redis down behind the proxy: the client sees its connection end, as it would without the proxy.
    upstream.on("error", () => drop(link));
    upstream.on("close", () => drop(link));
    client.pipe(upstream);
    upstream.pipe(client);
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  if (typeof address !== "object" || address === null) throw new Error("the proxy has no TCP address");
  const port = address.port;

  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get cutMode() {
      return cutMode;
    },
    get connections() {
      return links.size;
    },
    cut(mode: CutMode = "reset") {
      cutMode = mode;
      for (const link of [...links]) {
        if (mode === "reset") drop(link);
        else silence(link);
      }
    },
    heal() {
      if (cutMode === "blackhole") for (const link of [...links]) drop(link);
      cutMode = undefined;
    },
    close() {
      for (const link of [...links]) drop(link);
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
