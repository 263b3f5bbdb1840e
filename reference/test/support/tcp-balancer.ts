/**
 * A loopback TCP load balancer in front of the nodes of a cluster, for the kill-a-node chaos test:
 * clients connect to one address, and each new connection goes to the next live node, round robin.
 * It knows nothing of Peer Protocol: it forwards bytes, as an L4 balancer without sticky sessions
 * does (docs/guides/deployment.md: none are needed, because a resume works on any node).
 *
 *   const balancer = await startTcpBalancer([node1.port, node2.port]);
 *   PeerClient.connect({ url: balancer.url, ... });   // lands on node1, the next one on node2
 *   balancer.setBackends([node2.port]);               // node1 was killed: new connections skip it
 *
 * - A connection whose node dies dies with it (its client sees the close and reconnects); the
 *   balancer never moves a live connection.
 * - A node that refuses a new connection (it was killed and nobody told the balancer yet) is
 *   skipped: the connection goes to the next node, as a balancer's passive health check would do.
 *   Only when every node refuses is the client's connection dropped.
 */
import { connect, createServer, type Server, type Socket } from "node:net";

export interface TcpBalancer {
  /** The balancer's loopback port. */
  readonly port: number;
  /** `http://127.0.0.1:PORT`: what a PeerClient takes as its server URL. */
  readonly url: string;
  /** The node the latest forwarded connection went to (its port), once its node accepted it. */
  readonly lastRoute: number | undefined;
  /** Connections accepted, forwarded, refused by a node (then tried on the next), and dropped because every node refused. */
  readonly stats: { accepted: number; forwarded: number; refusedByNode: number; dropped: number };
  /** The nodes new connections go to, in round-robin order from the first; live connections are untouched. */
  setBackends(ports: readonly number[]): void;
  /** Stops listening and destroys every connection. */
  close(): Promise<void>;
}

export async function startTcpBalancer(initialBackends: readonly number[]): Promise<TcpBalancer> {
  let backends = [...initialBackends];
  let nextIndex = 0;
  let lastRoute: number | undefined;
  const stats = { accepted: 0, forwarded: 0, refusedByNode: 0, dropped: 0 };
  const sockets = new Set<Socket>();

  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  };

  const server: Server = createServer({ pauseOnConnect: true }, (client) => {
    stats.accepted++;
    track(client);
    let upstream: Socket | undefined;
    client.on("error", () => {}); // its close follows
    client.once("close", () => upstream?.destroy());
    const order = [...backends];
    const start = order.length === 0 ? 0 : nextIndex++ % order.length;

    /** Tries the nodes in round-robin order, each once; the client's bytes wait (paused) meanwhile. */
    const tryNode = (tried: number) => {
      if (client.destroyed) return;
      if (tried >= order.length) {
        stats.dropped++;
        client.destroy();
        return;
      }
      const port = order[(start + tried) % order.length] as number;
      const attempt = connect({ host: "127.0.0.1", port });
      upstream = attempt;
      track(attempt);
      let connected = false;
      attempt.once("connect", () => {
        connected = true;
        stats.forwarded++;
        lastRoute = port;
        client.pipe(attempt);
        attempt.pipe(client);
      });
      // Before "connect": the node refused (it is dead), try the next. After: the node's end of the
      // connection is gone (it died, or closed it), so the client's goes too.
      attempt.once("error", () => {
        if (connected) return client.destroy();
        stats.refusedByNode++;
        tryNode(tried + 1);
      });
      attempt.once("close", () => {
        if (connected) client.destroy();
      });
    };
    tryNode(0);
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  if (typeof address !== "object" || address === null) throw new Error("the balancer has no TCP address");
  const port = address.port;

  return {
    port,
    url: `http://127.0.0.1:${port}`,
    get lastRoute() {
      return lastRoute;
    },
    stats,
    setBackends(ports) {
      backends = [...ports];
      nextIndex = 0;
    },
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
