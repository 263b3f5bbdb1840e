/**
 * The raw baseline: the same `ws` and `node:http` stack as the reference server, with no protocol.
 * Every peer-bench figure is paired with the same load pattern against this server, in the same run.
 *
 *   ws   /echo      echoes every frame
 *   ws   /floor     the protocol floor: opens every sealed record frame and seals it back (floor.ts)
 *   ws   /events    first frame subscribes (answered), then receives every /publish frame
 *   ws   /publish   each frame goes to every /events subscriber; the publisher gets a short ack
 *   http /http?size=N   reads the body, answers a JSON body of exactly N bytes
 *
 * Run as a child process (`node --import tsx raw-echo-server.ts --port 0`, or `node raw-echo-server.js
 * --port 0` from dist/) it prints
 * `raw base http://127.0.0.1:PORT` and serves until SIGTERM/SIGINT.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { resolve } from "node:path";
import type { Duplex } from "node:stream";
import { pathToFileURL } from "node:url";
import { WebSocketServer, type WebSocket } from "ws";
import { FloorResponder } from "./floor.ts";

export interface RawServer {
  url: string;
  close(): Promise<void>;
}

const ACK = '{"type":"ACK"}';
const SUBSCRIBED = '{"type":"SUBSCRIBED"}';

function bodyOfSize(size: number): string {
  const n = Math.max(8, size);
  return `{"d":"${"x".repeat(n - 8)}"}`;
}

export async function startRawServer(options: { host?: string; port?: number } = {}): Promise<RawServer> {
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, clientTracking: false, maxPayload: 64 * 1024 * 1024 });
  const subscribers = new Set<WebSocket>();
  const sockets = new Set<Duplex>();
  const bodies = new Map<number, string>();
  const http: Server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const size = Number(new URL(request.url ?? "/", "http://x").searchParams.get("size") ?? "16");
    request.on("data", () => {});
    request.on("end", () => {
      let body = bodies.get(size);
      if (body === undefined) bodies.set(size, (body = bodyOfSize(Number.isSafeInteger(size) && size > 0 && size < 16 * 1024 * 1024 ? size : 16)));
      response.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body), "cache-control": "no-store" });
      response.end(body);
    });
  });
  http.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  http.on("upgrade", (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = new URL(request.url ?? "/", "http://x").pathname;
    if (path !== "/echo" && path !== "/floor" && path !== "/events" && path !== "/publish") {
      socket.end("HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => {
      ws.on("error", () => {});
      if (path === "/echo") {
        ws.on("message", (data, isBinary) => ws.send(data as Buffer, { binary: isBinary }));
      } else if (path === "/floor") {
        const responder = new FloorResponder();
        ws.on("message", (data) => {
          const answer = responder.answer((data as Buffer).toString());
          if (answer === null) ws.close(1008, "floor record does not open");
          else ws.send(answer);
        });
      } else if (path === "/events") {
        ws.once("message", () => {
          subscribers.add(ws);
          ws.send(SUBSCRIBED);
        });
        ws.on("close", () => subscribers.delete(ws));
      } else {
        ws.on("message", (data, isBinary) => {
          for (const subscriber of subscribers) subscriber.send(data as Buffer, { binary: isBinary });
          ws.send(ACK);
        });
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
  });
  const address = http.address();
  if (!address || typeof address === "string") throw new Error("raw server is not listening");
  return {
    url: `http://${address.family === "IPv6" ? `[${address.address}]` : address.address}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        http.close(() => resolve());
      }),
  };
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href;
if (invokedDirectly) {
  const portFlag = process.argv.indexOf("--port");
  const port = portFlag >= 0 ? Number(process.argv[portFlag + 1]) : 0;
  const server = await startRawServer({ port });
  console.log(`raw base ${server.url}`);
  const stop = () => void server.close().then(() => process.exit(0));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}
