/**
 * The runner's server for one client case: the probe server (probe-server.ts) serving discovery,
 * /ws/v1/peers and the HTTP binding with the case's server identity, handing each connection the
 * client opens (a WebSocket, or a handshake begun over HTTP) to the case in order.
 */
import type { Bytes } from "../probe/crypto.ts";
import type { Trace } from "../probe/trace.ts";
import type { ClientConnection } from "./client-case.ts";
import type { ClientListener, StartListener } from "./client-runner.ts";
import { startProbeServer } from "./probe-server.ts";

export async function probeServerListener(options: { serverId: string; identityKey: Bytes; limits?: Record<string, number>; refuseUpgrade?: number; trace?: Trace }): Promise<ClientListener> {
  const ready: ClientConnection[] = [];
  const waiting: ((connection: ClientConnection) => void)[] = [];
  const server = await startProbeServer({
    serverId: options.serverId,
    identityKey: options.identityKey,
    ...(options.limits ? { limits: options.limits } : {}),
    ...(options.refuseUpgrade !== undefined ? { refuseUpgrade: options.refuseUpgrade } : {}),
    ...(options.trace ? { trace: options.trace } : {}),
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
    wire: server.wire,
    close: () => server.close(),
  };
}

/** The listener of every client case: the case's server key (a deliberately bad one for the key cases), limits and upgrade refusal. */
export const startCaseListener: StartListener = (c, setup) =>
  probeServerListener({ serverId: setup.serverId, identityKey: c.serverKey ?? setup.serverIdentity.publicKey, trace: setup.trace, ...(c.limits ? { limits: c.limits } : {}), ...(c.refuseUpgrade !== undefined ? { refuseUpgrade: c.refuseUpgrade } : {}) });
