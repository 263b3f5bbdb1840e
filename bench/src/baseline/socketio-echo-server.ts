/**
 * The Socket.IO baseline (issue 15): what a user would pick instead of Peer Protocol. An `echo` event
 * is answered through Socket.IO's acknowledgement with the same argument, the request/response idiom
 * of Socket.IO. The server runs with its defaults, except that clients connect over WebSocket only
 * (no HTTP long-polling first) and large payloads are allowed, so the echo measures steady-state
 * messaging on the same transport as the other servers.
 *
 * `socket.io` is a devDependency: an installed `peer-bench` without it reports the baseline as
 * missing instead of failing. Run as a child process (`node --import tsx socketio-echo-server.ts
 * --port 0`, or the .js from dist/) it prints `socket.io base http://127.0.0.1:PORT` and serves until
 * SIGTERM/SIGINT.
 */
import { createServer, type Server } from "node:http";
import { resolve } from "node:path";
import type { Duplex } from "node:stream";
import { pathToFileURL } from "node:url";

export interface SocketIoServer {
  url: string;
  close(): Promise<void>;
}

/** The event the client emits and the server acknowledges. */
export const ECHO_EVENT = "echo";

export async function startSocketIoServer(options: { host?: string; port?: number } = {}): Promise<SocketIoServer> {
  const { Server: IoServer } = await import("socket.io");
  const http: Server = createServer();
  const sockets = new Set<Duplex>();
  http.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  const io = new IoServer(http, { transports: ["websocket"], maxHttpBufferSize: 64 * 1024 * 1024, perMessageDeflate: false, serveClient: false });
  io.on("connection", (socket) => {
    socket.on(ECHO_EVENT, (data: unknown, ack?: (data: unknown) => void) => {
      if (typeof ack === "function") ack(data);
    });
  });
  await new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
  });
  const address = http.address();
  if (!address || typeof address === "string") throw new Error("socket.io server is not listening");
  return {
    url: `http://${address.family === "IPv6" ? `[${address.address}]` : address.address}:${address.port}`,
    close: async () => {
      io.disconnectSockets(true);
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => void io.close(() => resolve()));
    },
  };
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href;
if (invokedDirectly) {
  const portFlag = process.argv.indexOf("--port");
  const port = portFlag >= 0 ? Number(process.argv[portFlag + 1]) : 0;
  const server = await startSocketIoServer({ port });
  console.log(`socket.io base ${server.url}`);
  const stop = () => void server.close().then(() => process.exit(0));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}
