/**
 * The runner's server for one client case: the probe server (probe-server.ts) serving discovery and
 * /ws/v1/peers with the case's server identity, handing each connection the client opens to the
 * case in order.
 */
import type { Bytes } from "../probe/crypto.ts";
import type { ClientConnection } from "./client-case.ts";
import type { ClientListener, StartListener } from "./client-runner.ts";
import { startProbeServer } from "./probe-server.ts";

export async function probeServerListener(options: { serverId: string; identityKey: Bytes; limits?: Record<string, number> }): Promise<ClientListener> {
  const ready: ClientConnection[] = [];
  const waiting: ((connection: ClientConnection) => void)[] = [];
  const server = await startProbeServer({
    serverId: options.serverId,
    identityKey: options.identityKey,
    ...(options.limits ? { limits: options.limits } : {}),
    onConnection(transport, request) {
      const connection = { transport, path: request.url ?? "/" };
      const waiter = waiting.shift();
      if (waiter) waiter(connection);
      else ready.push(connection);
    },
  });
  return {
    url: `${server.url.replace(/^http/, "ws")}/ws/v1/peers`,
    nextConnection(timeoutMs) {
      const queued = ready.shift();
      if (queued) return Promise.resolve(queued);
      return new Promise((resolve) => {
        const waiter = (connection: ClientConnection) => {
          clearTimeout(timer);
          resolve(connection);
        };
        const timer = setTimeout(() => {
          waiting.splice(waiting.indexOf(waiter), 1);
          resolve(null);
        }, timeoutMs);
        waiting.push(waiter);
      });
    },
    close: () => server.close(),
  };
}

/** The listener of every client case: the case's server key (a deliberately bad one for the key cases) and limits. */
export const startCaseListener: StartListener = (c, setup) => probeServerListener({ serverId: setup.serverId, identityKey: c.serverKey ?? setup.serverIdentity.publicKey, ...(c.limits ? { limits: c.limits } : {}) });
